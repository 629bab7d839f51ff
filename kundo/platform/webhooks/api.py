"""API: webhook subscriptions (workspace admins) — list, create, change, pause, delete, test, delivery log."""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor
from kundo.platform.errors import Problem
from kundo.platform.webhooks import service
from kundo.platform.webhooks.models import WebhookDelivery, WebhookSubscription
from kundo.platform.webhooks.schemas import (
    DeliveryPageSchema,
    DeliveryQueryArgsSchema,
    DeliverySchema,
    EventTypesSchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookPatchSchema,
    WebhookSchema,
)
from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("api_webhooks", __name__, url_prefix="/api/v1", description="Outgoing webhooks")

ID = "int(max=9223372036854775807)"


def _subscription_or_404(subscription_id: int) -> WebhookSubscription:
    try:
        return service.get_subscription(current_tenant_db(), subscription_id)
    except service.SubscriptionNotFound:
        abort(404, description="No webhook with this id in this workspace.")


def _saved(change):
    session = current_tenant_db()
    try:
        result = change(session)
    except service.WebhookError as error:
        session.rollback()
        raise Problem(422, str(error), errors=error.errors) from error
    session.commit()
    return result


@blueprint.route("/webhooks")
class Webhooks(MethodView):
    @token_required("read", Role.ADMIN)
    @blueprint.response(200, WebhookSchema(many=True))
    def get(self):
        """List the workspace's webhook subscriptions"""
        return service.list_subscriptions(current_tenant_db())

    @token_required("admin", Role.ADMIN)
    @blueprint.arguments(WebhookCreateSchema)
    @blueprint.response(201, WebhookCreatedSchema)
    def post(self, data):
        """Subscribe a URL to event types; the answer carries the signing secret, once"""
        subscription, secret = _saved(lambda session: service.create_subscription(
            session, url=data["url"], event_types=data["event_types"], description=data.get("description"),
            created_by=g.user.id))
        subscription.secret = secret
        return subscription


@blueprint.route("/webhooks/event-types")
class EventTypes(MethodView):
    @token_required("read")
    @blueprint.response(200, EventTypesSchema)
    def get(self):
        """The event types a webhook can subscribe to (`*`: all)"""
        return {"event_types": [service.ALL_EVENTS, *service.EVENT_TYPES]}


@blueprint.route(f"/webhooks/<{ID}:subscription_id>")
class WebhookById(MethodView):
    @token_required("read", Role.ADMIN)
    @blueprint.response(200, WebhookSchema)
    def get(self, subscription_id: int):
        """One webhook subscription"""
        return _subscription_or_404(subscription_id)

    @token_required("admin", Role.ADMIN)
    @blueprint.arguments(WebhookPatchSchema)
    @blueprint.response(200, WebhookSchema)
    def patch(self, data, subscription_id: int):
        """Change a subscription's URL, events or description, or pause / resume it"""
        subscription = _subscription_or_404(subscription_id)
        return _saved(lambda session: service.update_subscription(session, subscription, data))

    @token_required("admin", Role.ADMIN)
    @blueprint.response(204)
    def delete(self, subscription_id: int):
        """Delete a subscription and its delivery log"""
        subscription = _subscription_or_404(subscription_id)
        _saved(lambda session: service.delete_subscription(session, subscription))


@blueprint.route(f"/webhooks/<{ID}:subscription_id>/test")
class SendTest(MethodView):
    @token_required("admin", Role.ADMIN)
    @blueprint.response(202, DeliverySchema)
    def post(self, subscription_id: int):
        """Queue a `webhook.test` delivery to the subscription's URL"""
        subscription = _subscription_or_404(subscription_id)
        return _saved(lambda session: service.send_test(session, subscription))


@blueprint.route(f"/webhooks/<{ID}:subscription_id>/deliveries")
class Deliveries(MethodView):
    @token_required("read", Role.ADMIN)
    @blueprint.arguments(DeliveryQueryArgsSchema, location="query")
    @blueprint.response(200, DeliveryPageSchema)
    def get(self, args, subscription_id: int):
        """The subscription's delivery log, newest first: status, response code, duration, error"""
        _subscription_or_404(subscription_id)
        before = None
        if args["cursor"]:
            try:
                (before,) = decode_cursor(args["cursor"], [WebhookDelivery.id])
            except CursorError as error:
                raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
        items, last = service.deliveries_of(current_tenant_db(), subscription_id, before_id=before,
                                            limit=args["limit"])
        return {"items": items, "next_cursor": encode_cursor([last]) if last else None}
