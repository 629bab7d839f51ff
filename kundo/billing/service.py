"""Billing of one workspace: its Stripe customer, plan, seats, add-ons and the state they put it in.

Stripe is asked, Kundo keeps a copy (`BillingSubscription`) and derives the workspace's
state from the plan subscription (`recompute_state`). Webhook processing never trusts an
event's snapshot: it re-reads the subscription from Stripe (`refresh_subscription`), so
events arriving out of order still end in Stripe's current state.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, func, select

from kundo.billing import catalog
from kundo.billing.models import (
    ACTIVE,
    CANCELED,
    FREE,
    PAST_DUE,
    PENDING,
    READ_ONLY_STATES,
    TRIALING,
    UNPAID,
    BillingAccount,
    BillingSubscription,
)
from kundo.billing.stripe_api import billing_enabled, plain, stripe_client, unreachable_errors
from kundo.platform.clock import now
from kundo.platform.db import db

log = logging.getLogger("kundo.billing")

CREATE_CUSTOMER_JOB = "billing.create_customer"
LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid", "incomplete")


class BillingError(Exception):
    """A refusal to show as it is (page flash, problem detail, CLI message)."""


# ---- after commit -------------------------------------------------------------------------------


def send_after_commit(name: str, *args) -> None:
    """Enqueue a job once the current control transaction commits (dropped on rollback).

    Losing it is harmless: the stored rows are the durable record and the worker's
    periodic `billing.sweep` (or `kundo billing process-pending`) sends again whatever is open.
    """
    session = db.session()
    pending = session.info.setdefault("kundo_billing_jobs", [])
    pending.append((name, args))
    if not session.info.get("kundo_billing_listening"):
        session.info["kundo_billing_listening"] = True
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)


def _send_pending(session) -> None:
    from kundo.platform.jobs import jobs_of

    jobs, session.info["kundo_billing_jobs"] = session.info.get("kundo_billing_jobs", []), []
    for name, args in jobs:
        try:
            jobs_of(current_app._get_current_object()).send(name, *args)
        except Exception:  # noqa: BLE001 - the sweep sends it again
            log.exception("billing: could not enqueue %s%r; the sweep will", name, args)


def _drop_pending(session) -> None:
    session.info["kundo_billing_jobs"] = []


# ---- the account ------------------------------------------------------------------------------


def account_of(tenant_id: int, *, lock: bool = False) -> BillingAccount | None:
    query = select(BillingAccount).where(BillingAccount.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def on_workspace_created(tenant, owner) -> None:
    """Sign-up hook: the billing account, and the Stripe customer if Stripe answers now.

    Stripe unreachable → the workspace is created anyway in "pending" and a job retries;
    the idempotency key names the workspace, so the customer is never created twice.
    """
    if not billing_enabled():
        return
    account = BillingAccount(tenant_id=tenant.id, email=owner.email, state=PENDING)
    db.session.add(account)
    db.session.flush()
    try:
        _create_customer(account, tenant)
    except unreachable_errors() as error:
        log.warning("billing: Stripe unreachable at sign-up of %s (%s); a job retries", tenant.slug, error)
        send_after_commit(CREATE_CUSTOMER_JOB, tenant.id)


def _create_customer(account: BillingAccount, tenant) -> None:
    customer = stripe_client().v1.customers.create(
        params={"email": account.email, "name": tenant.name,
                "metadata": {"tenant_id": str(tenant.id), "slug": tenant.slug}},
        options={"idempotency_key": f"kundo-workspace-{tenant.id}-customer"},
    )
    account.customer_id = customer.id
    if account.state == PENDING:
        account.state = FREE
    db.session.flush()


def create_customer_job(tenant_id: int) -> None:
    """The retry of `on_workspace_created`: raises while Stripe is unreachable, so the job retries."""
    from kundo.tenants.models import Tenant

    account = account_of(tenant_id, lock=True)
    tenant = db.session.get(Tenant, tenant_id)
    if account is None or tenant is None or account.customer_id:
        db.session.rollback()
        return
    _create_customer(account, tenant)
    db.session.commit()


def require_customer(tenant) -> BillingAccount:
    account = account_of(tenant.id)
    if account is None:  # a workspace from before billing was switched on
        from kundo.platform.auth.models import User
        from kundo.tenants.models import Membership, Role

        owner = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.tenant_id == tenant.id, Membership.role == Role.OWNER).limit(1))
        account = BillingAccount(tenant_id=tenant.id, email=owner.email if owner else "", state=PENDING)
        db.session.add(account)
        db.session.flush()
    if not account.customer_id:
        try:
            _create_customer(account, tenant)
        except unreachable_errors() as error:
            raise BillingError(_("Our payment provider cannot be reached right now. Please try again "
                                 "in a few minutes.")) from error
    return account


# ---- state ------------------------------------------------------------------------------------


def effective_state(account: BillingAccount | None) -> str:
    """The state that decides what a workspace may do; past_due beyond the grace period is unpaid."""
    if account is None:
        return FREE
    if account.state == PAST_DUE and account.past_due_since is not None and \
            now() - account.past_due_since > timedelta(days=catalog.GRACE_DAYS):
        return UNPAID
    return account.state


def is_read_only(tenant_id: int) -> bool:
    if not billing_enabled():
        return False
    return effective_state(account_of(tenant_id)) in READ_ONLY_STATES


def grace_ends(account: BillingAccount) -> datetime | None:
    if account.past_due_since is None:
        return None
    return account.past_due_since + timedelta(days=catalog.GRACE_DAYS)


def subscriptions_of(tenant_id: int, *, live_only: bool = True) -> list[BillingSubscription]:
    query = select(BillingSubscription).where(BillingSubscription.tenant_id == tenant_id)
    if live_only:
        query = query.where(BillingSubscription.status.in_(LIVE_STATUSES))
    return list(db.session.scalars(query.order_by(BillingSubscription.product_key, BillingSubscription.id)))


def live_subscription(tenant_id: int, key: str) -> BillingSubscription | None:
    return db.session.scalar(select(BillingSubscription).where(
        BillingSubscription.tenant_id == tenant_id, BillingSubscription.product_key == key,
        BillingSubscription.status.in_(LIVE_STATUSES)).order_by(BillingSubscription.id.desc()).limit(1))


def _stamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _stripe_status(sub) -> str:
    """Stripe's status; a trial the stand-in reports as "incomplete" (no invoice yet) counts as trialing."""
    status = sub["status"]
    trial_end = _stamp(sub.get("trial_end"))
    if status == "incomplete" and trial_end is not None and trial_end > now():
        return "trialing"
    return status


