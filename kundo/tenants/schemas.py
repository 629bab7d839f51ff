"""Marshmallow schemas for the workspace, its members and invitations."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate

from kundo.platform.api_pagination import PageArgsSchema
from kundo.platform.api_schemas import TrimmedString
from kundo.tenants.models import Role, TenantStatus

ROLES = tuple(role.value for role in Role)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


class KnownTimeZone(validate.Validator):
    """An IANA time zone name. `choices` makes the OpenAPI list them; it is read on
    first use, not at import, because walking the time zone database takes ~70 ms."""

    error = "Use an IANA time zone such as Europe/Berlin."

    @property
    def choices(self) -> list[str]:
        return sorted(_time_zones())

    def __call__(self, value: str) -> str:
        if value not in _time_zones():
            raise ValidationError(self.error)
        return value


class WorkspaceSchema(Schema):
    id = fields.Integer(dump_only=True)
    slug = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    status = fields.Enum(TenantStatus, by_value=True, dump_only=True)
    locale = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    url = fields.String(dump_only=True, metadata={"description": "The workspace's own address."})
    company_name = fields.String(dump_only=True)
    address = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)


class WorkspacePatchSchema(Schema):
    name = TrimmedString(required_text=True, validate=[validate.Length(min=1, max=200)],
                         metadata={"description": "Also becomes the company name on documents."})
    locale = fields.String(validate=validate.OneOf(("en", "de")))
    address = fields.String(allow_none=True, validate=validate.Length(max=2000))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error="Use a three-letter ISO code like EUR."))
    timezone = fields.String(validate=KnownTimeZone())


class MemberSchema(Schema):
    user_id = fields.Integer(dump_only=True)
    name = fields.String(attribute="user.name", dump_only=True)
    email = fields.String(attribute="user.email", dump_only=True)
    role = fields.Enum(Role, by_value=True, dump_only=True)
    joined_at = fields.DateTime(attribute="created_at", dump_only=True)


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})


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
    role = fields.Enum(Role, by_value=True, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)
