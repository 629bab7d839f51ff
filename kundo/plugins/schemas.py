"""API shapes of /api/v1/apps."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from kundo.plugins.sdk import PERMISSIONS


class PriceSchema(Schema):
    model = fields.String(metadata={"description": "`free`, or `monthly` for a paid app"})
    amount_cents = fields.Integer()
    currency = fields.String()


class AppSchema(Schema):
    id = fields.String(required=True, metadata={"example": "sales"})
    name = fields.String()
    summary = fields.String()
    description = fields.String()
    publisher = fields.String()
    version = fields.String(allow_none=True, metadata={"description": "The version this Kundo runs"})
    first_party = fields.Boolean()
    categories = fields.List(fields.String())
    permissions = fields.List(fields.String(), metadata={"description": "Scopes to consent to when enabling"})
    requires = fields.List(fields.String())
    requires_missing = fields.List(fields.String(), metadata={
        "description": "Needed apps not enabled yet; enable with `with_requirements: true` to enable them too"})
    price = fields.Nested(PriceSchema, allow_none=True)
    available = fields.Boolean(metadata={"description": "False when the app is installed but cannot be loaded"})
    state = fields.String(metadata={"description": "`available`, `enabled` or `disabled`"})
    installed_version = fields.String(allow_none=True)
    update_available = fields.Boolean()
    consented_scopes = fields.List(fields.String())
    enabled_at = fields.DateTime(allow_none=True)


class AppListSchema(Schema):
    items = fields.List(fields.Nested(AppSchema))


class EnableSchema(Schema):
    class Meta:
        unknown = RAISE

    consented_scopes = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)), load_default=list,
                                   metadata={"description": "Every scope in the app's `permissions`"})
    with_requirements = fields.Boolean(load_default=False,
                                       metadata={"description": "Also enable the apps it needs"})


class UpdateSchema(Schema):
    class Meta:
        unknown = RAISE

    consented_scopes = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)), load_default=list,
                                   metadata={"description": "Scopes the new version adds"})


class UninstallSchema(Schema):
    class Meta:
        unknown = RAISE

    confirmation = fields.String(required=True, metadata={
        "description": "The workspace's address (slug), as the admin typed it"})


class UninstallResultSchema(Schema):
    id = fields.String()
    dropped_tables = fields.List(fields.String())
