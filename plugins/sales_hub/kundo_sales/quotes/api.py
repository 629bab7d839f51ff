"""API: quotes on deals — create, read, edit, add/remove lines, send, withdraw, PDF."""

from __future__ import annotations

from flask import Response, abort, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from kundo.platform.api import token_required
from kundo.tenants.resolution import current_tenant, current_tenant_db
from kundo_sales.access import may_see
from kundo_sales.api_support import ID, found, saved
from kundo_sales.deals.service import get_deal
from kundo_sales.quotes import service
from kundo_sales.quotes.sending import pdf_filename, pdf_of, public_url, send_quote

_DEC = {"as_string": True, "allow_nan": False}


class LineSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(allow_none=True)
    name = fields.String(validate=validate.Length(max=200),
                         metadata={"description": "Defaults to the product's name."})
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    quantity = fields.Decimal(metadata={"description": "Defaults to 1."}, **_DEC)
    unit = fields.String(allow_none=True, validate=validate.Length(max=30))
    unit_price = fields.Decimal(metadata={"description": "Net; defaults to the product's price."}, **_DEC)
    discount_percent = fields.Decimal(metadata={"description": "Percent; defaults to 0."}, **_DEC)
    tax_rate = fields.Decimal(metadata={"description": "Percent; defaults to the product's rate, else 19."}, **_DEC)


class RateSchema(Schema):
    rate = fields.Decimal(as_string=True)
    net = fields.Decimal(as_string=True)
    tax = fields.Decimal(as_string=True)


class QuoteSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    deal_id = fields.Integer()
    status = fields.String()
    language = fields.String()
    currency = fields.String()
    title = fields.String(allow_none=True)
    introduction = fields.String(allow_none=True)
    valid_until = fields.Date()
    contact_id = fields.Integer(allow_none=True)
    discount_percent = fields.Decimal(as_string=True)
    net_total = fields.Decimal(as_string=True)
    tax_total = fields.Decimal(as_string=True)
    gross_total = fields.Decimal(as_string=True)
    taxes = fields.Function(lambda q: RateSchema(many=True).dump(service.totals_of(q).by_rate))
    win_deal_on_accept = fields.Boolean()
    lines = fields.List(fields.Nested(LineSchema))
    sent_at = fields.DateTime(allow_none=True)
    sent_to = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decided_by_name = fields.String(allow_none=True)
    public_url = fields.Function(lambda q: public_url(current_tenant(), q) if q.status == "sent" else None,
                                 metadata={"description": "The buyer's link, while the quote is sent."})
    created_at = fields.DateTime()


class QuotePatchSchema(Schema):
    title = fields.String(allow_none=True, validate=validate.Length(max=200))
    introduction = fields.String(allow_none=True, validate=validate.Length(max=5000))
    valid_until = fields.Date()
    language = fields.String(validate=validate.OneOf(service.LANGUAGES))
    contact_id = fields.Integer(allow_none=True)
    discount_percent = fields.Decimal(**_DEC)
    win_deal_on_accept = fields.Boolean()
    lines = fields.List(fields.Nested(LineSchema), validate=validate.Length(max=service.MAX_LINES),
                        metadata={"description": "Replaces every line when given."})


class QuoteCreateSchema(QuotePatchSchema):
    deal_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**63 - 1))


class QuoteQuerySchema(Schema):
    deal_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    status = fields.String(validate=validate.OneOf([s.value for s in service.QuoteStatus]))


class SendSchema(Schema):
    to = fields.Email(required=True)
    message = fields.String(allow_none=True, validate=validate.Length(max=5000))


def _visible(session, quote):
    if not may_see(session, get_deal(session, quote.deal_id)):
        abort(404, description="No quote with this id in this workspace.")
    return quote


def _quote(session, quote_id):
    return _visible(session, service.get_quote(session, quote_id))


