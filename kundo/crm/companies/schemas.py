"""Marshmallow schemas of the companies API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.platform.api_pagination import PageArgsSchema

_ID = {"strict": True, "validate": validate.Range(min=1, max=2**63 - 1)}


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


class CompanySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    domain = fields.String(dump_only=True, allow_none=True)
    industry = fields.String(dump_only=True, allow_none=True)
    size = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "Number of employees."})
    street = fields.String(dump_only=True, allow_none=True)
    postal_code = fields.String(dump_only=True, allow_none=True)
    city = fields.String(dump_only=True, allow_none=True)
    country = fields.String(dump_only=True, allow_none=True, metadata={"description": "ISO 3166 two-letter code."})
    phone = fields.String(dump_only=True, allow_none=True)
    owner_id = fields.Integer(dump_only=True, allow_none=True)
    notes = fields.String(dump_only=True, allow_none=True)
    custom = fields.Dict(keys=fields.String(), dump_only=True, metadata={"description": "Custom property values."})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class _CompanyFieldsSchema(Schema):
    domain = _text(300, metadata={"description": "Stored bare and lower-case: https://www.Acme.de/ → acme.de."})
    industry = _text(100)
    size = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    street = _text(300)
    postal_code = _text(20)
    city = _text(120)
    country = _text(2, metadata={"description": "ISO 3166 two-letter code, e.g. DE."})
    phone = _text(50)
    owner_id = fields.Integer(allow_none=True, **_ID, metadata={"description": "A member of the workspace."})
    notes = _text(20_000)
    custom = fields.Dict(keys=fields.String(), metadata={"description": "Custom property values by key; null "
                                                                        "clears one."})


class CompanyCreateSchema(_CompanyFieldsSchema):
    name = _text(300, metadata={"description": "Defaults to a name made from the domain."})


class CompanyPatchSchema(_CompanyFieldsSchema):
    """Only the fields sent change."""

    name = fields.String(validate=validate.Length(min=1, max=300))


class CompanyLinkSchema(Schema):
    contact_id = fields.Integer(required=True, **_ID)
    role = _text(100, load_default=None, metadata={"description": "The contact's role at the company."})
    primary = fields.Boolean(load_default=False, metadata={"description": "Make it the contact's primary company "
                                                                         "(the first link always is)."})


class CompanyContactQueryArgsSchema(PageArgsSchema):
    pass
