"""Custom property definitions and the validation every write goes through.

Values live in the object's `custom` JSONB column, keyed by the definition's key.
`validate_custom_values` is the single gate: the API, the pages, the import and
hubs all call it, so a value that passes once passes everywhere.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact
from kundo.crm.properties.models import PropertyDefinition, PropertyType
from kundo.platform.events import emit_event

OBJECT_TYPES = ("contact", "company")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


#: Where each object type keeps its values.
VALUE_MODELS = {"contact": Contact, "company": Company}
#: What a definition may change after creation; key and type stay, since stored values depend on them.
CHANGEABLE = frozenset({"label", "options", "required", "position"})


class PropertyValidationError(ValueError):
    """`errors` maps each offending property key to a message for the person."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


def definitions_for(session: Session, object_type: str) -> dict[str, PropertyDefinition]:
    rows = session.scalars(
        select(PropertyDefinition)
        .where(PropertyDefinition.object_type == object_type)
        .order_by(PropertyDefinition.position, PropertyDefinition.id)
    )
    return {row.key: row for row in rows}


def coerce_value(definition: PropertyDefinition, value):
    """The stored (JSON) form of `value`, or ValueError with a message for the person."""
    if value is None or value == "":
        return None
    kind = PropertyType(definition.type)
    if kind == PropertyType.TEXT:
        text = str(value)
        if len(text) > 10_000:
            raise ValueError("Text is too long (at most 10,000 characters).")
        return text
    if kind == PropertyType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("Expected a number.")
        try:
            number = Decimal(str(value).strip().replace(",", ".") if isinstance(value, str) else str(value))
        except InvalidOperation as error:
            raise ValueError(f"Expected a number, got “{value}”.") from error
        if not number.is_finite():
            raise ValueError("Expected a finite number.")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == PropertyType.DATE:
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        for parse in (date.fromisoformat, _german_date):
            try:
                return parse(text).isoformat()
            except ValueError:
                continue
        raise ValueError(f"Expected a date like 2026-03-31 or 31.03.2026, got “{value}”.")
    if kind == PropertyType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "ja", "1", "x", "wahr"}:
            return True
        if text in {"false", "no", "nein", "0", "falsch"}:
            return False
        raise ValueError(f"Expected yes or no, got “{value}”.")
    if kind == PropertyType.ENUM:
        allowed = {str(option["value"]) for option in definition.options or []}
        if str(value) not in allowed:
            raise ValueError(f"“{value}” is not one of: {', '.join(sorted(allowed))}.")
        return str(value)
    if kind == PropertyType.URL:
        text = str(value).strip()
        parts = urlsplit(text if "://" in text else f"https://{text}")
        if parts.scheme not in {"http", "https"} or not parts.netloc or "." not in parts.netloc:
            raise ValueError(f"Expected a web address like https://example.com, got “{value}”.")
        return parts.geturl()
    raise ValueError(f"Unknown property type {definition.type}.")


def _german_date(text: str) -> date:
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if not match:
        raise ValueError(text)
    day, month, year = (int(part) for part in match.groups())
    return date(year, month, day)


def validate_custom_values(
    session: Session,
    object_type: str,
    values: dict,
    *,
    existing: dict | None = None,
    definitions: dict[str, PropertyDefinition] | None = None,
    check_required: bool = True,
) -> dict:
    """Merge `values` into `existing` after checking each against its definition.

    Unknown keys, wrong types and missing required values are all reported at once,
    keyed by property, so an API client or a form can show every problem together.
    `definitions` can be passed in by callers validating many rows (the import).
    `check_required=False` is for records made by machines (the matcher creating a
    contact from an inbound e-mail): a required property is a rule for people
    entering data, not a reason to lose the e-mail.
    """
    definitions = definitions if definitions is not None else definitions_for(session, object_type)
    result = dict(existing or {})
    errors: dict[str, str] = {}
    for key, value in (values or {}).items():
        definition = definitions.get(key)
        if definition is None:
            errors[key] = "Unknown property. Create it under Settings → Properties first."
            continue
        try:
            coerced = coerce_value(definition, value)
        except ValueError as error:
            errors[key] = str(error)
            continue
        if coerced is None:
            result.pop(key, None)
        else:
            result[key] = coerced
    for key, definition in definitions.items():
        if check_required and definition.required and result.get(key) is None and key not in errors:
            errors[key] = "This property is required."
    if errors:
        raise PropertyValidationError(errors)
    return result


def validate_definition(object_type: str, key: str, label: str, type_: str, options: list | None) -> None:
    """Refuse a definition that could not be used, with a message per field."""
    errors = {}
    if object_type not in OBJECT_TYPES:
        errors["object_type"] = f"Use one of: {', '.join(OBJECT_TYPES)}."
    if not _KEY.match(key or ""):
        errors["key"] = "Use lower-case letters, digits and underscores, starting with a letter."
    if not (label or "").strip():
        errors["label"] = "Give the property a label."
    if type_ not in {t.value for t in PropertyType}:
        errors["type"] = f"Use one of: {', '.join(t.value for t in PropertyType)}."
    if type_ == PropertyType.ENUM and not options:
        errors["options"] = "A choice property needs at least one option."
    if errors:
        raise PropertyValidationError(errors)


