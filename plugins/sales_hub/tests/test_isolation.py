"""Isolation of every Sales Hub table: what workspace A makes, workspace B never sees.

A makes one of everything the hub stores (pipeline and stages, a deal with a contact and
its stage history, a stage rule, a target, the settings row, a product, a quote with
lines and its number counter, a booking page and a booked meeting). B — with the hub
enabled too — sees none of it through its pages and API (404 or empty), and B's tenant
role cannot even name A's schema in raw SQL. Uninstalling the hub in A then drops every
sales_* table and the hub's version table there, and leaves B's alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from kundo_sales.booking import service as booking
from kundo_sales.deals import service as deals
from kundo_sales.forecast import service as forecast
from kundo_sales.models import all_tables
from kundo_sales.pipelines import service as pipelines
from kundo_sales.products import service as products
from kundo_sales.quotes import service as quotes
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from kundo.crm import create_contact
from kundo.tenants.naming import quoted
from kundo.tenants.session import tenant_session
from kundo.testing.plugins import tenant_tables
from kundo.testing.web import HostClient

ALL_DAY = {str(d): [["00:00", "24:00"]] for d in range(1, 8)}
SALES_TABLES = sorted(table.name for table in all_tables())


def _counts(ws) -> dict[str, int]:
    with ws.session() as session:
        return {name: session.scalar(text(f"SELECT count(*) FROM {quoted(name)}")) for name in SALES_TABLES}


def _one_of_everything(ws) -> dict:
    """Every sales table gets at least one row in `ws`; returns the ids and names B must not see."""
    owner = ws.workspace.owner_id
    with ws.session() as session:
        pipelines.ensure_default_pipeline(session, "en")
        pipeline = pipelines.create_pipeline(session, "Secret pipeline A", created_by=owner)
        first, second = pipeline.stages[0], pipeline.stages[1]
        pipelines.create_rule(session, pipeline, stage_id=second.id, title="Secret follow-up", due_in_days=2)
        contact = create_contact(session, first_name="Anna", last_name="Secret", emails=["anna@secret-a.example"])
        deal = deals.create_deal(session, name="Secret deal A", pipeline_id=pipeline.id, amount="12500",
                                 owner_id=owner, contact_ids=[contact.id], actor_id=owner)
        deals.move_deal(session, deal, second.id, user_id=owner)  # a second stage-history row
        forecast.set_target(session, owner_id=owner, month=date.today(), amount="50000", created_by=owner)
        from kundo_sales.access import save_visibility

        save_visibility(session, "own")
        product = products.create_product(session, {"name": "Secret product A", "sku": "SEC-A", "unit_price": "99"})
        quote = quotes.create_quote(session, deal.id, {"discount_percent": "5"}, lines=[
            {"product_id": product.id, "quantity": "2"},
            {"name": "Secret free line", "quantity": "1", "unit_price": "10", "tax_rate": "7"},
        ], actor_id=owner)
        page = booking.ensure_page(session, owner, "Olivia Owner")
        booking.update_page(session, page, {"availability": ALL_DAY, "notice_minutes": 0, "buffer_minutes": 0})
        session.flush()
        start = next(s for s in booking.open_slots(session, page) if s > datetime.now(UTC) + timedelta(days=2))
        meeting = booking.book(session, page.slug, start=start, name="Max Visitor", email="max@visitor-a.example")
        made = {"pipeline": pipeline.id, "stage": first.id, "deal": deal.id, "product": product.id,
                "quote": quote.id, "quote_number": quote.number, "meeting": meeting.id, "slug": page.slug,
                "contact": contact.id}
    counts = _counts(ws)
    assert all(counts.values()), f"every sales table has a row in A: {counts}"
    return made


def _signed_in(client, ws) -> HostClient:
    page = HostClient(client, ws.workspace.host)
    assert page.submit("/login", {"email": ws.workspace.owner_email,
                                  "password": ws.workspace.password}).status_code == 302
    return page


def test_workspace_b_sees_nothing_of_a_and_uninstall_drops_every_sales_table(
        app, client, sales_workspace, api_token):
    a, b = sales_workspace(), sales_workspace()
    assert set(SALES_TABLES) <= tenant_tables(app, b.workspace), "B has the hub's tables too"
    assert not any(_counts(b).values()), "B starts empty"
    made = _one_of_everything(a)

    # -- A's own board shows its deal (so its absence from B's pages below means something).
    own = _signed_in(app.test_client(), a).get(f"/apps/sales/board?pipeline_id={made['pipeline']}")
    assert "Secret deal A" in own.get_data(as_text=True)

    # -- B's pages: A's objects are unknown ids, A's names appear nowhere.
    page = _signed_in(client, b)
    for path in (f"/apps/sales/deals/{made['deal']}", f"/apps/sales/quotes/{made['quote']}",
                 f"/apps/sales/products/{made['product']}", f"/apps/sales/pipelines/{made['pipeline']}",
                 f"/apps/sales/quotes/{made['quote']}/pdf", f"/apps/sales/book/{made['slug']}"):
        assert page.get(path).status_code == 404, path
    assert page.get(f"/apps/sales/board?pipeline_id={made['pipeline']}").status_code == 404
    for path in ("/apps/sales/board", "/apps/sales/deals?status=", "/apps/sales/quotes", "/apps/sales/products",
                 "/apps/sales/forecast", "/apps/sales/pipelines", "/apps/sales/booking"):
        response = page.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        for secret in ("Secret pipeline A", "Secret deal A", "Secret product A", "Secret follow-up",
                       made["quote_number"], "Max Visitor"):
            assert secret not in html, f"{secret!r} on B's {path}"

    # -- B's API: the same.
    host = HostClient(client, b.workspace.host)
    token = api_token(b.workspace)

    def api(path):
        return host.api("GET", "/api/v1/apps/sales" + path, token)

    for path in (f"/deals/{made['deal']}", f"/deals/{made['deal']}/history", f"/quotes/{made['quote']}",
                 f"/products/{made['product']}", f"/pipelines/{made['pipeline']}",
                 f"/pipelines/{made['pipeline']}/rules"):
        response = api(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
    assert made["pipeline"] not in [p["id"] for p in api("/pipelines").get_json()]
    for path in ("/deals", "/quotes", "/products", "/booking/meetings"):
        response = api(path)
        assert response.status_code == 200, path
        body = response.get_json()
        items = body["items"] if isinstance(body, dict) and "items" in body else body
        assert items == [], f"{path}: {body}"
    assert api("/forecast").get_json()["total"]["open_count"] == 0
    assert api("/forecast?group_by=owner").get_json()["total"]["target"] is None, "A's target"

    # -- Raw SQL as B's tenant role: A's schema is out of reach, table by table.
    for name in SALES_TABLES:
        with pytest.raises(ProgrammingError, match="permission denied for schema"), app.app_context(), \
                tenant_session(b.tenant) as session:
            session.execute(text(f"SELECT count(*) FROM {quoted(a.tenant.schema_name)}.{quoted(name)}"))
    counts_b = _counts(b)
    assert counts_b["sales_deals"] == counts_b["sales_quotes"] == counts_b["sales_products"] == 0
    assert counts_b["sales_meetings"] == counts_b["sales_targets"] == counts_b["sales_stage_rules"] == 0

    # -- Uninstalling in A drops every sales table and the version table there; B keeps its own.
    from kundo.platform.auth.models import User
    from kundo.platform.db import db
    from kundo.plugins.installs import uninstall_plugin
    from kundo.tenants.models import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, a.workspace.tenant_id)
        dropped = uninstall_plugin(tenant, "sales", user=db.session.get(User, a.workspace.owner_id),
                                   confirmation=tenant.slug)
    assert sorted(dropped) == SALES_TABLES
    left = tenant_tables(app, a.workspace)
    assert not {name for name in left if name.startswith("sales_")}, left
    assert "alembic_version_sales" not in left
    assert "contacts" in left, "the core tables stay"
    assert set(SALES_TABLES) | {"alembic_version_sales"} <= tenant_tables(app, b.workspace)
