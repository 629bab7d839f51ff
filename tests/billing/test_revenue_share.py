"""A paid third-party app end to end: enabled → subscribed in Stripe → invoice paid → revenue-share ledger
→ shown to its publisher and to operators; uninstalling it ends its subscription like disabling does.

The app is the sample `demo_addon` (manifest price "monthly", 9.00 EUR; it needs `demo_notes`),
made importable by `install_sources` and approved by `app_with_plugins`, on an app of its own
that talks to localstripe (own job queues, so billing_app's worker never takes its jobs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD
from kundo.testing.jobs import run_jobs
from kundo.testing.plugins import install_sources
from kundo.testing.web import HostClient

SAMPLES = Path(__file__).parents[1] / "plugins" / "samples"
PUBLISHER = "Demo Publisher"  # what demo_addon's manifest names as its publisher
PAYOUT_ACCOUNT = "acct_demo_publisher_1"


@pytest.fixture(scope="module")
def demo_sources(tmp_path_factory):
    remove = install_sources(tmp_path_factory.mktemp("paid-plugins"), {
        "demo_notes": (SAMPLES / "kundo_demo_notes", "kundo_demo_notes:DemoNotes"),
        "demo_addon": (SAMPLES / "kundo_demo_addon", "kundo_demo_addon:DemoAddon"),
    })
    yield
    remove()


@pytest.fixture
def paid_app(demo_sources, app_with_plugins, helpers):  # noqa: ARG001
    from kundo.testing.jobs import stop_job_runner

    app = app_with_plugins("demo_notes", "demo_addon",
                           **helpers.settings(helpers.localstripe, queue_prefix="kundo-billing-apps"))
    result = app.test_cli_runner().invoke(args=["billing", "sync-catalog"])  # the app's plan, from its manifest
    assert result.exit_code == 0, result.output
    yield app
    stop_job_runner(app)


@pytest.fixture
def demo_publisher(paid_app, make_user):
    """Demo Publisher (once per database) with its payout account and an approved demo_addon version.

    The version is removed afterwards: the marketplace tests expect only their own listings.
    """
    from kundo.platform.auth.models import User
    from kundo.platform.db import db
    from kundo.plugins.marketplace.models import PluginVersion, Publisher

    with paid_app.app_context():
        publisher = db.session.scalar(select(Publisher).where(Publisher.name == PUBLISHER))
        if publisher is None:
            _user_id, email = make_user(name="Dora Demo")
            user = db.session.scalar(select(User).where(User.email == email))
            publisher = Publisher(user_id=user.id, name=PUBLISHER, website="https://demo.example",
                                  support_email="help@demo.example")
            db.session.add(publisher)
            db.session.flush()
        if not db.session.scalar(select(PluginVersion.id).where(PluginVersion.plugin_id == "demo_addon")):
            db.session.add(PluginVersion(
                plugin_id="demo_addon", version="0.1.0", publisher_id=publisher.id, status="approved",
                manifest={"id": "demo_addon", "name": "Demo Add-on", "version": "0.1.0", "publisher": PUBLISHER,
                          "price": {"model": "monthly", "amount_cents": 900}},
                distribution="kundo_demo_addon", artifact_path="demo_addon/kundo_demo_addon-0.1.0-py3-none-any.whl",
                files=[], sha256="0" * 64, size_bytes=1))
        db.session.commit()
        email = db.session.get(User, publisher.user_id).email
        publisher_id = publisher.id
    result = paid_app.test_cli_runner().invoke(args=["billing", "payout-account", PUBLISHER, PAYOUT_ACCOUNT])
    assert result.exit_code == 0 and PAYOUT_ACCOUNT in result.output, result.output
    yield publisher_id, email
    with paid_app.app_context():
        db.session.execute(delete(PluginVersion).where(PluginVersion.plugin_id == "demo_addon"))
        db.session.commit()


def root_page(app, email) -> HostClient:
    page = HostClient(app.test_client(), TEST_DOMAIN)
    response = page.submit("/login", {"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return page


def workspace_page(app, workspace) -> HostClient:
    page = HostClient(app.test_client(), workspace.host)
    assert page.submit("/login", {"email": workspace.owner_email, "password": TEST_PASSWORD}).status_code == 302
    return page


def subscription(app, tenant_id, key):
    from kundo.billing.service import live_subscription
    from kundo.platform.db import db

    with app.app_context():
        row = live_subscription(tenant_id, key)
        if row is not None:
            db.session.expunge(row)
        return row


def shares_of(app, invoice_id):
    from kundo.billing.models import RevenueShare
    from kundo.platform.db import db

    with app.app_context():
        return [(r.plugin_id, r.publisher_id, r.tenant_id, r.amount_cents, r.platform_fee_cents,
                 r.publisher_share_cents, r.currency)
                for r in db.session.scalars(select(RevenueShare).where(RevenueShare.invoice_id == invoice_id))]


def test_paid_app_invoice_records_the_revenue_share_for_publisher_and_operators(
        paid_app, demo_publisher, make_workspace, make_user, stripe_api, helpers):
    publisher_id, publisher_email = demo_publisher
    webhooks = helpers.Webhooks(paid_app, stripe_api)
    ws = make_workspace()
    page = workspace_page(paid_app, ws)

    # A paid plan (trial), a card, then the paid app: enabling it subscribes it in Stripe.
    response = page.submit("/settings/billing/plan", {"plan": "starter", "interval": "month", "seats": "1"},
                           page="/settings/billing")
    assert response.status_code == 302
    account = helpers.account(paid_app, ws.tenant_id)
    method = helpers.card(stripe_api, account.customer_id)
    page.submit("/settings/billing/payment-method", {"payment_method": method}, page="/settings/billing")
    response = page.submit("/settings/apps/demo_addon/enable",
                           {"scopes": ["contacts:read"], "with_requirements": "1"}, page="/settings/apps/demo_addon")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    app_sub = subscription(paid_app, ws.tenant_id, "app:demo_addon")
    assert app_sub is not None and app_sub.plan_id == "kundo_app_demo_addon_month_900"
    assert subscription(paid_app, ws.tenant_id, "app:demo_notes") is None  # free: no subscription
    in_stripe = stripe_api.v1.subscriptions.retrieve(app_sub.stripe_id)
    assert in_stripe["customer"] == account.customer_id
    assert in_stripe["items"]["data"][0]["plan"]["amount"] == 900

    # The billing page names the app and shows the status as people read it.
    html = page.get("/settings/billing").get_data(as_text=True)
    assert "Demo Add-on" in html and 'data-status="trialing">Trial<' in html

    # The app's trial ends; Stripe invoices it and the card pays. The webhook's job records the split.
    invoice = helpers.end_trial(stripe_api, app_sub.stripe_id, account.customer_id)
    assert invoice["status"] == "paid"
    delivered = webhooks.deliver(account.customer_id)
    assert any(e["type"] in ("invoice.paid", "invoice.payment_succeeded") for e in delivered)
    run_jobs(paid_app)
    rows = shares_of(paid_app, invoice["id"])
    assert rows == [("demo_addon", publisher_id, ws.tenant_id, 900, 270, 630, "eur")]
    assert 'data-status="active">Active<' in page.get("/settings/billing").get_data(as_text=True)

    # Processing the same invoice again (a replayed event, the sweep) adds nothing.
    from kundo.billing import revenue
    from kundo.billing.stripe_api import plain

    with paid_app.app_context():
        assert revenue.record_invoice(plain(stripe_api.v1.invoices.retrieve(invoice["id"]))) == 0
    assert len(shares_of(paid_app, invoice["id"])) == 1

    # The publisher sees it per app and month on their dashboard.
    dashboard = root_page(paid_app, publisher_email).get("/marketplace/publish")
    html = dashboard.get_data(as_text=True)
    assert dashboard.status_code == 200 and 'data-testid="revenue"' in html
    assert 'data-app="demo_addon"' in html and "Demo Add-on" in html
    assert "€6.30" in html and "€2.70" in html and "€9.00" in html
    assert PAYOUT_ACCOUNT in html and "No revenue yet" not in html

    # Operators see the ledger with totals per publisher; nobody else does.
    _uid, operator_email = make_user(name="Otto Operator")
    assert paid_app.test_cli_runner().invoke(args=["users", "promote", operator_email]).exit_code == 0
    ledger = root_page(paid_app, operator_email).get("/marketplace/revenue")
    html = ledger.get_data(as_text=True)
    assert ledger.status_code == 200
    assert f'data-invoice="{invoice["id"]}"' in html and ws.slug in html
    assert f'data-publisher="{PUBLISHER}"' in html and PAYOUT_ACCOUNT in html
    assert root_page(paid_app, publisher_email).get("/marketplace/revenue").status_code == 403
    assert HostClient(paid_app.test_client(), ws.host).get("/marketplace/revenue").status_code == 404


def test_uninstalling_an_enabled_paid_app_cancels_its_subscription(paid_app, demo_publisher, make_workspace,
                                                                   stripe_api):
    ws = make_workspace()
    page = workspace_page(paid_app, ws)
    page.submit("/settings/billing/plan", {"plan": "professional", "interval": "month", "seats": "1"},
                page="/settings/billing")
    page.submit("/settings/apps/demo_addon/enable", {"scopes": ["contacts:read"], "with_requirements": "1"},
                page="/settings/apps/demo_addon")
    app_sub = subscription(paid_app, ws.tenant_id, "app:demo_addon")
    assert app_sub is not None and not app_sub.cancel_at_period_end

    response = page.submit("/settings/apps/demo_addon/uninstall", {"confirm": ws.slug},
                           page="/settings/apps/demo_addon")
    assert response.status_code == 302
    with paid_app.app_context():
        from kundo.platform.db import db
        from kundo.plugins.models import TenantPlugin

        assert db.session.get(TenantPlugin, (ws.tenant_id, "demo_addon")) is None
    after = subscription(paid_app, ws.tenant_id, "app:demo_addon")
    assert after.cancel_at_period_end  # ends with the period already paid for, as on disable
    assert stripe_api.v1.subscriptions.retrieve(app_sub.stripe_id)["cancel_at_period_end"] is True
    assert not subscription(paid_app, ws.tenant_id, "plan").cancel_at_period_end  # the plan goes on


def test_a_publisher_without_revenue_sees_the_empty_state(paid_app, make_user):
    _uid, email = make_user(name="Nina Newcomer")
    page = root_page(paid_app, email)
    response = page.submit("/marketplace/publish", {"name": f"Newcomer {email.split('@')[0][-8:]}",
                                                    "website": "https://newcomer.example",
                                                    "support_email": "help@newcomer.example"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    html = page.get("/marketplace/publish").get_data(as_text=True)
    assert 'data-testid="revenue"' in html and "No revenue yet" in html
    assert "No payout account yet" in html


def test_setting_a_payout_account_checks_its_input(paid_app, demo_publisher):  # noqa: ARG001
    runner = paid_app.test_cli_runner()
    wrong = runner.invoke(args=["billing", "payout-account", PUBLISHER, "not-an-account"])
    assert wrong.exit_code == 1 and "acct_" in wrong.output
    nobody = runner.invoke(args=["billing", "payout-account", "Nobody Publishing", "acct_x"])
    assert nobody.exit_code == 1 and "no publisher" in nobody.output
