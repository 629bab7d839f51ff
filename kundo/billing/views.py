"""Settings → Billing: plan, subscriptions, seats, next invoice, invoices, payment method, cancel.

Card details go from the browser straight to Stripe (Elements confirms a SetupIntent);
Kundo only ever sees the resulting payment method id.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kundo.billing import catalog, service
from kundo.billing.models import PAST_DUE, UNPAID
from kundo.billing.stripe_api import billing_enabled, plain, stripe_client, unreachable_errors
from kundo.platform.auth.session import role_required
from kundo.platform.db import db
from kundo.platform.web import NavItem
from kundo.tenants.models import Role

log = logging.getLogger("kundo.billing")

blueprint = Blueprint("billing", __name__, template_folder="templates")
NAV = NavItem("billing", "Billing", "billing.page", icon="tag", order=895, min_role=Role.ADMIN,
              section="settings")


#: Stripe's subscription statuses as people read them, and the badge each gets.
SUBSCRIPTION_STATUS = {
    "trialing": (_l("Trial"), "badge-ok"), "active": (_l("Active"), "badge-ok"),
    "past_due": (_l("Past due"), "badge-warn"), "unpaid": (_l("Unpaid"), "badge-err"),
    "canceled": (_l("Canceled"), "badge-muted"), "incomplete": (_l("Pending"), "badge-warn"),
    "incomplete_expired": (_l("Expired"), "badge-muted"), "paused": (_l("Paused"), "badge-muted"),
}


def subscription_status(status: str) -> tuple[str, str]:
    """(label, badge class) of a Stripe status; an unknown one is shown as Stripe says it."""
    label, badge = SUBSCRIPTION_STATUS.get(status, (status, "badge-muted"))
    return str(label), badge


def _workspace_billing() -> None:
    if g.get("tenant") is None or not billing_enabled():
        abort(404)


def _when(stamp) -> datetime | None:
    return datetime.fromtimestamp(int(stamp), UTC) if stamp else None


def _stripe_view(account) -> dict:
    """What the page shows from Stripe itself; `error` when Stripe cannot be asked now."""
    view = {"invoices": [], "next_invoice": None, "card": None, "error": None}
    if account is None or not account.customer_id:
        return view
    import stripe

    client = stripe_client()
    try:
        invoices = plain(client.v1.invoices.list(params={"customer": account.customer_id, "limit": 12}))
        view["invoices"] = [{
            "id": inv["id"], "number": inv.get("number") or inv["id"], "date": _when(inv.get("created")),
            "total": inv.get("total") or 0, "currency": inv.get("currency") or "eur", "status": inv.get("status"),
            "url": inv.get("hosted_invoice_url") or inv.get("invoice_pdf"),
        } for inv in invoices["data"] if inv.get("status") != "draft"]
        customer = plain(client.v1.customers.retrieve(account.customer_id))
        method_id = (customer.get("invoice_settings") or {}).get("default_payment_method")
        if method_id:
            card = plain(client.v1.payment_methods.retrieve(method_id)).get("card") or {}
            view["card"] = {"brand": card.get("brand", "card"), "last4": card.get("last4", "····"),
                            "exp": f"{card.get('exp_month', '')}/{card.get('exp_year', '')}"}
        plan = service.live_subscription(account.tenant_id, "plan")
        if plan is not None:
            try:
                preview = plain(client.v1.invoices.create_preview(params={"customer": account.customer_id,
                                                                           "subscription": plan.stripe_id}))
                view["next_invoice"] = {"total": preview.get("total") or 0,
                                        "date": _when(preview.get("next_payment_attempt")
                                                      or preview.get("period_end")) or plan.current_period_end}
            except stripe.InvalidRequestError:
                view["next_invoice"] = None
    except unreachable_errors():
        view["error"] = _("Our payment provider cannot be reached right now; invoices and the card on file "
                          "are not shown. Everything else works.")
    return view


@blueprint.get("/settings/billing")
@role_required(Role.ADMIN)
def page():
    _workspace_billing()
    account = service.account_of(g.tenant.id)
    subscriptions = service.subscriptions_of(g.tenant.id)
    plan_sub = next((s for s in subscriptions if s.product_key == "plan"), None)
    return render_template(
        "billing/page.html", account=account, state=service.effective_state(account),
        plan_sub=plan_sub, addons=[s for s in subscriptions if s.product_key != "plan"],
        seats_used=service.seats_used(g.tenant.id), plans=catalog.PLANS, hubs=catalog.HUBS,
        plan_labels=catalog.PLAN_LABELS, free_users=catalog.FREE_USERS, trial_days=catalog.TRIAL_DAYS,
        grace_ends=service.grace_ends(account) if account else None,
        publishable_key=current_app.config["KUNDO"].stripe_publishable_key,
        addon_name=_addon_name, subscription_status=subscription_status, **_stripe_view(account),
    )


def _addon_name(key: str) -> str:
    from kundo.plugins.host import plugin_host

    manifests = [lp.manifest for lp in plugin_host().loaded.values() if lp.manifest is not None]
    offer = catalog.offer_for_key(key, manifests)
    if offer is not None:
        return offer.name
    return key.split(":", 1)[-1]


def _done(message: str | None = None):
    if message:
        flash(message, "success")
    return redirect(url_for("billing.page"))


def _refused(error: Exception):
    db.session.rollback()
    if isinstance(error, service.BillingError):
        flash(str(error), "error")
    else:
        log.warning("billing: Stripe call failed for %s: %s", g.tenant.slug, error)
        flash(_("Our payment provider cannot be reached right now. Please try again in a few minutes."), "error")
    return redirect(url_for("billing.page"))


def _seats(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@blueprint.post("/settings/billing/plan")
@role_required(Role.ADMIN)
def choose_plan():
    _workspace_billing()
    try:
        service.choose_plan(g.tenant, plan=request.form.get("plan", ""), interval=request.form.get("interval", ""),
                            seats=_seats(request.form.get("seats")))
    except (service.BillingError, *unreachable_errors()) as error:
        return _refused(error)
    db.session.commit()
    return _done(_("Your plan was updated."))


@blueprint.post("/settings/billing/seats")
@role_required(Role.ADMIN)
def change_seats():
    _workspace_billing()
    seats = _seats(request.form.get("seats"))
    if seats is None or seats < 1:
        flash(_("Enter the number of seats as a whole number of at least 1."), "error")
        return redirect(url_for("billing.page"))
    try:
        service.change_seats(g.tenant, seats)
    except (service.BillingError, *unreachable_errors()) as error:
        return _refused(error)
    db.session.commit()
    return _done(_("You now pay for %(n)s seats. The difference is prorated on your next invoice.", n=seats))


@blueprint.post("/settings/billing/cancel")
@role_required(Role.OWNER)
def cancel():
    _workspace_billing()
    if request.form.get("confirm") != "downgrade":
        flash(_("Tick the box to confirm that you understand what changes."), "error")
        return redirect(url_for("billing.page") + "#cancel")
    try:
        service.downgrade_to_free(g.tenant)
    except (service.BillingError, *unreachable_errors()) as error:
        return _refused(error)
    db.session.commit()
    return _done(_("Your subscriptions end with the current billing period. Until then nothing changes."))


@blueprint.post("/settings/billing/resume")
@role_required(Role.ADMIN)
def resume():
    _workspace_billing()
    try:
        service.resume_plan(g.tenant)
    except unreachable_errors() as error:
        return _refused(error)
    db.session.commit()
    return _done(_("Your subscriptions continue."))


@blueprint.post("/settings/billing/setup-intent")
@role_required(Role.ADMIN)
def setup_intent():
    """A SetupIntent for Stripe Elements: the browser sends the card to Stripe, never to Kundo."""
    _workspace_billing()
    try:
        account = service.require_customer(g.tenant)
        intent = stripe_client().v1.setup_intents.create(params={
            "customer": account.customer_id, "usage": "off_session", "payment_method_types": ["card"]})
    except (service.BillingError, *unreachable_errors()) as error:
        db.session.rollback()
        return jsonify({"error": str(error)}), 503
    db.session.commit()
    return jsonify({"client_secret": intent.client_secret})


@blueprint.post("/settings/billing/payment-method")
@role_required(Role.ADMIN)
def payment_method():
    """Make the card Stripe confirmed the default, then retry what is unpaid (reactivation)."""
    _workspace_billing()
    method = (request.form.get("payment_method") or "").strip()
    if not method.startswith("pm_"):
        flash(_("The card could not be saved. Please enter it again."), "error")
        return redirect(url_for("billing.page"))
    try:
        use_payment_method(g.tenant, method)
    except (service.BillingError, *unreachable_errors()) as error:
        return _refused(error)
    db.session.commit()
    return _done(_("Your card was saved."))


def use_payment_method(tenant, method: str) -> None:
    import stripe

    account = service.require_customer(tenant)
    client = stripe_client()
    method_obj = plain(client.v1.payment_methods.retrieve(method))
    if method_obj.get("customer") != account.customer_id:
        client.v1.payment_methods.attach(method, params={"customer": account.customer_id})
    client.v1.customers.update(account.customer_id, params={"invoice_settings": {"default_payment_method": method}})
    if service.effective_state(account) in (PAST_DUE, UNPAID):
        invoices = plain(client.v1.invoices.list(params={"customer": account.customer_id, "limit": 20}))
        for invoice in invoices["data"]:
            if invoice.get("status") == "open":
                try:
                    client.v1.invoices.pay(invoice["id"])
                except stripe.CardError as error:
                    raise service.BillingError(_("The payment failed: %(reason)s", reason=error.user_message
                                                 or _("the card was declined"))) from error
        for row in service.subscriptions_of(tenant.id):
            service.refresh_subscription(row.stripe_id)


def admin_banner():
    """The banner admins see in every page of a workspace whose payment failed."""
    tenant = g.get("tenant")
    membership = g.get("membership")
    if tenant is None or membership is None or not billing_enabled() \
            or not Role(membership.role).at_least(Role.ADMIN):
        return None
    account = service.account_of(tenant.id)
    state = service.effective_state(account)
    if state == PAST_DUE:
        ends = service.grace_ends(account)
        return {"level": "warning", "text": _("A payment failed. Update your card by %(date)s to keep this "
                                              "workspace writable.", date=ends.strftime("%d.%m.%Y") if ends else ""),
                "link": url_for("billing.page"), "link_text": _("Go to billing")}
    if state in ("unpaid", "canceled"):
        return {"level": "danger", "text": _("This workspace is read-only until its subscription is paid."),
                "link": url_for("billing.page"), "link_text": _("Reactivate")}
    return None
