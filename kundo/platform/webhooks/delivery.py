"""Sending deliveries: the timer handler that POSTs, and the consumer that turns events into deliveries.

Each attempt is logged on the delivery (status, response code, duration, error). A failed
attempt does not raise — raising would roll the log back — but schedules the next attempt
as a new timer (`webhook:<delivery>:<attempt>`), with growing pauses; after MAX_ATTEMPTS
the delivery is `failed`. The receiver gets the same `Kundo-Event-Id` on every attempt, so
it can ignore a repeat (a worker killed after the POST but before the commit sends again).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from kundo.platform.clock import now as clock_now
from kundo.platform.crypto import SecretUnreadable
from kundo.platform.events import DeliveredEvent
from kundo.platform.jobs import schedule_timer
from kundo.platform.jobs.models import Timer
from kundo.platform.webhooks import service, transport
from kundo.platform.webhooks.addresses import UnsafeWebhookUrl, resolve_target
from kundo.platform.webhooks.models import WebhookDelivery
from kundo.platform.webhooks.signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signature_header

log = logging.getLogger(__name__)

CONSUMER = "webhooks.subscriptions"
#: Pauses before attempts 2, 3, …; one attempt more than pauses.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
                timedelta(hours=6))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def deliver_webhook(session: Session, payload: dict, timer: Timer) -> None:  # noqa: ARG001
    """Timer handler: make the next attempt of one delivery."""
    delivery = session.get(WebhookDelivery, payload["delivery_id"], with_for_update=True)
    if delivery is None or delivery.status in ("succeeded", "failed"):
        return  # its subscription was deleted, or a duplicate timer run
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    now = clock_now()
    try:
        secret = _secret_for(session, delivery)
        target = resolve_target(delivery.url, allow_private=service.allow_private())
    except (UnsafeWebhookUrl, SecretUnreadable) as error:
        attempt = transport.Attempt(None, 0, str(error) or type(error).__name__)
    else:
        headers = {
            SIGNATURE_HEADER: signature_header(secret, body, int(now.timestamp())),
            EVENT_ID_HEADER: delivery.payload["id"],
            EVENT_TYPE_HEADER: delivery.event_type,
        }
        attempt = transport.post(target, body, headers)
    _record(session, delivery, attempt, now)


def _secret_for(session: Session, delivery: WebhookDelivery) -> str:
    if delivery.subscription_id is None:
        return service.workflow_signing_secret(session.scope.tenant_id)
    return service.secret_of(service.get_subscription(session, delivery.subscription_id))


def _record(session: Session, delivery: WebhookDelivery, attempt: transport.Attempt, now) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = attempt.status_code
    delivery.duration_ms = attempt.duration_ms
    delivery.last_error = attempt.error
    if attempt.succeeded:
        delivery.status, delivery.next_attempt_at = "succeeded", None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = "failed", None
        log.warning("webhook delivery %s failed for good: %s", delivery.id, attempt.error,
                    extra={"tenant_id": session.scope.tenant_id})
    else:
        delivery.status = "retrying"
        delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        schedule_timer(session, handler=service.DELIVERY_TIMER, due_at=delivery.next_attempt_at,
                       payload={"delivery_id": delivery.id}, key=f"webhook:{delivery.id}:{delivery.attempts + 1}")
    session.flush()


def queue_event_deliveries(session: Session, event: DeliveredEvent) -> None:
    """Consumer: one delivery per active subscription that wants the event."""
    for subscription in service.subscriptions_for(session, event.type):
        service.queue_delivery(
            session, url=subscription.url, event_type=event.type, data=dict(event.payload),
            subscription_id=subscription.id, event_id=event.id, object_type=event.object_type,
            object_id=event.object_id, occurred_at=event.occurred_at,
        )