def store_subscription(sub) -> BillingSubscription | None:
    """Copy a Stripe subscription into Kundo's row (created on first sight); None if not Kundo's."""
    sub = plain(sub)
    metadata = sub.get("metadata") or {}
    row = db.session.scalar(select(BillingSubscription).where(BillingSubscription.stripe_id == sub["id"]))
    if row is None:
        account = db.session.scalar(select(BillingAccount).where(BillingAccount.customer_id == sub["customer"]))
        if account is None or not metadata.get("kundo_key"):
            return None
        row = BillingSubscription(tenant_id=account.tenant_id, product_key=metadata["kundo_key"],
                                  stripe_id=sub["id"])
        db.session.add(row)
    item = sub["items"]["data"][0]
    row.plan_id = item["plan"]["id"]
    row.quantity = int(item.get("quantity") or 1)
    row.status = _stripe_status(sub)
    row.trial_end = _stamp(sub.get("trial_end"))
    row.current_period_end = _stamp(sub.get("current_period_end") or item.get("current_period_end"))
    row.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    db.session.flush()
    return row


def refresh_subscription(stripe_id: str) -> BillingSubscription | None:
    """Re-read a subscription from Stripe (whatever an event said) and recompute its workspace's state."""
    sub = stripe_client().v1.subscriptions.retrieve(stripe_id)
    row = store_subscription(sub)
    if row is not None:
        recompute_state(row.tenant_id)
    return row


