"""`/billing/stripe/webhook`: verify, store once, acknowledge; a job does the work.

The signature is checked on the raw body. Each event is inserted by its id with ON
CONFLICT DO NOTHING, so a replay is acknowledged and ignored. The stored row is the
durable record: if enqueueing the job is lost, the periodic `billing.sweep` job (see
`sweep`; also `kundo billing process-pending`) sends it again. Processing re-reads the
subscription or invoice from Stripe, so the order events arrive in does not matter.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, abort, current_app, request
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from kundo.billing import revenue, service
from kundo.billing.models import StripeEvent
from kundo.billing.stripe_api import billing_enabled, plain, stripe_client
from kundo.platform.clock import now
from kundo.platform.db import db
from kundo.platform.errors import problem_response
from kundo.platform.security import csrf, limiter

log = logging.getLogger("kundo.billing")

blueprint = Blueprint("billing_webhook", __name__)
csrf.exempt(blueprint)
PROCESS_EVENT_JOB = "billing.process_event"
SWEEP_JOB = "billing.sweep"
#: How often the worker sends the sweep, and how old an unprocessed event must be to be sent again.
SWEEP_EVERY_SECONDS = 300
SWEEP_GRACE = timedelta(minutes=2)
SUBSCRIPTION_EVENTS = frozenset({"customer.subscription.created", "customer.subscription.updated",
                                 "customer.subscription.deleted", "customer.subscription.trial_will_end"})
INVOICE_EVENTS = frozenset({"invoice.payment_succeeded", "invoice.paid", "invoice.payment_failed"})


@blueprint.post("/billing/stripe/webhook")
@limiter.exempt
def stripe_webhook():
    if not billing_enabled():
        abort(404)
    import stripe

    payload = request.get_data()
    try:
        event = stripe_client().construct_event(payload, request.headers.get("Stripe-Signature", ""),
                                                current_app.config["KUNDO"].stripe_webhook_secret)
    except (ValueError, stripe.SignatureVerificationError):
        return problem_response(400, "Invalid signature", "The Stripe-Signature header does not match the body.")
    inserted = db.session.scalar(insert(StripeEvent).values(
        id=event.id, type=event.type, payload=event.to_dict(),
    ).on_conflict_do_nothing(index_elements=["id"]).returning(StripeEvent.id))
    db.session.commit()
    if inserted:
        _enqueue(event.id)
    return {"received": True, "duplicate": not inserted}


def _enqueue(event_id: str) -> None:
    from kundo.platform.jobs import jobs_of

    try:
        jobs_of(current_app._get_current_object()).send(PROCESS_EVENT_JOB, event_id)
    except Exception:  # noqa: BLE001 - the row is stored; the sweep sends it again
        log.exception("billing: could not enqueue event %s; the sweep will", event_id)


def process_event(event_id: str) -> None:
    """The job: act on one stored event exactly once (the row lock serialises duplicates)."""
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.id == event_id).with_for_update())
    if row is None or row.processed_at is not None:
        db.session.rollback()
        return
    obj = (row.payload.get("data") or {}).get("object") or {}
    if row.type in SUBSCRIPTION_EVENTS and obj.get("id"):
        service.refresh_subscription(obj["id"])
    elif row.type in INVOICE_EVENTS and obj.get("id"):
        invoice = plain(stripe_client().v1.invoices.retrieve(obj["id"]))
        subscription = invoice.get("subscription") or \
            ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        if subscription:
            service.refresh_subscription(subscription)
        if invoice.get("status") == "paid":
            revenue.record_invoice(invoice)
    # Any other type is acknowledged and ignored.
    row.processed_at = now()
    row.error = None
    db.session.commit()


def process_pending(*, send: bool = True, received_before=None) -> int:
    """Unprocessed events: enqueue each again (or, with send=False, process them here)."""
    query = select(StripeEvent.id).where(StripeEvent.processed_at.is_(None))
    if received_before is not None:
        query = query.where(StripeEvent.received_at < received_before)
    ids = list(db.session.scalars(query.order_by(StripeEvent.received_at)))
    for event_id in ids:
        if send:
            _enqueue(event_id)
        else:
            process_event(event_id)
    return len(ids)


def sweep() -> None:
    """The periodic job (every `SWEEP_EVERY_SECONDS`, sent by the worker): what a lost enqueue left behind.

    Events younger than `SWEEP_GRACE` are left to the job enqueued on receipt; workspaces
    without their Stripe customer get the customer job again. Both jobs are idempotent,
    so several workers sweeping at once only repeat a no-op.
    """
    from kundo.billing.service import retry_pending_customers

    # Database time, like received_at's default (the app's clock may be moved in tests).
    events = process_pending(received_before=func.now() - SWEEP_GRACE)
    customers = retry_pending_customers()
    db.session.rollback()
    if events or customers:
        log.info("billing sweep: sent again %s event(s), %s pending customer(s)", events, customers)
