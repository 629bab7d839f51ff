"""Trial → paid, hub add-on subscribe/cancel, seats with proration, payment failure → read-only → active."""

from __future__ import annotations

from datetime import timedelta

from kundo.testing.jobs import move_clock

MARKETING_SCOPES = ["contacts:read", "contacts:write", "timeline:write"]


def plan_row(app, tenant_id, key="plan"):
    from kundo.billing.service import live_subscription
    from kundo.platform.db import db

    with app.app_context():
        row = live_subscription(tenant_id, key)
        if row is not None:
            db.session.expunge(row)
        return row


def start_trial(page, seats=1):
    response = page.submit("/settings/billing/plan", {"plan": "starter", "interval": "month", "seats": str(seats)},
                           page="/settings/billing")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_trial_then_paid_and_a_hub_add_on(billing_app, make_workspace, billing_page, stripe_api, webhooks,
                                          billing_jobs, helpers):
    ws = make_workspace()
    page = billing_page(ws)
    start_trial(page)
    account = helpers.account(billing_app, ws.tenant_id)
    assert account.state == "trialing" and account.plan == "starter" and account.trial_used
    plan = plan_row(billing_app, ws.tenant_id)
    assert plan.trial_end is not None and plan.quantity == 1
    html = page.get("/settings/billing").get_data(as_text=True)
    assert "Trial ends" in html and "js.stripe.com/v3" in html

    # Enabling the Marketing Hub subscribes it, on the plan's trial and billing day.
    response = page.submit("/settings/apps/marketing/enable", {"scopes": MARKETING_SCOPES},
                           page="/settings/apps/marketing")
    assert response.status_code == 302
    hub = plan_row(billing_app, ws.tenant_id, "hub:marketing")
    assert hub is not None and hub.trial_end == plan.trial_end and not hub.cancel_at_period_end
    sub = stripe_api.v1.subscriptions.retrieve(hub.stripe_id)
    assert sub["items"]["data"][0]["plan"]["id"] == "kundo_hub_marketing_month"

    # A card (what Stripe.js leaves after confirmCardSetup), then the trial ends and the invoice is paid.
    method = helpers.card(stripe_api, account.customer_id)
    page.submit("/settings/billing/payment-method", {"payment_method": method}, page="/settings/billing")
    invoice = helpers.end_trial(stripe_api, plan.stripe_id, account.customer_id)
    assert invoice["status"] == "paid"
    webhooks.deliver(account.customer_id)
    billing_jobs()
    assert helpers.account(billing_app, ws.tenant_id).state == "active"
    html = page.get("/settings/billing").get_data(as_text=True)
    assert "Visa" in html or "4242" in html
    assert invoice["id"] in html  # invoice history

    # Disabling the hub cancels its subscription at the end of the period; data stays.
    page.submit("/settings/apps/marketing/disable", {}, page="/settings/apps/marketing")
    hub = plan_row(billing_app, ws.tenant_id, "hub:marketing")
    assert hub.cancel_at_period_end
    assert stripe_api.v1.subscriptions.retrieve(hub.stripe_id)["cancel_at_period_end"] is True


def test_hub_needs_a_paid_plan(billing_app, make_workspace, billing_page):
    ws = make_workspace()
    page = billing_page(ws)
    page.submit("/settings/apps/service/enable", {"scopes": ["contacts:read", "timeline:write"]},
                page="/settings/apps/service")
    html = page.get("/settings/apps/service").get_data(as_text=True)
    assert "Choose Starter or Professional" in html
    assert plan_row(billing_app, ws.tenant_id, "hub:service") is None


