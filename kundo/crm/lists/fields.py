"""The fields a list can filter, sort and export: standard columns and custom properties.

One catalogue serves the list API, saved views, bulk actions and the CSV export, so a
filter that works in one place works in all. A field knows its type (which decides
the operators), the SQL it compares, and how to sort by it. The SQL expressions
repeat the index expressions of the tenant migration on purpose: the trigram,
tag and jsonb indexes are only used when a query names exactly what they index.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Numeric, String, Text, and_, case, cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import ConsentStatus, Contact, ContactEmail, LifecycleStage
from kundo.crm.properties.models import PropertyDefinition, PropertyType
from kundo.crm.properties.service import definitions_for

OBJECT_TYPES = ("contact", "company")
CUSTOM_PREFIX = "custom."


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    ENUM = "enum"
    BOOLEAN = "boolean"
    TAGS = "tags"
    OWNER = "owner"


class SortKind(enum.StrEnum):
    """How a sort value travels through a cursor (always as text, parsed back by kind)."""

    TEXT = "text"
    INTEGER = "integer"
    TIMESTAMP = "timestamp"
    JSON = "json"


class UnknownFieldError(ValueError):
    """A field name that is neither a standard column nor a custom property."""


def _identity(predicate: ColumnElement) -> ColumnElement:
    return predicate


@dataclass(frozen=True)
class TextTarget:
    """Where a text operator looks: a lower-cased value and how a match reaches the row.

    `wrap` turns a predicate on `lowered` into one on the listed row — identity for a
    column, EXISTS for "any of the contact's e-mails", IN for the primary company.
    Phone numbers compare digits only (`digits`), so "+49 30 1234" finds "030/1234".
    """

    lowered: ColumnElement
    wrap: Callable[[ColumnElement], ColumnElement] = _identity
    digits: bool = False


@dataclass(frozen=True)
class ListField:
    key: str
    type: FieldType
    label: str
    #: The compared value for every type but text (which uses `text`).
    value: ColumnElement | None = None
    text: TextTarget | None = None
    #: Allowed values of an enum.
    choices: tuple[str, ...] = ()
    #: True for custom date properties (calendar days), False for timestamps.
    date_only: bool = False
    #: The `custom` JSONB column and key, for containment tests the GIN index answers.
    custom_column: ColumnElement | None = None
    custom_key: str | None = None
    sort: ColumnElement | None = None
    sort_kind: SortKind | None = None
    sort_nullable: bool = True
    #: Adds the join `sort` needs; the rows it drops are those `sort_missing` selects.
    sort_join: Callable[[Select], Select] | None = None
    sort_missing: Callable[[], ColumnElement] | None = None

    @property
    def sortable(self) -> bool:
        return self.sort is not None

    def sorting_rows(self, query: Select) -> Select:
        """The rows that have a sort value (the first phase of a keyset walk)."""
        query = self.sort_join(query) if self.sort_join else query
        return query.where(self.sort.is_not(None)) if self.sort_nullable else query

    def rows_without_value(self, query: Select) -> Select:
        """The rows without a sort value, listed last (by id)."""
        return query.where(self.sort_missing() if self.sort_missing else self.sort.is_(None))

    def contains_json(self, value) -> ColumnElement:
        """`custom @> {"key": value}`: exact match, answered by the jsonb_path_ops index."""
        return self.custom_column.contains({self.custom_key: value})


@dataclass(frozen=True)
class FieldCatalog:
    """The fields of one object type in one tenant (standard plus its custom properties)."""

    object_type: str
    model: type
    fields: dict[str, ListField]

    def get(self, key: str) -> ListField:
        try:
            return self.fields[key]
        except KeyError:
            raise UnknownFieldError(
                f"Unknown field “{key}”. Use one of: {', '.join(self.fields)}."
            ) from None


def _text_field(key: str, label: str, column, *, sortable: bool = True) -> ListField:
    lowered = func.lower(column)
    return ListField(key, FieldType.TEXT, label, text=TextTarget(lowered),
                     sort=lowered if sortable else None, sort_kind=SortKind.TEXT)


def _timestamp_field(key: str, label: str, column) -> ListField:
    return ListField(key, FieldType.DATE, label, value=column, sort=column, sort_kind=SortKind.TIMESTAMP,
                     sort_nullable=False)


def _enum_field(key: str, label: str, column, choices) -> ListField:
    return ListField(key, FieldType.ENUM, label, value=column, choices=tuple(choices), sort=column,
                     sort_kind=SortKind.TEXT)


def _owner_field(column) -> ListField:
    return ListField("owner_id", FieldType.OWNER, _l("Owner"), value=column, sort=column, sort_kind=SortKind.INTEGER)


#: SQL constants written inline, not as bound parameters: an expression index only
#: matches a query whose expression has the same constants once a plan is generic.
_EMPTY, _SPACE = literal_column("''", String), literal_column("' '", String)

#: The same expression as the index ix_contacts_name_trgm.
CONTACT_NAME = func.lower(func.coalesce(Contact.first_name, _EMPTY) + _SPACE + func.coalesce(Contact.last_name, _EMPTY))


#: The same expression as the index ix_companies_domain_trgm.
COMPANY_DOMAIN = func.lower(func.coalesce(Company.domain, _EMPTY))


def _any_contact_email(predicate: ColumnElement) -> ColumnElement:
    return exists().where(ContactEmail.contact_id == Contact.id, predicate)


def _primary_company(predicate: ColumnElement) -> ColumnElement:
    return Contact.primary_company_id.in_(select(Company.id).where(predicate))


# Sorting by e-mail or company joins the primary address or company under an alias
# (a filter's own EXISTS on the same table must not correlate with the join): the
# first page then walks uq_contact_emails_lower or ix_companies_name_sort in order.
SORT_EMAIL = aliased(ContactEmail, name="sort_email")
SORT_COMPANY = aliased(Company, name="sort_company")


def _join_primary_email(query: Select) -> Select:
    return query.join(SORT_EMAIL, and_(SORT_EMAIL.contact_id == Contact.id, SORT_EMAIL.is_primary.is_(True)))


def _without_primary_email() -> ColumnElement:
    return ~exists().where(ContactEmail.contact_id == Contact.id, ContactEmail.is_primary.is_(True))


def _join_primary_company(query: Select) -> Select:
    return query.join(SORT_COMPANY, SORT_COMPANY.id == Contact.primary_company_id)


def _without_primary_company() -> ColumnElement:
    return Contact.primary_company_id.is_(None)


def _contact_fields() -> list[ListField]:
    return [
        ListField("name", FieldType.TEXT, _l("Name"), text=TextTarget(CONTACT_NAME), sort=CONTACT_NAME,
                  sort_kind=SortKind.TEXT),
        _text_field("first_name", _l("First name"), Contact.first_name),
        _text_field("last_name", _l("Last name"), Contact.last_name),
        ListField("email", FieldType.TEXT, _l("E-mail"),
                  text=TextTarget(func.lower(ContactEmail.email), _any_contact_email),
                  sort=func.lower(SORT_EMAIL.email), sort_kind=SortKind.TEXT, sort_join=_join_primary_email,
                  sort_missing=_without_primary_email),
        ListField("phone", FieldType.TEXT, _l("Phone"), text=TextTarget(Contact.phone_digits, digits=True),
                  sort=Contact.phones[1], sort_kind=SortKind.TEXT),
        _text_field("job_title", _l("Job title"), Contact.job_title),
        _owner_field(Contact.owner_id),
        _enum_field("lifecycle_stage", _l("Lifecycle stage"), Contact.lifecycle_stage, LifecycleStage),
        _text_field("lead_status", _l("Lead status"), Contact.lead_status),
        _text_field("source", _l("Source"), Contact.source),
        ListField("tags", FieldType.TAGS, _l("Tags"), value=Contact.tags),
        _enum_field("consent_status", _l("Consent"), Contact.consent_status, ConsentStatus),
        ListField("company", FieldType.TEXT, _l("Company"),
                  text=TextTarget(func.lower(Company.name), _primary_company),
                  sort=func.lower(SORT_COMPANY.name), sort_kind=SortKind.TEXT, sort_join=_join_primary_company,
                  sort_missing=_without_primary_company),
        _timestamp_field("created_at", _l("Created"), Contact.created_at),
        _timestamp_field("updated_at", _l("Updated"), Contact.updated_at),
    ]


def _company_fields() -> list[ListField]:
    return [
        # Both expressions are those of ix_companies_name_trgm and ix_companies_domain_trgm.
        ListField("name", FieldType.TEXT, _l("Name"), text=TextTarget(func.lower(Company.name)),
                  sort=func.lower(Company.name), sort_kind=SortKind.TEXT),
        ListField("domain", FieldType.TEXT, _l("Domain"),
                  text=TextTarget(COMPANY_DOMAIN),
                  sort=func.lower(Company.domain), sort_kind=SortKind.TEXT),
        _text_field("industry", _l("Industry"), Company.industry),
        ListField("size", FieldType.NUMBER, _l("Size"), value=Company.size, sort=Company.size,
                  sort_kind=SortKind.INTEGER),
        _text_field("city", _l("City"), Company.city),
        _text_field("country", _l("Country"), Company.country),
        _text_field("phone", _l("Phone"), Company.phone),
        _owner_field(Company.owner_id),
        _timestamp_field("created_at", _l("Created"), Company.created_at),
        _timestamp_field("updated_at", _l("Updated"), Company.updated_at),
    ]


_MODELS = {"contact": Contact, "company": Company}
_STANDARD = {"contact": _contact_fields, "company": _company_fields}
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def custom_field(model, definition: PropertyDefinition) -> ListField:
    """The list field of one custom property, compared with jsonb casts by its type.

    Casts are guarded by the JSON type, so a stray value of another type (written
    before a property changed type) reads as empty instead of failing the query.
    Sorting uses the jsonb value itself: jsonb orders numbers numerically and ISO
    dates as text, so one expression (and one possible index) serves every type.
    """
    key = definition.key
    if not _KEY.match(key):
        raise UnknownFieldError(f"The custom property key “{key}” cannot be used in a list.")
    # `custom -> 'key'` with the key inline (it is checked above): per-property sort
    # indexes (kundo.crm.lists.sort_indexes) index exactly this expression.
    name = literal_column(f"'{key}'", String)
    node = model.custom.op("->", return_type=JSONB)(name)
    text = model.custom.op("->>", return_type=Text)(name)
    field_key = CUSTOM_PREFIX + key
    common = {"custom_column": model.custom, "custom_key": key, "sort": node, "sort_kind": SortKind.JSON}
    kind = PropertyType(definition.type)
    if kind == PropertyType.NUMBER:
        number = case((func.jsonb_typeof(node) == "number", cast(text, Numeric)))
        return ListField(field_key, FieldType.NUMBER, definition.label, value=number, **common)
    if kind == PropertyType.DATE:
        day = case((and_(func.jsonb_typeof(node) == "string", text.regexp_match(_ISO_DATE)), cast(text, Date)))
        return ListField(field_key, FieldType.DATE, definition.label, value=day, date_only=True, **common)
    if kind == PropertyType.ENUM:
        choices = tuple(str(option["value"]) for option in definition.options or [])
        return ListField(field_key, FieldType.ENUM, definition.label, value=text, choices=choices, **common)
    if kind == PropertyType.BOOLEAN:
        return ListField(field_key, FieldType.BOOLEAN, definition.label, value=node, **common)
    return ListField(field_key, FieldType.TEXT, definition.label, text=TextTarget(func.lower(text)), **common)


def catalog_for(session: Session, object_type: str) -> FieldCatalog:
    """Every field of `object_type` in the session's tenant, custom properties included."""
    if object_type not in _MODELS:
        raise UnknownFieldError(f"Unknown object type “{object_type}”. Use one of: {', '.join(OBJECT_TYPES)}.")
    model = _MODELS[object_type]
    fields = {field.key: field for field in _STANDARD[object_type]()}
    for definition in definitions_for(session, object_type).values():
        field = custom_field(model, definition)
        fields[field.key] = field
    return FieldCatalog(object_type, model, fields)

