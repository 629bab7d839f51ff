"""The webhook endpoint: valid, forged, replayed, out of order, unknown type; one workspace's billing only."""

from __future__ import annotations

import json

from sqlalchemy import func, select


def stored(app, event_id):
    from kundo.billing.models import StripeEvent
    from kundo.platform.db import db

    with app.app_context():
        row = db.session.get(StripeEvent, event_id)
        return None if row is None else (row.type, row.processed_at is not None)


def trialing_workspace(make_workspace, billing_page):
    ws = make_workspace()
    page = billing_page(ws)
    page.submit("/settings/billing/plan", {"plan": "professional", "interval": "year", "seats": "1"},
                page="/settings/billing")
    return ws, page


def test_forged_signature_is_refused_and_changes_nothing(billing_app, webhooks, stripe_api, make_workspace,
                                                         billing_page, helpers):
    ws, _page = trialing_workspace(make_workspace, billing_page)
    event = webhooks.new_events()[-1]
    response = webhooks.post(event, secret="whsec_someone_else")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert stored(billing_app, event["id"]) is None
    unsigned = webhooks.client.post("/billing/stripe/webhook", data=json.dumps(event), base_url="http://kundo.test")
    assert unsigned.status_code == 400
    tampered = dict(event, type="customer.subscription.deleted")
    payload = json.dumps(tampered).encode()
    header = helpers.signed(json.dumps(event).encode())  # the signature of another body
    response = webhooks.client.post("/billing/stripe/webhook", data=payload, base_url="http://kundo.test",
                                    headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert helpers.account(billing_app, ws.tenant_id).state == "trialing"


def test_replayed_event_is_processed_once(billing_app, webhooks, billing_jobs, make_workspace, billing_page):
    from kundo.billing.models import StripeEvent
    from kundo.platform.db import db

    trialing_workspace(make_workspace, billing_page)
    event = next(e for e in webhooks.new_events() if e["type"] == "customer.subscription.created")
    first = webhooks.post(event)
    again = webhooks.post(event)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == {"received": True, "duplicate": False}
    assert again.get_json() == {"received": True, "duplicate": True}
    billing_jobs()
    assert stored(billing_app, event["id"]) == ("customer.subscription.created", True)
    with billing_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent).where(
            StripeEvent.id == event["id"])) == 1


def test_unknown_event_type_is_acknowledged_and_ignored(billing_app, webhooks, billing_jobs):
    event = {"id": "evt_kundo_unknown_1", "object": "event", "type": "charge.dispute.funds_withdrawn",
             "created": 1800000000, "data": {"object": {"id": "du_1", "object": "dispute"}}}
    response = webhooks.post(event)
    assert response.status_code == 200
    billing_jobs()
    assert stored(billing_app, event["id"]) == ("charge.dispute.funds_withdrawn", True)


def test_out_of_order_events_end_in_stripes_current_state(billing_app, webhooks, billing_jobs, stripe_api,
                                                          make_workspace, billing_page, helpers):
    ws, page = trialing_workspace(make_workspace, billing_page)
    account = helpers.account(billing_app, ws.tenant_id)
    method = helpers.card(stripe_api, account.customer_id)
    page.submit("/settings/billing/payment-method", {"payment_method": method}, page="/settings/billing")
    from kundo.billing.service import live_subscription

    with billing_app.app_context():
        plan_id = live_subscription(ws.tenant_id, "plan").stripe_id
    helpers.end_trial(stripe_api, plan_id, account.customer_id)
    events = webhooks.new_events(account.customer_id)
    assert [e["type"] for e in events].index("customer.subscription.created") < \
        [e["type"] for e in events].index("invoice.payment_succeeded")
    for event in reversed(events):  # newest first: the "created" snapshot (still a trial) arrives last
        assert webhooks.post(event).status_code == 200
        webhooks.sent.add(event["id"])
    billing_jobs()
    assert helpers.account(billing_app, ws.tenant_id).state == "active"


def test_process_pending_sends_unprocessed_events_again(billing_app, webhooks, billing_jobs):
    from kundo.billing.models import StripeEvent
    from kundo.platform.db import db

    with billing_app.app_context():  # stored, but its job was lost
        db.session.add(StripeEvent(id="evt_kundo_lost_1", type="invoice.created",
                                   payload={"data": {"object": {"id": "in_none"}}}))
        db.session.commit()
    result = billing_app.test_cli_runner().invoke(args=["billing", "process-pending"])
    assert result.exit_code == 0 and "webhook event" in result.output
    billing_jobs()
    assert stored(billing_app, "evt_kundo_lost_1") == ("invoice.created", True)


def test_one_workspace_never_sees_anothers_billing(billing_app, make_workspace, billing_page, stripe_api, helpers):
    a, page_a = trialing_workspace(make_workspace, billing_page)
    account = helpers.account(billing_app, a.tenant_id)
    helpers.card(stripe_api, account.customer_id)
    b = make_workspace()
    html_b = billing_page(b).get("/settings/billing").get_data(as_text=True)
    assert account.customer_id not in html_b
    assert 'data-testid="billing-state">Free<' in html_b
    assert "No invoices yet" in html_b and "No paid subscriptions" in html_b
    assert "Trial ends" in page_a.get("/settings/billing").get_data(as_text=True)


def test_the_worker_sweeps_lost_events_periodically(billing_app, billing_jobs):
    """No cron: billing registers `billing.sweep` as a periodic job; it re-sends events older than its grace."""
    from datetime import timedelta

    from kundo.billing.models import StripeEvent
    from kundo.billing.webhooks import SWEEP_GRACE, SWEEP_JOB
    from kundo.platform.db import db
    from kundo.platform.jobs import jobs_of
    from kundo.platform.jobs.periodic import periodic_jobs

    assert SWEEP_JOB in [entry.job for entry in periodic_jobs(billing_app)]
    with billing_app.app_context():  # both stored, neither job ever enqueued
        db.session.add(StripeEvent(id="evt_kundo_lost_old", type="invoice.created",
                                   payload={"data": {"object": {"id": "in_none"}}},
                                   received_at=func.now() - SWEEP_GRACE - timedelta(minutes=1)))
        db.session.add(StripeEvent(id="evt_kundo_just_in", type="invoice.created",
                                   payload={"data": {"object": {"id": "in_none"}}}))
        db.session.commit()
    jobs_of(billing_app).send(SWEEP_JOB)  # what the worker's periodic thread does every few minutes
    billing_jobs()
    assert stored(billing_app, "evt_kundo_lost_old") == ("invoice.created", True)
    assert stored(billing_app, "evt_kundo_just_in") == ("invoice.created", False)  # its own job is on the way
    billing_app.test_cli_runner().invoke(args=["billing", "process-pending"])
    billing_jobs()
    assert stored(billing_app, "evt_kundo_just_in") == ("invoice.created", True)