def _clean_lines(lines):
    return [{k: v for k, v in line.items() if v is not None or k == "product_id"} for line in lines]


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales_quotes", __name__, description="Sales Hub: quotes")

    @blueprint.route("/quotes")
    class Quotes(MethodView):
        @token_required("read")
        @blueprint.arguments(QuoteQuerySchema, location="query")
        @blueprint.response(200, QuoteSchema(many=True))
        def get(self, args):
            """List quotes, newest first (optionally of one deal or status)"""
            session = current_tenant_db()
            return [q for q in service.list_quotes(session, status=args.get("status"), deal_id=args.get("deal_id"))
                    if may_see(session, get_deal(session, q.deal_id))]

        @token_required("write")
        @blueprint.arguments(QuoteCreateSchema)
        @blueprint.response(201, QuoteSchema)
        def post(self, data):
            """Create a draft quote on a deal with the next number"""
            deal_id = data.pop("deal_id")
            lines = _clean_lines(data.pop("lines", []))

            def create(session):
                _visible_deal = get_deal(session, deal_id)
                if not may_see(session, _visible_deal):
                    abort(404, description="No deal with this id in this workspace.")
                return service.create_quote(session, deal_id, data, lines=lines, actor_id=g.user.id,
                                            default_language=current_tenant().locale or "en")

            return saved(create)

    @blueprint.route(f"/quotes/<{ID}:quote_id>")
    class Quote(MethodView):
        @token_required("read")
        @blueprint.response(200, QuoteSchema)
        def get(self, quote_id):
            """One quote with its lines and totals by VAT rate"""
            return found(lambda s: _quote(s, quote_id))

        @token_required("write")
        @blueprint.arguments(QuotePatchSchema)
        @blueprint.response(200, QuoteSchema)
        def patch(self, data, quote_id):
            """Change a draft (lines, if given, replace all lines)"""
            lines = _clean_lines(data.pop("lines")) if "lines" in data else None
            return saved(lambda s: service.update_quote(s, _quote(s, quote_id), data, lines=lines))

    @blueprint.route(f"/quotes/<{ID}:quote_id>/lines")
    class Lines(MethodView):
        @token_required("write")
        @blueprint.arguments(LineSchema)
        @blueprint.response(201, QuoteSchema)
        def post(self, data, quote_id):
            """Add a line: from a product (product_id) or free text (name, unit_price, tax_rate)"""
            def add(session):
                quote = _quote(session, quote_id)
                service.add_line(session, quote, _clean_lines([data])[0])
                return quote

            return saved(add)

    @blueprint.route(f"/quotes/<{ID}:quote_id>/lines/<{ID}:line_id>")
    class Line(MethodView):
        @token_required("write")
        @blueprint.response(200, QuoteSchema)
        def delete(self, quote_id, line_id):
            """Remove a line from a draft"""
            def remove(session):
                quote = _quote(session, quote_id)
                service.remove_line(session, quote, line_id)
                return quote

            return saved(remove)

    @blueprint.route(f"/quotes/<{ID}:quote_id>/send")
    class Send(MethodView):
        @token_required("write")
        @blueprint.arguments(SendSchema)
        @blueprint.response(200, QuoteSchema)
        def post(self, data, quote_id):
            """E-mail the quote as PDF with the buyer's accept/decline link (quote.sent)"""
            def send(session):
                quote = _quote(session, quote_id)
                send_quote(session, quote, tenant=current_tenant(), to=data["to"], message=data.get("message"),
                           user=g.user)
                return quote

            return saved(send)

    @blueprint.route(f"/quotes/<{ID}:quote_id>/withdraw")
    class Withdraw(MethodView):
        @token_required("write")
        @blueprint.response(200, QuoteSchema)
        def post(self, quote_id):
            """Withdraw a draft or sent quote; its link stops working, its number stays used"""
            return saved(lambda s: service.withdraw_quote(s, _quote(s, quote_id), actor_id=g.user.id))

    @blueprint.route(f"/quotes/<{ID}:quote_id>/pdf")
    class Pdf(MethodView):
        @token_required("read")
        @blueprint.response(200, content_type="application/pdf")
        def get(self, quote_id):
            """The quote as PDF"""
            session = current_tenant_db()
            quote = found(lambda s: _quote(s, quote_id))
            return Response(pdf_of(session, quote, current_tenant()), mimetype="application/pdf",
                            headers={"Content-Disposition": f'attachment; filename="{pdf_filename(quote)}"'})

    return blueprint