def test_seats_follow_membership_and_changes_are_prorated(billing_app, make_workspace, billing_page, add_member,
                                                          stripe_api, helpers):
    ws = make_workspace()
    add_member(ws)  # two users: what Free covers
    page = billing_page(ws)
    refused = page.submit("/settings/members/invite", {"email": "third@example.com", "role": "member"},
                          page="/settings/members")
    assert "The Free plan covers 2 users" in refused.get_data(as_text=True) or \
        "The Free plan covers 2 users" in page.get("/settings/members").get_data(as_text=True)

    start_trial(page, seats=2)
    account = helpers.account(billing_app, ws.tenant_id)
    plan = plan_row(billing_app, ws.tenant_id)
    assert plan.quantity == 2
    helpers.card(stripe_api, account.customer_id)
    stripe_api.v1.customers.update(account.customer_id, params={"invoice_settings": {
        "default_payment_method": stripe_api.v1.payment_methods.list(
            params={"customer": account.customer_id, "type": "card"})["data"][0]["id"]}})
    helpers.end_trial(stripe_api, plan.stripe_id, account.customer_id)

    page.submit("/settings/members/invite", {"email": "third@example.com", "role": "member"}, page="/settings/members")
    assert "All 2 paid seats are taken" in page.get("/settings/members").get_data(as_text=True)

    # Below the members: refused. Three seats: Stripe's subscription follows, the difference prorated.
    page.submit("/settings/billing/seats", {"seats": "1"}, page="/settings/billing")
    assert plan_row(billing_app, ws.tenant_id).quantity == 2
    page.submit("/settings/billing/seats", {"seats": "3"}, page="/settings/billing")
    assert plan_row(billing_app, ws.tenant_id).quantity == 3
    sub = stripe_api.v1.subscriptions.retrieve(plan.stripe_id)
    assert sub["items"]["data"][0]["quantity"] == 3
    items = stripe_api.v1.invoice_items.list(params={"customer": account.customer_id}).to_dict()["data"]
    prorations = [item for item in items if item.get("proration")]
    assert prorations and prorations[0]["amount"] < 0  # credit for the unused time of the two-seat period
    preview = stripe_api.v1.invoices.create_preview(params={"customer": account.customer_id,
                                                            "subscription": plan.stripe_id})
    assert preview["total"] == 3 * 1500 + prorations[0]["amount"]
    page.submit("/settings/members/invite", {"email": "third@example.com", "role": "member"}, page="/settings/members")
    assert "third@example.com" in page.get("/settings/members").get_data(as_text=True)


def test_payment_failure_past_due_read_only_then_payment_reactivates(
        billing_app, make_workspace, billing_page, stripe_api, webhooks, billing_jobs, helpers, api_token):
    from kundo.testing.web import HostClient

    ws = make_workspace()
    page = billing_page(ws)
    start_trial(page)
    account = helpers.account(billing_app, ws.tenant_id)
    plan = plan_row(billing_app, ws.tenant_id)
    good = helpers.card(stripe_api, account.customer_id)
    page.submit("/settings/billing/payment-method", {"payment_method": good}, page="/settings/billing")
    helpers.end_trial(stripe_api, plan.stripe_id, account.customer_id)
    webhooks.deliver(account.customer_id)
    billing_jobs()
    assert helpers.account(billing_app, ws.tenant_id).state == "active"

    # The card starts to decline; the renewal fails.
    bad = helpers.card(stripe_api, account.customer_id, "4000008260003178")
    stripe_api.v1.customers.update(account.customer_id, params={"invoice_settings": {"default_payment_method": bad}})
    failed = helpers.declined_renewal(helpers.localstripe, stripe_api, plan.stripe_id, account.customer_id)
    assert failed["status"] == "open"
    types = [e["type"] for e in webhooks.deliver(account.customer_id)]
    assert "invoice.payment_failed" in types
    billing_jobs()
    assert helpers.account(billing_app, ws.tenant_id).state == "past_due"
    assert "A payment failed" in page.get("/contacts").get_data(as_text=True)  # the admin banner
    created = page.submit("/contacts/new", {"first_name": "Still", "last_name": "Writable",
                                            "email": "still@example.com"}, page="/contacts/new")
    assert created.status_code in (200, 302) and created.status_code != 402  # grace period: writes allowed

    # After the grace period the workspace is read-only: pages explain, the API answers 402.
    move_clock(billing_app, timedelta(days=8))
    refused = page.submit("/contacts/new", {"first_name": "Not", "last_name": "Saved"}, page="/contacts/new")
    assert refused.status_code == 402
    assert "read-only" in refused.get_data(as_text=True) and "/settings/billing" in refused.get_data(as_text=True)
    token = api_token(ws)
    api = HostClient(billing_app.test_client(), ws.host)
    answer = api.api("POST", "/api/v1/contacts", token, json={"first_name": "Not", "last_name": "Saved"})
    assert answer.status_code == 402 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"] == "https://kundo.dev/problems/workspace-read-only"
    assert api.api("GET", "/api/v1/contacts", token).status_code == 200  # reading still works
    assert page.get("/contacts/export.csv").status_code == 200  # and exporting
    assert page.get("/settings/billing").status_code == 200

    # A working card pays the open invoice: active again, writable again.
    good_again = helpers.card(stripe_api, account.customer_id)
    page.submit("/settings/billing/payment-method", {"payment_method": good_again}, page="/settings/billing")
    webhooks.deliver(account.customer_id)
    billing_jobs()
    assert helpers.account(billing_app, ws.tenant_id).state == "active"
    assert stripe_api.v1.invoices.retrieve(failed["id"])["status"] == "paid"
    again = api.api("POST", "/api/v1/contacts", token, json={"first_name": "Back", "last_name": "Again"})
    assert again.status_code == 201, again.get_data(as_text=True)
