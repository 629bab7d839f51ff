"""Marshmallow schemas of the webhooks API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.platform.api_pagination import PageArgsSchema


class WebhookSchema(Schema):
    id = fields.Integer(dump_only=True)
    url = fields.String(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)
    event_types = fields.List(fields.String(), dump_only=True)
    paused = fields.Function(lambda subscription: subscription.paused_at is not None, dump_only=True)
    paused_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(dump_only=True, metadata={
        "description": "The signing secret. Shown only in this answer: store it with the receiver."})


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "description": "An http(s) address; private, loopback and link-local addresses are refused."})
    event_types = fields.List(fields.String(validate=validate.Length(max=100)), required=True,
                              validate=validate.Length(min=1, max=100), metadata={
                                  "description": "Event types to send (GET /api/v1/webhooks/event-types), or `*`."})
    description = fields.String(allow_none=True, validate=validate.Length(max=200))


class WebhookPatchSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    event_types = fields.List(fields.String(validate=validate.Length(max=100)),
                              validate=validate.Length(min=1, max=100))
    description = fields.String(allow_none=True, validate=validate.Length(max=200))
    paused = fields.Boolean(metadata={"description": "true pauses deliveries, false resumes them."})


class EventTypesSchema(Schema):
    event_types = fields.List(fields.String())


class DeliverySchema(Schema):
    id = fields.Integer(dump_only=True)
    subscription_id = fields.Integer(dump_only=True, allow_none=True)
    event_type = fields.String(dump_only=True)
    event_id = fields.String(dump_only=True, attribute="payload.id",
                             metadata={"description": "The Kundo-Event-Id header the receiver got."})
    url = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "pending, retrying, succeeded or failed"})
    attempts = fields.Integer(dump_only=True)
    response_code = fields.Integer(dump_only=True, allow_none=True)
    duration_ms = fields.Integer(dump_only=True, allow_none=True)
    last_error = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    last_attempt_at = fields.DateTime(dump_only=True, allow_none=True)
    next_attempt_at = fields.DateTime(dump_only=True, allow_none=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})


class DeliveryQueryArgsSchema(PageArgsSchema):
    pass