def recompute_state(tenant_id: int) -> str:
    """Derive the workspace's state from its plan subscription (see models for the states)."""
    account = account_of(tenant_id, lock=True)
    if account is None:
        return FREE
    plan = db.session.scalar(select(BillingSubscription).where(
        BillingSubscription.tenant_id == tenant_id, BillingSubscription.product_key == "plan",
    ).order_by(BillingSubscription.id.desc()).limit(1))
    previous = account.state
    if not account.customer_id:
        state = PENDING
    elif plan is None:
        state = FREE
    elif plan.status == "trialing":
        state = TRIALING
    elif plan.status == "active":
        state = ACTIVE
    elif plan.status in ("past_due", "incomplete"):
        state = PAST_DUE
    elif plan.status == "unpaid":
        state = UNPAID
    elif plan.cancel_at_period_end:  # ended as the admin asked: back to Free, data kept
        state = FREE
    else:  # canceled by Stripe for non-payment (or incomplete_expired)
        state = CANCELED
    if state == PAST_DUE:
        account.past_due_since = account.past_due_since or now()
    elif state != UNPAID:
        account.past_due_since = None
    if state == FREE and plan is not None:
        account.plan = "free"
    elif plan is not None and state != FREE:
        account.plan = _plan_name(plan.plan_id)
        account.interval = "year" if plan.plan_id.endswith("_year") else "month"
    account.state = state
    db.session.flush()
    if state != previous:
        from kundo.platform.audit.service import record_audit

        record_audit(f"billing.{state}", tenant_id=tenant_id, target=f"tenant:{tenant_id}",
                     data={"from": previous})
        if state == FREE and previous in (TRIALING, ACTIVE, PAST_DUE):
            send_after_commit(DISABLE_ADDONS_JOB, tenant_id)
    return state


def _plan_name(plan_id: str) -> str:
    for name, offer in catalog.PLANS.items():
        if plan_id.startswith(offer.product_id + "_"):
            return name
    return "starter"


# ---- plan and seats -------------------------------------------------------------------------


def seats_used(tenant_id: int) -> int:
    from kundo.tenants.models import Membership

    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.tenant_id == tenant_id)) or 0


def seats_paid(tenant_id: int) -> int | None:
    """Seats of the paid plan; None on Free (which covers `FREE_USERS`)."""
    plan = live_subscription(tenant_id, "plan")
    return plan.quantity if plan is not None else None


def choose_plan(tenant, *, plan: str, interval: str, seats: int | None = None) -> BillingSubscription:
    """Subscribe to a paid plan (with the 14-day trial the first time) or switch plan/interval."""
    offer = catalog.PLANS.get(plan)
    if offer is None or interval not in catalog.INTERVALS:
        raise BillingError(_("Choose Starter or Professional, billed monthly or yearly."))
    account = require_customer(tenant)
    used = seats_used(tenant.id)
    seats = max(int(seats or 0), used, 1)
    client = stripe_client()
    current = live_subscription(tenant.id, "plan")
    plan_id = offer.plan_id(interval)
    if current is not None:
        sub = client.v1.subscriptions.retrieve(current.stripe_id)
        sub = client.v1.subscriptions.update(current.stripe_id, params={
            "items": [{"id": plain(sub)["items"]["data"][0]["id"], "plan": plan_id, "quantity": seats}],
            "cancel_at_period_end": False,
        })
    else:
        params = {"customer": account.customer_id, "items": [{"plan": plan_id, "quantity": seats}],
                  "metadata": {"kundo_key": "plan", "tenant_id": str(tenant.id)}}
        if not account.trial_used:
            params["trial_end"] = int((now() + timedelta(days=catalog.TRIAL_DAYS)).timestamp())
        sub = client.v1.subscriptions.create(params=params, options={
            "idempotency_key": f"kundo-workspace-{tenant.id}-plan-{_subscription_count(tenant.id)}"})
        account.trial_used = True
    row = store_subscription(sub)
    recompute_state(tenant.id)
    _audit(tenant, "billing.plan_chosen", {"plan": plan, "interval": interval, "seats": seats})
    return row


def change_seats(tenant, seats: int) -> BillingSubscription:
    """Set the paid seats (Stripe prorates the difference on the next invoice)."""
    current = live_subscription(tenant.id, "plan")
    if current is None:
        raise BillingError(_("The Free plan has no seats to add. Choose Starter or Professional first."))
    used = seats_used(tenant.id)
    if seats < used:
        raise BillingError(_("%(used)s people are members; remove members before going below %(used)s seats.",
                             used=used))
    client = stripe_client()
    sub = client.v1.subscriptions.retrieve(current.stripe_id)
    sub = client.v1.subscriptions.update(current.stripe_id, params={
        "items": [{"id": plain(sub)["items"]["data"][0]["id"], "quantity": seats}]})
    row = store_subscription(sub)
    _audit(tenant, "billing.seats_changed", {"from": current.quantity, "to": seats})
    return row


def downgrade_to_free(tenant) -> list[BillingSubscription]:
    """Cancel the plan and every add-on at the end of the period; the workspace then becomes Free."""
    client = stripe_client()
    rows = []
    for row in subscriptions_of(tenant.id):
        rows.append(store_subscription(client.v1.subscriptions.update(
            row.stripe_id, params={"cancel_at_period_end": True})))
    _audit(tenant, "billing.downgrade_requested", {})
    return rows


