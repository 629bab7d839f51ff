"""API: your notifications — list, unread count, mark read, e-mail preference."""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor
from kundo.platform.errors import Problem
from kundo.platform.notifications import service
from kundo.platform.notifications.models import Notification
from kundo.platform.notifications.schemas import (
    MarkedSchema,
    NotificationPageSchema,
    NotificationQueryArgsSchema,
    NotificationSchema,
    PreferencesSchema,
    UnreadCountSchema,
)
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("api_notifications", __name__, url_prefix="/api/v1", description="Notifications")

ID = "int(max=9223372036854775807)"


@blueprint.route("/notifications")
class Notifications(MethodView):
    @token_required("read")
    @blueprint.arguments(NotificationQueryArgsSchema, location="query")
    @blueprint.response(200, NotificationPageSchema)
    def get(self, args):
        """List your notifications, newest first"""
        before = None
        if args["cursor"]:
            try:
                (before,) = decode_cursor(args["cursor"], [Notification.id])
            except CursorError as error:
                raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
        session = current_tenant_db()
        items, last = service.notifications_of(session, g.user.id, unread_only=args["unread"], before_id=before,
                                               limit=args["limit"])
        return {"items": items, "next_cursor": encode_cursor([last]) if last else None,
                "unread_count": service.unread_count(session, g.user.id)}


@blueprint.route("/notifications/unread-count")
class UnreadCount(MethodView):
    @token_required("read")
    @blueprint.response(200, UnreadCountSchema)
    def get(self):
        """How many of your notifications are unread (the bell's number)"""
        return {"unread_count": service.unread_count(current_tenant_db(), g.user.id)}


@blueprint.route(f"/notifications/<{ID}:notification_id>/read")
class MarkRead(MethodView):
    @token_required("write")
    @blueprint.response(200, NotificationSchema)
    def post(self, notification_id: int):
        """Mark one of your notifications read"""
        session = current_tenant_db()
        try:
            notification = service.get_notification(session, g.user.id, notification_id)
        except service.NotificationNotFound:
            abort(404, description="You have no notification with this id in this workspace.")
        service.mark_read(session, notification)
        session.commit()
        return notification


@blueprint.route("/notifications/read-all")
class MarkAllRead(MethodView):
    @token_required("write")
    @blueprint.response(200, MarkedSchema)
    def post(self):
        """Mark all your notifications read"""
        session = current_tenant_db()
        marked = service.mark_all_read(session, g.user.id)
        session.commit()
        return {"marked": marked}


@blueprint.route("/notifications/preferences")
class Preferences(MethodView):
    @token_required("read")
    @blueprint.response(200, PreferencesSchema)
    def get(self):
        """Whether notifications are also e-mailed to you in this workspace"""
        return {"email_enabled": service.email_enabled(current_tenant_db(), g.user.id)}

    @token_required("write")
    @blueprint.arguments(PreferencesSchema)
    @blueprint.response(200, PreferencesSchema)
    def put(self, data):
        """Turn the e-mail copies of your notifications on or off"""
        session = current_tenant_db()
        service.set_email_enabled(session, g.user.id, data["email_enabled"])
        session.commit()
        return data
