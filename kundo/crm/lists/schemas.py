"""Marshmallow schemas of the list, export, bulk, saved view and search API."""

from __future__ import annotations

import json

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kundo.crm.lists.bulk import MAX_IDS, BulkAction
from kundo.crm.lists.fields import OBJECT_TYPES
from kundo.platform.api_pagination import PageArgsSchema

_BIGINT_MAX = 2**63 - 1

FILTER_DESCRIPTION = (
    "The filter, as JSON in this one query parameter (URL-encoded): a list of conditions that must all hold, "
    'e.g. `[{"field":"lifecycle_stage","op":"eq","value":"lead"},{"field":"custom.score","op":"gt","value":50}]`. '
    'An item `{"any":[condition, …]}` holds when one of its conditions does. Fields: the standard columns '
    "(contacts: name, first_name, last_name, email, phone, job_title, owner_id, lifecycle_stage, lead_status, "
    "source, tags, consent_status, company, created_at, updated_at; companies: name, domain, industry, size, city, "
    "country, phone, owner_id, created_at, updated_at) and `custom.<key>` for every custom property. Operators by "
    "type — text: eq, neq, contains, starts_with, is_empty, is_not_empty; number: eq, neq, lt, lte, gt, gte, "
    "between ([from, to]), is_empty, is_not_empty; date: on, before, after, between, in_last_days, is_empty, "
    "is_not_empty (dates as 2026-03-31; days in the workspace's time zone); enum: eq, neq, in, not_in, is_empty, "
    "is_not_empty; boolean: is (true/false, unset counts as false); tags: has, has_any, has_none; owner_id: is "
    "(a user id or a list), is_none, me. Text compares ignoring case. An unknown field, operator or bad value "
    "answers 422 naming it."
)
SORT_DESCRIPTION = (
    "A field to sort by — any standard column or `custom.<key>` — prefixed with `-` for descending; ties are "
    "broken by id, empty values come last. Default `-created_at`."
)


class FilterField(fields.Field):
    """A filter sent as JSON text (query string) or as a JSON list (request bodies)."""

    default_error_messages = {
        "invalid": "Send the filter as a JSON list of conditions, e.g. "
                   '[{{"field":"name","op":"contains","value":"anna"}}].',
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise self.make_error("invalid") from error
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class ListQueryArgsSchema(PageArgsSchema):
    filter = FilterField(load_default=None, metadata={"description": FILTER_DESCRIPTION, "type": "string"})
    sort = fields.String(load_default=None, validate=validate.Length(max=100),
                         metadata={"description": SORT_DESCRIPTION})
    view = fields.Integer(load_default=None, validate=validate.Range(min=1, max=_BIGINT_MAX),
                          metadata={"description": "A saved view's id: its filter and sort apply; `filter` adds "
                                                   "conditions, `sort` replaces its sort."})


class ContactListItemSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True, metadata={"description": "The primary e-mail address."})
    phone = fields.String(allow_none=True, metadata={"description": "The first phone number."})
    job_title = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True, metadata={"description": "The primary company's id."})
    company_name = fields.String(allow_none=True, metadata={"description": "The primary company's name."})
    lifecycle_stage = fields.String(allow_none=True)
    lead_status = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    consent_status = fields.String()
    custom = fields.Dict(metadata={"description": "Custom property values by key."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CompanyListItemSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    domain = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    custom = fields.Dict(metadata={"description": "Custom property values by key."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


_NEXT = {"description": "Pass as `cursor` for the next page; null on the last."}


class ContactPageSchema(Schema):
    items = fields.List(fields.Nested(ContactListItemSchema))
    next_cursor = fields.String(allow_none=True, metadata=_NEXT)


class CompanyPageSchema(Schema):
    items = fields.List(fields.Nested(CompanyListItemSchema))
    next_cursor = fields.String(allow_none=True, metadata=_NEXT)


class ExportQueryArgsSchema(Schema):
    filter = FilterField(load_default=None, metadata={"description": FILTER_DESCRIPTION, "type": "string"})
    sort = fields.String(load_default=None, validate=validate.Length(max=100),
                         metadata={"description": SORT_DESCRIPTION})
    view = fields.Integer(load_default=None, validate=validate.Range(min=1, max=_BIGINT_MAX),
                          metadata={"description": "A saved view's id: its filter, sort and columns apply."})
    columns = fields.String(load_default=None, validate=validate.Length(max=2000),
                            metadata={"description": "Comma-separated columns, e.g. `name,email,custom.score`; "
                                                     "default: the view's columns, else the standard ones."})
    delimiter = fields.String(load_default="comma", validate=validate.OneOf(("comma", "semicolon")),
                              metadata={"description": "`semicolon` for German Excel, which splits on `;`."})


class BulkActionSchema(Schema):
    action = fields.Enum(BulkAction, by_value=True, required=True)
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=_BIGINT_MAX)), load_default=None,
                      validate=validate.Length(min=1, max=MAX_IDS),
                      metadata={"description": f"The contacts to change (at most {MAX_IDS}); or use `filter`."})
    filter = FilterField(load_default=None, metadata={
        "description": "Every contact this list filter matches (same language as `GET /contacts`).",
        "type": "array", "items": {"type": "object"}})
    value = fields.Raw(load_default=None, allow_none=True, metadata={
        "description": "assign_owner: a member's user id (null removes the owner); add_tag/remove_tag: the tag."})
    confirm = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "delete only: the number of contacts that will be deleted. Without it (or with another "
                       "number) the answer is 409 with the number to send."})

    @validates_schema
    def _one_selection(self, data, **kwargs):
        if (data.get("ids") is None) == (data.get("filter") is None):
            raise ValidationError("Send either `ids` or `filter`.", "ids")


