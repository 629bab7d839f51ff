"""API: the product catalogue — list, create, read, edit, archive (DELETE archives; quotes keep their lines)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from kundo.platform.api import token_required
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.api_support import ID, found, saved
from kundo_sales.products import service


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    sku = fields.String(dump_only=True, allow_none=True)
    description = fields.String(dump_only=True, allow_none=True)
    unit_price = fields.Decimal(dump_only=True, as_string=True, metadata={"description": "Net, e.g. \"1499.00\"."})
    currency = fields.String(dump_only=True)
    tax_rate = fields.Decimal(dump_only=True, as_string=True, metadata={"description": "Percent, e.g. \"19.00\"."})
    unit = fields.String(dump_only=True, allow_none=True)
    archived = fields.Function(lambda p: p.archived_at is not None, dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class ProductPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    sku = fields.String(allow_none=True, validate=validate.Length(max=64))
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    unit_price = fields.Decimal(as_string=True, allow_nan=False, metadata={"description": "Net unit price."})
    tax_rate = fields.Decimal(as_string=True, allow_nan=False,
                              metadata={"description": "VAT in percent: 19 and 7 are the German rates; any 0–100."})
    unit = fields.String(allow_none=True, validate=validate.Length(max=30))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))


class ProductCreateSchema(ProductPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit_price = fields.Decimal(required=True, as_string=True, allow_nan=False)
    tax_rate = fields.Decimal(as_string=True, allow_nan=False, metadata={"description": "Percent; defaults to 19."})


class ProductQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=100))
    archived = fields.Boolean(load_default=False)


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales_products", __name__, description="Sales Hub: product catalogue")

    @blueprint.route("/products")
    class Products(MethodView):
        @token_required("read")
        @blueprint.arguments(ProductQuerySchema, location="query")
        @blueprint.response(200, ProductSchema(many=True))
        def get(self, args):
            """List products by name (active ones unless archived=true)"""
            return service.list_products(current_tenant_db(), query=args.get("q"), archived=args["archived"])

        @token_required("write")
        @blueprint.arguments(ProductCreateSchema)
        @blueprint.response(201, ProductSchema)
        def post(self, data):
            """Add a product"""
            return saved(lambda s: service.create_product(s, data, actor_id=g.user.id))

    @blueprint.route(f"/products/<{ID}:product_id>")
    class Product(MethodView):
        @token_required("read")
        @blueprint.response(200, ProductSchema)
        def get(self, product_id):
            """One product"""
            return found(lambda s: service.get_product(s, product_id))

        @token_required("write")
        @blueprint.arguments(ProductPatchSchema)
        @blueprint.response(200, ProductSchema)
        def patch(self, data, product_id):
            """Change a product (quotes already made keep their lines)"""
            return saved(lambda s: service.update_product(s, service.get_product(s, product_id), data))

        @token_required("write")
        @blueprint.response(200, ProductSchema)
        def delete(self, product_id):
            """Archive a product"""
            return saved(lambda s: service.archive_product(s, service.get_product(s, product_id)))

    return blueprint
