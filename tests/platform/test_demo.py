"""The demo workspace of `make run`: hubs on, a filled pipeline, workflows, notifications — made once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text

from kundo.platform.auth.models import User
from kundo.platform.clock import now as clock_now
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session


def _counts(tenant) -> dict:
    tables = ("contacts", "companies", "tasks", "activities", "workflows", "notifications", "sales_deals",
              "sales_products", "sales_quotes", "sales_booking_pages", "sales_targets", "sales_deal_stage_history")
    with tenant_session(tenant) as session:
        return {table: session.scalar(text(f"SELECT count(*) FROM {table}")) for table in tables}  # noqa: S608


def test_demo_workspace_is_a_living_crm_and_made_once(app_ctx):
    from kundo.platform.demo import DEMO_EMAIL, DEMO_SLUG, ensure_demo_workspace
    from kundo.plugins import enabled_plugin_ids

    assert ensure_demo_workspace() == ensure_demo_workspace()
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    first = _counts(tenant)
    ensure_demo_workspace()
    assert _counts(tenant) == first
    assert {"sales", "marketing", "service"} <= enabled_plugin_ids(tenant.id)

    owner = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    with tenant_session(tenant) as session:
        deals = session.execute(text(
            "SELECT d.status, d.lost_reason, d.amount, d.expected_close_date, d.company_id, s.name, "
            "(SELECT count(*) FROM sales_deal_contacts c WHERE c.deal_id = d.id) AS contacts "
            "FROM sales_deals d JOIN sales_stages s ON s.id = d.stage_id")).all()
        workflows = dict(session.execute(text("SELECT name, status FROM workflows")).all())
        rates = sorted(session.scalars(text("SELECT DISTINCT tax_rate FROM sales_products")))
        quote = session.execute(text("SELECT net_total, gross_total, status FROM sales_quotes")).one()
        page = session.execute(text("SELECT slug, user_id, active FROM sales_booking_pages")).one()
        notifications = session.scalars(text("SELECT kind FROM notifications WHERE user_id = :u"),
                                        {"u": owner.id}).all()
        customers = session.scalar(text("SELECT count(*) FROM contacts WHERE lifecycle_stage = 'customer'"))
        cycles = session.scalars(text("SELECT extract(day FROM closed_at - created_at) FROM sales_deals "
                                      "WHERE status = 'won'")).all()
        stages_reached = session.scalar(text("SELECT count(*) FROM sales_deal_stage_history"))

    assert 20 <= len(deals) <= 30
    statuses = [deal.status for deal in deals]
    assert statuses.count("won") >= 3 and statuses.count("lost") >= 2
    assert all(deal.lost_reason for deal in deals if deal.status == "lost")
    open_deals = [deal for deal in deals if deal.status == "open"]
    assert len({deal.name for deal in open_deals}) == 4  # every open stage of the pipeline has deals
    assert {"Qualifiziert", "Verhandlung"} <= {deal.name for deal in open_deals}  # the workspace speaks German
    assert all(deal.amount > 0 and deal.company_id and deal.contacts == 1 for deal in deals)
    months = {(deal.expected_close_date.year, deal.expected_close_date.month) for deal in open_deals}
    assert len(months) >= 3  # close dates spread over the next months
    assert customers >= 3  # won deals made their contacts customers
    assert all(days >= 14 for days in cycles)  # weeks of history, so the metrics have a sales cycle
    assert stages_reached > len(deals) * 2  # deals went through the stages, not straight into them
    assert abs((clock_now() - datetime.now(UTC)).total_seconds()) < 60  # the app's clock is back

    assert workflows == {"Kunden-Onboarding": "active", "Lead-Pflege": "paused"}
    assert [str(rate) for rate in rates] == ["7.00", "19.00"]
    assert quote.status == "draft" and quote.gross_total > quote.net_total > 0
    assert (page.slug, page.user_id, page.active) == ("demo", owner.id, True)
    assert sorted(notifications) == ["info", "reminder", "success"]
    assert first["tasks"] >= 4 and first["activities"] > len(deals)
    assert first["sales_targets"] == 3


def test_demo_data_without_the_sales_hub_leaves_its_part_out(app_ctx, make_workspace):
    from kundo.platform.demo import seed_demo_data
    from kundo.plugins import enabled_plugin_ids

    workspace = make_workspace(name="Ohne Vertrieb GmbH")
    tenant = db.session.get(Tenant, workspace.tenant_id)
    owner = db.session.get(User, workspace.owner_id)
    assert "sales" not in enabled_plugin_ids(tenant.id)

    made = seed_demo_data(tenant, owner)

    assert "sales" not in made and made["workflows"] == 2 and made["crm"] is True
    with tenant_session(tenant) as session:
        assert session.scalar(text("SELECT to_regclass('sales_deals')")) is None
        assert session.scalar(text("SELECT count(*) FROM contacts")) == 18
        assert session.scalars(text("SELECT kind FROM notifications ORDER BY id DESC")).all() == ["info", "reminder"]
    assert seed_demo_data(tenant, owner) == {"workflows": 0, "crm": False, "notifications": 0}
    assert db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.id == tenant.id)) == 1
