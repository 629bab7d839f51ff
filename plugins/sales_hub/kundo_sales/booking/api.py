"""API: your booking page settings and meetings."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from kundo.platform.api import token_required
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.api_support import saved
from kundo_sales.booking import service


class BookingPageSchema(Schema):
    slug = fields.String(validate=validate.Length(min=3, max=60))
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    location = fields.String(allow_none=True, validate=validate.Length(max=500))
    duration_minutes = fields.Integer(validate=validate.Range(5, 480))
    buffer_minutes = fields.Integer(validate=validate.Range(0, 240))
    horizon_days = fields.Integer(validate=validate.Range(1, 365))
    notice_minutes = fields.Integer(validate=validate.Range(0, 60 * 24 * 14))
    reminder_minutes = fields.Integer(validate=validate.Range(0, 60 * 24 * 7))
    availability = fields.Dict(keys=fields.String(), values=fields.List(fields.List(fields.String())), metadata={
        "description": 'ISO weekday (1 = Monday) → windows in the workspace time zone, '
                       'e.g. {"1": [["09:00", "12:00"]]}'})
    active = fields.Boolean()


class MeetingSchema(Schema):
    id = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    status = fields.String()
    visitor_name = fields.String()
    visitor_email = fields.String()
    note = fields.String(allow_none=True)
    contact_id = fields.Integer(allow_none=True)


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales_booking", __name__, description="Sales Hub: meeting booking")

    @blueprint.route("/booking/settings")
    class Settings(MethodView):
        @token_required("read")
        @blueprint.response(200, BookingPageSchema)
        def get(self):
            """Your booking page (made with weekday office hours on first use)"""
            return saved(lambda s: service.ensure_page(s, g.user.id, g.user.name))

        @token_required("write")
        @blueprint.arguments(BookingPageSchema)
        @blueprint.response(200, BookingPageSchema)
        def put(self, data):
            """Change your booking page (fields left out stay as they are)"""
            return saved(lambda s: service.update_page(s, service.ensure_page(s, g.user.id, g.user.name), data))

    @blueprint.route("/booking/meetings")
    class Meetings(MethodView):
        @token_required("read")
        @blueprint.response(200, MeetingSchema(many=True))
        def get(self):
            """Your upcoming confirmed meetings"""
            return service.upcoming_meetings(current_tenant_db(), g.user.id)

    return blueprint
