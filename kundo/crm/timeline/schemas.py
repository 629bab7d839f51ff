"""Marshmallow schemas of the timeline API."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from kundo.crm.timeline.service import ACTIVITY_TYPES
from kundo.platform.api_pagination import PageArgsSchema

_BIGINT_MAX = 2**63 - 1


class ActivityLinkSchema(Schema):
    object_type = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{0,39}$", error="Use a lower-case object type such as contact, company or deal."))
    object_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=_BIGINT_MAX))


class ActivitySchema(Schema):
    id = fields.Integer(dump_only=True)
    type = fields.String(dump_only=True)
    occurred_at = fields.DateTime(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "The workspace member who did it, if a person did."})
    subject = fields.String(dump_only=True, allow_none=True)
    body = fields.String(dump_only=True, allow_none=True)
    payload = fields.Dict(dump_only=True)
    source = fields.String(dump_only=True)
    external_id = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    links = fields.List(fields.Nested(ActivityLinkSchema), dump_only=True)


class ActivityCreateSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(ACTIVITY_TYPES))
    links = fields.List(fields.Nested(ActivityLinkSchema), required=True, validate=validate.Length(min=1, max=100),
                        metadata={"description": "The contacts, companies, deals … whose timelines show it."})
    occurred_at = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Defaults to now."})
    subject = fields.String(allow_none=True, validate=validate.Length(max=300))
    body = fields.String(allow_none=True, validate=validate.Length(max=100_000))
    payload = fields.Dict(load_default=dict, metadata={
        "description": "Type-specific data. call: direction, duration_seconds, outcome; meeting: starts_at, "
                       "ends_at; email: direction, from, to, message_id; form_submission: form, fields; "
                       "invoice: number, amount, currency, status; ticket_event: ticket_id, event; "
                       "social_message: network, author, url."})
    source = fields.String(load_default="api", validate=validate.Length(min=1, max=100))
    external_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "The provider's id of the item; logging the same id again returns the stored activity."})


class TimelineQueryArgsSchema(PageArgsSchema):
    types = DelimitedList(fields.String(validate=validate.OneOf(ACTIVITY_TYPES)),
                          metadata={"description": "Only these activity types, comma separated."})
    include_company = fields.Boolean(load_default=False, metadata={
        "description": "On a contact, add its companies' activities; on a company, its contacts' activities."})


class ActivityQueryArgsSchema(TimelineQueryArgsSchema):
    object_type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    object_id = fields.Integer(required=True, validate=validate.Range(min=1, max=_BIGINT_MAX))


class ActivityPageSchema(Schema):
    items = fields.List(fields.Nested(ActivitySchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})
