"""Marshmallow schemas for the signed-in user and API tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.platform.auth.service import API_TOKEN_SCOPES


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    locale = fields.String(dump_only=True, allow_none=True)
    email_verified = fields.Boolean(dump_only=True, attribute="is_verified")


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    workspace = fields.Function(lambda me: {"slug": me["tenant"].slug, "name": me["tenant"].name})
    role = fields.Function(lambda me: me["membership"].role.value)
    token_scopes = fields.List(fields.String())


class ApiTokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    prefix = fields.String(dump_only=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(API_TOKEN_SCOPES)),
                         load_default=lambda: ["read"])
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class NewApiTokenSchema(ApiTokenSchema):
    token = fields.String(dump_only=True, metadata={"description": "Shown once; store it now."})