class PropertyNotFound(LookupError):
    def __init__(self, object_type: str, key: str):
        super().__init__(_("There is no %(type)s property “%(key)s”. Check the key under Settings → Properties.",
                           type=object_type, key=key))


class PropertyInUseError(ValueError):
    """A change that would leave stored values invalid (an enum option still in use)."""


def normalise_options(options) -> list[dict]:
    """Enum options as [{"value", "label"}]; plain strings are their own label."""
    result, seen = [], set()
    for option in options or []:
        if isinstance(option, str):
            option = {"value": option, "label": option}
        if not isinstance(option, dict):
            raise PropertyValidationError({"options": _("Give each option as a value and a label.")})
        value = str(option.get("value") or "").strip()
        label = str(option.get("label") or value).strip()
        if not value or len(value) > 100 or len(label) > 200:
            raise PropertyValidationError({"options": _("Each option needs a value of 1–100 characters.")})
        if value in seen:
            raise PropertyValidationError({"options": _("The option “%(value)s” is listed twice.", value=value)})
        seen.add(value)
        result.append({"value": value, "label": label})
    return result


def get_definition(session: Session, object_type: str, key: str) -> PropertyDefinition:
    definition = session.scalar(select(PropertyDefinition).where(
        PropertyDefinition.object_type == object_type, PropertyDefinition.key == key))
    if definition is None:
        raise PropertyNotFound(object_type, key)
    return definition


def create_definition(session: Session, object_type: str, *, key: str, label: str, type: str,  # noqa: A002
                      options=None, required: bool = False, position: int | None = None) -> PropertyDefinition:
    """Add a custom property; its key is how API clients and imports address the value."""
    validate_definition(object_type, key, label, type, options)
    if type != PropertyType.ENUM and options:
        raise PropertyValidationError({"options": _("Only choice properties have options.")})
    if position is None:
        position = (session.scalar(select(func.max(PropertyDefinition.position))
                                   .where(PropertyDefinition.object_type == object_type)) or 0) + 1
    definition = PropertyDefinition(object_type=object_type, key=key, label=label.strip(), type=type,
                                    options=normalise_options(options), required=bool(required), position=position)
    taken = PropertyValidationError({"key": _("A %(type)s property with the key “%(key)s” exists already. Choose "
                                              "another key.", type=object_type, key=key)})
    if session.scalar(select(PropertyDefinition.id).where(PropertyDefinition.object_type == object_type,
                                                          PropertyDefinition.key == key)) is not None:
        raise taken
    try:
        with session.begin_nested():
            session.add(definition)
            session.flush()
    except IntegrityError as error:  # created by a concurrent request since the check
        raise taken from error
    _announce(session, "property.created", definition)
    return definition


def _announce(session: Session, event_type: str, definition: PropertyDefinition) -> None:
    """property.created / property.deleted, in the change's transaction: the sort-index job follows from it."""
    emit_event(session, event_type, object_type="property", object_id=definition.id,
               payload={"object_type": definition.object_type, "key": definition.key, "type": definition.type})


def update_definition(session: Session, object_type: str, key: str, **changes) -> PropertyDefinition:
    """Change label, options, required or position; refuses to drop an option still in use."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise PropertyValidationError({name: _("This cannot be changed; delete the property and create it anew.")
                                       for name in sorted(unknown)})
    definition = get_definition(session, object_type, key)
    if "label" in changes:
        if not (changes["label"] or "").strip():
            raise PropertyValidationError({"label": _("Give the property a label.")})
        definition.label = changes["label"].strip()
    if "options" in changes:
        if definition.type != PropertyType.ENUM:
            raise PropertyValidationError({"options": _("Only choice properties have options.")})
        options = normalise_options(changes["options"])
        if not options:
            raise PropertyValidationError({"options": _("A choice property needs at least one option.")})
        kept = {option["value"] for option in options}
        for option in definition.options or []:
            if option["value"] not in kept and (used := count_values(session, object_type, key, option["value"])):
                raise PropertyInUseError(_(
                    "The option “%(value)s” is still set on %(count)s records. Change them first, then remove "
                    "the option.", value=option["value"], count=used))
        definition.options = options
    if "required" in changes:
        definition.required = bool(changes["required"])
    if "position" in changes:
        definition.position = int(changes["position"])
    session.flush()
    return definition


def count_values(session: Session, object_type: str, key: str, value=None) -> int:
    """How many records have a value for `key` (or exactly `value`)."""
    model = VALUE_MODELS[object_type]
    condition = model.custom.has_key(key) if value is None else model.custom.contains({key: value})
    return session.scalar(select(func.count()).select_from(model).where(condition))


def delete_definition(session: Session, object_type: str, key: str) -> int:
    """Remove the property and its value from every record; returns how many records had one."""
    definition = get_definition(session, object_type, key)
    model = VALUE_MODELS[object_type]
    removed = session.execute(
        update(model).where(model.custom.has_key(key))
        .values(custom=model.custom.op("-")(bindparam("dropped_key", key, type_=String)))
        .execution_options(synchronize_session="fetch")
    ).rowcount
    _announce(session, "property.deleted", definition)
    session.delete(definition)
    session.flush()
    return removed
