"""Marshmallow schemas for the signed-in user and API tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.platform.api_schemas import TrimmedString
from kundo.platform.auth.service import API_TOKEN_SCOPES
from kundo.tenants.models import Role


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    locale = fields.String(dump_only=True, allow_none=True)
    email_verified = fields.Boolean(dump_only=True, attribute="is_verified")


class WorkspaceRefSchema(Schema):
    slug = fields.String(dump_only=True)
    name = fields.String(dump_only=True)


class MeSchema(Schema):
    user = fields.Nested(UserSchema, dump_only=True)
    workspace = fields.Nested(WorkspaceRefSchema, dump_only=True)
    role = fields.Enum(Role, by_value=True, dump_only=True)
    token_scopes = fields.List(fields.String(), dump_only=True)


_SCOPES_HELP = "`read` lists and reads, `write` also changes, `admin` may do anything, including managing tokens."


class ApiTokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True, metadata={"description": "The token's public part: `kundo_<prefix>_…`."})
    scopes = fields.List(fields.String(), dump_only=True, metadata={"description": _SCOPES_HELP})
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class ApiTokenCreateSchema(Schema):
    name = TrimmedString(required=True, required_text=True, validate=[validate.Length(min=1, max=100)],
                         metadata={"description": "So you recognise the token later."})
    scopes = fields.List(fields.String(validate=validate.OneOf(API_TOKEN_SCOPES)),
                         load_default=lambda: ["read"], metadata={"description": _SCOPES_HELP})


class NewApiTokenSchema(ApiTokenSchema):
    token = fields.String(dump_only=True, metadata={"description": "Shown once; store it now."})
