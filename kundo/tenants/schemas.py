"""Marshmallow schemas for the workspace, its members and invitations."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.platform.api import PageArgsSchema

ROLES = ("owner", "admin", "member")


class WorkspaceSchema(Schema):
    id = fields.Integer(dump_only=True)
    slug = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    status = fields.Function(lambda t: t.status.value, dump_only=True)
    locale = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    url = fields.String(dump_only=True)
    company_name = fields.String(dump_only=True)
    address = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)


class WorkspacePatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    locale = fields.String(validate=validate.OneOf(("en", "de")))
    address = fields.String(allow_none=True, validate=validate.Length(max=2000))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))
    timezone = fields.String(validate=validate.Length(min=1, max=64))


class MemberSchema(Schema):
    user_id = fields.Integer(dump_only=True)
    name = fields.Function(lambda m: m.user.name, dump_only=True)
    email = fields.Function(lambda m: m.user.email, dump_only=True)
    role = fields.Function(lambda m: m.role.value, dump_only=True)
    joined_at = fields.DateTime(attribute="created_at", dump_only=True)


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    next_cursor = fields.String(allow_none=True)


class MemberQueryArgsSchema(PageArgsSchema):
    pass


class MemberPatchSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class InvitationCreateSchema(Schema):
    email = fields.Email(required=True)
    role = fields.String(load_default="member", validate=validate.OneOf(ROLES))


class InvitationSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    role = fields.Function(lambda i: i.role.value, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)
