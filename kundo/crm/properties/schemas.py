"""Marshmallow schemas of the custom property definitions API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.crm.properties.models import PropertyType

TYPES = tuple(kind.value for kind in PropertyType)


class PropertyOptionSchema(Schema):
    value = fields.String(required=True, validate=validate.Length(min=1, max=100))
    label = fields.String(validate=validate.Length(max=200), metadata={"description": "Defaults to the value."})


class PropertyDefinitionSchema(Schema):
    id = fields.Integer(dump_only=True)
    object_type = fields.String(dump_only=True)
    key = fields.String(dump_only=True, metadata={"description": "How values are addressed: `custom.<key>`."})
    label = fields.String(dump_only=True)
    type = fields.String(dump_only=True, metadata={"description": f"One of: {', '.join(TYPES)}."})
    options = fields.List(fields.Nested(PropertyOptionSchema), dump_only=True)
    required = fields.Boolean(dump_only=True)
    position = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class PropertyDefinitionCreateSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=60),
                        metadata={"description": "Lower-case letters, digits and underscores; cannot change later."})
    label = fields.String(required=True, validate=validate.Length(min=1, max=120))
    type = fields.String(required=True, validate=validate.OneOf(TYPES),
                         metadata={"description": "Cannot change later."})
    options = fields.List(fields.Nested(PropertyOptionSchema), load_default=list,
                          validate=validate.Length(max=500), metadata={"description": "For `enum` only."})
    required = fields.Boolean(load_default=False)
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000))


class PropertyDefinitionPatchSchema(Schema):
    """Key and type stay: stored values depend on them."""

    label = fields.String(validate=validate.Length(min=1, max=120))
    options = fields.List(fields.Nested(PropertyOptionSchema), validate=validate.Length(min=1, max=500))
    required = fields.Boolean()
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000))


class PropertyDeleteArgsSchema(Schema):
    confirm = fields.Boolean(load_default=False, metadata={
        "description": "Must be true: deleting a property also deletes its value on every record."})
