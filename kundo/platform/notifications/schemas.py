"""Marshmallow schemas of the notifications API."""

from __future__ import annotations

from marshmallow import Schema, fields

from kundo.platform.api_pagination import PageArgsSchema


class NotificationSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    link = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    read_at = fields.DateTime(dump_only=True, allow_none=True)


class NotificationQueryArgsSchema(PageArgsSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "Only notifications not read yet."})


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})
    unread_count = fields.Integer(metadata={"description": "How many of your notifications are unread."})


class UnreadCountSchema(Schema):
    unread_count = fields.Integer()


class MarkedSchema(Schema):
    marked = fields.Integer(metadata={"description": "How many notifications were marked read."})


class PreferencesSchema(Schema):
    email_enabled = fields.Boolean(required=True, metadata={
        "description": "Also e-mail notifications that ask for it (reminders, workflow messages)."})