def resume_plan(tenant) -> None:
    """Undo a pending downgrade (before the period ended)."""
    client = stripe_client()
    for row in subscriptions_of(tenant.id):
        if row.cancel_at_period_end:
            store_subscription(client.v1.subscriptions.update(row.stripe_id,
                                                              params={"cancel_at_period_end": False}))


def _subscription_count(tenant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(BillingSubscription).where(
        BillingSubscription.tenant_id == tenant_id)) or 0


def _audit(tenant, action: str, data: dict) -> None:
    from flask import g, has_request_context

    from kundo.platform.audit.service import record_audit

    user = g.get("user") if has_request_context() else None
    record_audit(action, tenant_id=tenant.id, actor_user_id=user.id if user is not None else None,
                 target=f"tenant:{tenant.slug}", data=data)


# ---- hubs and apps ------------------------------------------------------------------------------


DISABLE_ADDONS_JOB = "billing.disable_addons"


def subscribe_addon(tenant, offer: catalog.Offer) -> BillingSubscription:
    """One subscription per hub or app, on the plan's billing day (and its trial, while it lasts)."""
    account = account_of(tenant.id)
    state = effective_state(account)
    if state not in (TRIALING, ACTIVE):
        raise BillingError(_("%(name)s is a paid add-on. Choose Starter or Professional under Settings → "
                             "Billing first.", name=offer.name))
    existing = live_subscription(tenant.id, offer.key)
    client = stripe_client()
    if existing is not None:
        if existing.cancel_at_period_end:
            store_subscription(client.v1.subscriptions.update(existing.stripe_id,
                                                              params={"cancel_at_period_end": False}))
        return existing
    plan = live_subscription(tenant.id, "plan")
    interval = "year" if plan.plan_id.endswith("_year") and offer.year_cents is not None else "month"
    params = {"customer": account.customer_id, "items": [{"plan": offer.plan_id(interval), "quantity": 1}],
              "metadata": {"kundo_key": offer.key, "tenant_id": str(tenant.id)}}
    if plan.trial_end is not None and plan.trial_end > now():
        params["trial_end"] = int(plan.trial_end.timestamp())  # free until the plan's trial ends
    elif plan.current_period_end is not None and plan.current_period_end > now():
        params["billing_cycle_anchor"] = int(plan.current_period_end.timestamp())  # same billing day
    sub = client.v1.subscriptions.create(params=params, options={
        "idempotency_key": f"kundo-workspace-{tenant.id}-{offer.key}-{_subscription_count(tenant.id)}"})
    row = store_subscription(sub)
    _audit(tenant, "billing.addon_subscribed", {"product": offer.key})
    return row


def cancel_addon(tenant, key: str) -> BillingSubscription | None:
    """Disabling a hub or app: its subscription ends with the period already paid for."""
    row = live_subscription(tenant.id, key)
    if row is None or row.cancel_at_period_end:
        return row
    row = store_subscription(stripe_client().v1.subscriptions.update(
        row.stripe_id, params={"cancel_at_period_end": True}))
    _audit(tenant, "billing.addon_canceled", {"product": key})
    return row


def disable_addons_job(tenant_id: int) -> None:
    """Back on Free: paid hubs and apps are disabled; their tables and data stay for a later enable."""
    from kundo.plugins.host import plugin_host
    from kundo.plugins.installs import PluginError, _installs, disable_plugin
    from kundo.tenants.models import Tenant

    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or effective_state(account_of(tenant_id)) != FREE:
        return
    host = plugin_host()
    for plugin_id, install in sorted(_installs(tenant).items(), reverse=True):
        loaded = host.loaded.get(plugin_id)
        if install.enabled and loaded is not None and loaded.manifest is not None \
                and catalog.offer_for_plugin(loaded.manifest) is not None:
            try:
                disable_plugin(tenant, plugin_id, user=None)
            except PluginError as error:
                log.warning("billing: could not disable %s in %s: %s", plugin_id, tenant.slug, error)


def retry_pending_customers() -> int:
    """Enqueue the customer job for every workspace still without a Stripe customer (the sweep)."""
    from kundo.platform.jobs import jobs_of

    ids = list(db.session.scalars(select(BillingAccount.tenant_id).where(BillingAccount.customer_id.is_(None))))
    for tenant_id in ids:
        jobs_of(current_app._get_current_object()).send(CREATE_CUSTOMER_JOB, tenant_id)
    return len(ids)
