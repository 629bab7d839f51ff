"""Sign-up creates the Stripe customer (pending + retry job when Stripe is down); the catalogue syncs twice."""

from __future__ import annotations

from sqlalchemy import text

from kundo.testing.fixtures import TEST_PASSWORD, build_app, unique_slug
from kundo.testing.web import HostClient


def sign_up(app, slug: str, email: str):
    root = HostClient(app.test_client(), "kundo.test")
    response = root.submit("/signup", {"company_name": "Billing GmbH", "slug": slug, "name": "Bea Biller",
                                       "email": email, "password": TEST_PASSWORD, "terms": "on"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    from kundo.platform.db import db
    from kundo.tenants.models import Tenant

    with app.app_context():
        return db.session.query(Tenant).filter_by(slug=slug).one().id


def test_signup_creates_one_customer(billing_app, stripe_api, helpers):
    slug = unique_slug("bill")
    tenant_id = sign_up(billing_app, slug, f"{slug}@example.com")
    account = helpers.account(billing_app, tenant_id)
    assert account.state == "free" and account.customer_id.startswith("cus_")
    customer = stripe_api.v1.customers.retrieve(account.customer_id)
    assert customer["metadata"]["tenant_id"] == str(tenant_id) and customer["email"] == f"{slug}@example.com"


def test_stripe_down_at_signup_leaves_workspace_pending_then_a_job_creates_the_customer(
        database_url, free_port_closed, billing_app, billing_jobs, stripe_api, helpers):
    from kundo.billing.service import create_customer_job
    from kundo.platform.db import db

    # Its own queue: the retry job it enqueues must not be run by a worker that reaches Stripe
    # before the test has looked at the pending workspace.
    down = build_app(database_url, **helpers.settings(free_port_closed, queue_prefix="kundo-billing-down"))
    try:
        slug = unique_slug("down")
        email = f"{slug}@example.com"
        tenant_id = sign_up(down, slug, email)  # the workspace exists although Stripe did not answer
        account = helpers.account(down, tenant_id)
        assert account.state == "pending" and account.customer_id is None
        page = HostClient(down.test_client(), f"{slug}.kundo.test")
        page.submit("/login", {"email": email, "password": TEST_PASSWORD})
        assert "Billing is being set up" in page.get("/settings/billing").get_data(as_text=True)
    finally:
        with down.app_context():
            db.engine.dispose()

    # Sign-up enqueued the retry job; Stripe is back, so hand it to the worker that reaches Stripe.
    with billing_app.app_context():
        moved = db.session.execute(text(
            "UPDATE kundo_jobs.queue SET queue_name = 'kundo-billing-default', "
            "message = jsonb_set(message, '{queue_name}', '\"kundo-billing-default\"') "
            "WHERE queue_name = 'kundo-billing-down-default' AND state = 'queued' "
            "AND message->>'actor_name' = 'billing.create_customer' AND message->'args' = CAST(:args AS jsonb)"),
            {"args": f"[{tenant_id}]"}).rowcount
        db.session.commit()
    assert moved == 1
    # The sweep (`kundo billing process-pending`) sends it once more: still one customer.
    result = billing_app.test_cli_runner().invoke(args=["billing", "process-pending"])
    assert result.exit_code == 0 and "pending customer" in result.output, result.output
    billing_jobs()
    account = helpers.account(billing_app, tenant_id)
    assert account.state == "free" and account.customer_id.startswith("cus_")
    with billing_app.app_context():
        create_customer_job(tenant_id)  # a second run (a retried job) changes nothing
    customers = stripe_api.v1.customers.list(params={"email": email})["data"]
    assert [c["id"] for c in customers] == [account.customer_id]


def test_catalog_sync_twice_creates_nothing_the_second_time(billing_app, stripe_api):
    from kundo.billing.catalog import HUBS, PLANS

    runner = billing_app.test_cli_runner()
    result = runner.invoke(args=["billing", "sync-catalog"])  # the fixture ran it once already
    assert result.exit_code == 0, result.output
    assert "0 created" in result.output
    plans = [p["id"] for p in stripe_api.v1.plans.list(params={"limit": 100})["data"]]
    products = [p["id"] for p in stripe_api.v1.products.list(params={"limit": 100})["data"]]
    assert len(plans) == len(set(plans)) and len(products) == len(set(products))
    for offer in [*PLANS.values(), *HUBS.values()]:
        assert offer.product_id in products
        assert offer.plan_id("month") in plans and offer.plan_id("year") in plans


def test_billing_off_without_a_key(app, make_workspace, sign_in):
    """The default app has no Stripe key: no billing page or nav entry, hooks allow everything."""
    from kundo.billing.models import BillingAccount
    from kundo.billing.stripe_api import billing_enabled
    from kundo.platform.db import db

    ws = make_workspace()
    page = sign_in(ws)
    assert page.get("/settings/billing").status_code == 404
    assert "/settings/billing" not in page.get("/settings/members").get_data(as_text=True)
    with app.app_context():
        assert not billing_enabled(app)
        assert app.extensions["kundo.plugin_entitlement"](None, None) is None
        assert db.session.get(BillingAccount, ws.tenant_id) is None
