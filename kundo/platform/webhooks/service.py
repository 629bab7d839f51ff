"""Webhook subscriptions (create, pause, delete, test) and queuing deliveries.

A delivery is a `webhook_deliveries` row plus a durable timer, both written in the
caller's tenant transaction: an event's deliveries exist once the event's consumer
commits, and the timer's handler (kundo.platform.webhooks.delivery) sends them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kundo.platform.clock import now as clock_now
from kundo.platform.crypto import decrypt_secret, encrypt_secret
from kundo.platform.jobs import schedule_timer
from kundo.platform.webhooks.addresses import UnsafeWebhookUrl, check_url_syntax, resolve_target
from kundo.platform.webhooks.models import WebhookDelivery, WebhookSubscription
from kundo.platform.webhooks.signing import new_signing_secret

SECRET_PURPOSE = "webhook-secret"  # noqa: S105 - a key-derivation label, not a secret
DELIVERY_TIMER = "webhooks.deliver"
TEST_EVENT = "webhook.test"
WORKFLOW_EVENT = "workflow.webhook"
ALL_EVENTS = "*"
#: The event types a subscription can choose (the domain events Kundo's core emits).
EVENT_TYPES = (
    "contact.created", "contact.updated", "contact.merged", "contact.deleted", "contact.erased",
    "lifecycle_stage.changed", "company.created", "company.updated", "company.merged", "company.deleted",
    "activity.logged", "task.created", "task.completed", "task.due",
)
MAX_DESCRIPTION = 200


class WebhookError(ValueError):
    """A refused change; `field` names the input to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field
        self.errors = {field: [message]}


class SubscriptionNotFound(LookupError):
    pass


def allow_private() -> bool:
    return bool(current_app.config["KUNDO"].webhook_allow_private)


def checked_url(url: str) -> str:
    """The URL, if Kundo may send to it now (syntax, and DNS to public addresses)."""
    url = (url or "").strip()
    try:
        check_url_syntax(url)
        resolve_target(url, allow_private=allow_private())
    except UnsafeWebhookUrl as error:
        raise WebhookError(str(error), "url") from error
    return url


def checked_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted({str(kind).strip() for kind in event_types if str(kind).strip()})
    if not chosen:
        raise WebhookError(_("Choose at least one event."), "event_types")
    unknown = [kind for kind in chosen if kind != ALL_EVENTS and kind not in EVENT_TYPES]
    if unknown:
        raise WebhookError(_("Unknown event types: %(unknown)s. Choose from: %(known)s.",
                             unknown=", ".join(unknown), known=", ".join((ALL_EVENTS, *EVENT_TYPES))), "event_types")
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def create_subscription(session: Session, *, url: str, event_types: Iterable[str], description: str | None = None,
                        created_by: int | None = None) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `event_types`; returns the subscription and its signing secret (shown once)."""
    description = (description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise WebhookError(_("Keep the description to 200 characters."), "description")
    event_types = checked_event_types(event_types)  # before the URL: no DNS lookup for a form that is wrong anyway
    subscription = WebhookSubscription(url=checked_url(url), event_types=event_types, description=description,
                                       created_by=created_by)
    secret = new_signing_secret()
    subscription.secret_encrypted = encrypt_secret(secret, purpose=SECRET_PURPOSE)
    session.add(subscription)
    session.flush()
    return subscription, secret


def update_subscription(session: Session, subscription: WebhookSubscription, changes: dict) -> WebhookSubscription:
    """Change url, event_types, description or paused (True pauses, False resumes)."""
    if "url" in changes:
        subscription.url = checked_url(changes["url"])
    if "event_types" in changes:
        subscription.event_types = checked_event_types(changes["event_types"])
    if "description" in changes:
        description = (changes["description"] or "").strip() or None
        if description and len(description) > MAX_DESCRIPTION:
            raise WebhookError(_("Keep the description to 200 characters."), "description")
        subscription.description = description
    if "paused" in changes:
        set_paused(subscription, bool(changes["paused"]))
    session.flush()
    return subscription


def set_paused(subscription: WebhookSubscription, paused: bool) -> None:
    if paused and subscription.paused_at is None:
        subscription.paused_at = clock_now()
    elif not paused:
        subscription.paused_at = None


def delete_subscription(session: Session, subscription: WebhookSubscription) -> None:
    """Delete it with its delivery log; queued deliveries find nothing to send."""
    session.delete(subscription)
    session.flush()


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise SubscriptionNotFound(subscription_id)
    return subscription


def subscribed_event_types(session: Session) -> frozenset[str] | None:
    """Event types some active subscription wants; None when one wants them all."""
    wanted = frozenset(session.scalars(
        select(func.unnest(WebhookSubscription.event_types)).where(WebhookSubscription.paused_at.is_(None))))
    return None if ALL_EVENTS in wanted else wanted


def subscriptions_for(session: Session, event_type: str) -> list[WebhookSubscription]:
    """Active subscriptions that want `event_type`."""
    return list(session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.paused_at.is_(None),
            WebhookSubscription.event_types.overlap([event_type, ALL_EVENTS]),
        ).order_by(WebhookSubscription.id)
    ))


def deliveries_of(session: Session, subscription_id: int, *, before_id: int | None = None,
                  limit: int = 50) -> tuple[list[WebhookDelivery], int | None]:
    """A subscription's delivery log, newest first; returns (page, id for the next page or None)."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1].id


