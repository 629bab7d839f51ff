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

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundo.crm.properties.models import PropertyDefinition, PropertyType

OBJECT_TYPES = ("contact", "company")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


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
) -> dict:
    """Merge `values` into `existing` after checking each against its definition.

    Unknown keys, wrong types and missing required values are all reported at once,
    keyed by property, so an API client or a form can show every problem together.
    `definitions` can be passed in by callers validating many rows (the import).
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
        if definition.required and result.get(key) is None and key not in errors:
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