class BulkResultSchema(Schema):
    action = fields.Enum(BulkAction, by_value=True)
    matched = fields.Integer(metadata={"description": "Contacts the selection matched."})
    changed = fields.Integer(metadata={"description": "Contacts changed or deleted (one event each)."})


class SavedViewSchema(Schema):
    id = fields.Integer(dump_only=True)
    object_type = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    owner_id = fields.Integer(dump_only=True, allow_none=True)
    shared = fields.Boolean(dump_only=True)
    filters = fields.Raw(dump_only=True, attribute="definition.filters")
    sort = fields.String(dump_only=True, attribute="definition.sort", allow_none=True)
    columns = fields.List(fields.String(), dump_only=True, attribute="definition.columns")
    created_at = fields.DateTime(dump_only=True)


class SavedViewPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    shared = fields.Boolean(metadata={"description": "Shared views are visible to the whole workspace."})
    filters = FilterField(metadata={"description": "A list filter (see `GET /contacts`).",
                                    "type": "array", "items": {"type": "object"}})
    sort = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={"description": SORT_DESCRIPTION})
    columns = fields.List(fields.String(validate=validate.Length(max=100)), validate=validate.Length(max=100),
                          metadata={"description": "Columns the list and its export show."})


class SavedViewCreateSchema(SavedViewPatchSchema):
    object_type = fields.String(required=True, validate=validate.OneOf(OBJECT_TYPES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class SavedViewQueryArgsSchema(Schema):
    object_type = fields.String(load_default=None, validate=validate.OneOf(OBJECT_TYPES),
                                metadata={"description": "Only views of this object type."})


class SearchQueryArgsSchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=2, max=200),
                      metadata={"description": "A name, e-mail, domain or phone number — typos are tolerated."})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50),
                           metadata={"description": "Hits per kind (contacts, companies)."})


class SearchHitSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    domain = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True)
    matched = fields.String(metadata={"description": "What matched: name, email, phone or domain."})
    score = fields.Float(metadata={"description": "Similarity from 0 to 1; hits come best first."})


class SearchResultSchema(Schema):
    contacts = fields.List(fields.Nested(SearchHitSchema))
    companies = fields.List(fields.Nested(SearchHitSchema))