def secret_of(subscription: WebhookSubscription) -> str:
    return decrypt_secret(subscription.secret_encrypted, purpose=SECRET_PURPOSE)


def workflow_signing_secret(tenant_id: int) -> str:
    """The secret that signs a workspace's workflow webhooks (derived, so nothing is stored)."""
    key = current_app.config["SECRET_KEY"].encode()
    return "whsec_wf_" + hmac.new(key, f"kundo.workflow-webhooks:{tenant_id}".encode(), hashlib.sha256).hexdigest()[:40]


def queue_delivery(session: Session, *, url: str, event_type: str, data: dict, subscription_id: int | None = None,
                   event_id: int | None = None, object_type: str | None = None, object_id: int | None = None,
                   occurred_at: datetime | None = None) -> WebhookDelivery:
    """Write a delivery and its timer in the caller's transaction; the first attempt is due now."""
    now = clock_now()
    delivery = WebhookDelivery(subscription_id=subscription_id, event_id=event_id, event_type=event_type, url=url,
                               payload={}, status="pending", attempts=0, next_attempt_at=now)
    session.add(delivery)
    session.flush()
    tenant_id = session.scope.tenant_id
    # The envelope is fixed now, so every retry sends the same body with the same id.
    delivery.payload = {
        "id": f"evt_{tenant_id}_{event_id}" if event_id is not None else f"dlv_{tenant_id}_{delivery.id}",
        "type": event_type,
        "occurred_at": (occurred_at or now).isoformat(),
        "workspace": session.scope.slug,
        "object": {"type": object_type, "id": object_id} if object_type else None,
        "data": data,
    }
    schedule_timer(session, handler=DELIVERY_TIMER, due_at=now, payload={"delivery_id": delivery.id},
                   key=f"webhook:{delivery.id}:1")
    return delivery


def send_test(session: Session, subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to the subscription (also while paused)."""
    return queue_delivery(session, url=subscription.url, event_type=TEST_EVENT, subscription_id=subscription.id,
                          data={"message": "This is a test delivery from Kundo."})


def send_workflow_webhook(session: Session, *, url: str, payload: dict) -> WebhookDelivery:
    """A workflow's "call a webhook" action: one signed delivery to `url`, retried like any other.

    Signed with the workspace's workflow secret (`workflow_signing_secret`, shown to admins on the
    webhooks page). :raises WebhookError: the URL is malformed or not public.
    """
    return queue_delivery(session, url=checked_url(url), event_type=WORKFLOW_EVENT, data=dict(payload))
