"""Sales Hub board in Chromium: drag a deal to another stage, see it stay there after a reload; a refused move
(lost without a reason) puts the card back.

What only a real browser shows: HTML5 drag and drop, the fetch with the CSRF header,
the column counts updating in place and the lost-reason dialog.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.fixtures import TEST_PASSWORD

pytestmark = pytest.mark.browser


def _seed(app, workspace):
    from kundo_sales.deals import service
    from kundo_sales.pipelines.service import create_rule, ensure_default_pipeline

    from kundo.crm import Contact

    with app.app_context():
        tenant = db.session.get(Tenant, workspace.tenant_id)
        with tenant_session(tenant) as session:
            pipeline = ensure_default_pipeline(session, "en")
            create_rule(session, pipeline, stage_id=pipeline.stages[1].id, title="Follow-up call", task_type="call",
                        due_in_days=2)
            contact = Contact(first_name="Jana", last_name="Brettschneider", lifecycle_stage="lead")
            session.add(contact)
            session.flush()
            soon = date.today() + timedelta(days=20)
            deals = {}
            for name, amount, stage in (("Brettschneider Möbel – 40 seats", 18000, 0), ("Kaiser Logistik", 7500, 0),
                                        ("Nordlicht Bau", 32000, 1), ("Hafenwerk GmbH", 12400, 2),
                                        ("Seidel & Söhne", 54000, 3), ("Altbau Immobilien", 9600, 3)):
                deal = service.create_deal(session, name=name, pipeline_id=pipeline.id, amount=amount,
                                           stage_id=pipeline.stages[stage].id, owner_id=workspace.owner_id,
                                           expected_close_date=soon, contact_ids=[contact.id] if stage == 0 else [],
                                           next_step="Send the proposal" if stage == 2 else None)
                deals[name] = deal.id
    return deals


def test_drag_a_deal_to_another_stage_and_see_it_after_reload(page, live_server, make_workspace, enable_app):
    workspace = make_workspace(name="Brettschneider Vertrieb GmbH")
    enable_app(live_server.app, workspace, "sales")
    deals = _seed(live_server.app, workspace)
    base = live_server.workspace_url(workspace.slug)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", workspace.owner_email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/$"))

    page.set_viewport_size({"width": 1720, "height": 900})  # every column on screen, won and lost too
    page.goto(f"{base}/apps/sales/board")
    deal_id = deals["Kaiser Logistik"]
    card = f"[data-testid=deal-{deal_id}]"
    qualified = "[data-testid='column-Qualified']"
    meeting = "[data-testid='column-Appointment scheduled']"
    assert page.inner_text(f"{qualified} [data-count]") == "2"
    shots = os.environ.get("KUNDO_SCREENSHOTS")
    if shots:
        page.screenshot(path=f"{shots}/sales-board.png", full_page=True)
    with page.expect_response(re.compile(r"/move$")) as answer:
        page.drag_and_drop(card, f"{meeting} [data-dropzone]")
    assert answer.value.ok
    page.wait_for_selector(f"{meeting} {card}")
    assert page.inner_text(f"{qualified} [data-count]") == "1"
    assert page.inner_text(f"{meeting} [data-count]") == "2"

    page.reload()
    page.wait_for_selector(f"{meeting} {card}")
    assert page.locator(f"{qualified} {card}").count() == 0

    # Lost needs a reason: cancelling the dialog puts the card back, nothing is saved.
    lost = "[data-testid='column-Lost']"
    page.drag_and_drop(card, f"{lost} [data-dropzone]")
    page.wait_for_selector("[data-lost-dialog][open]")
    page.click("[data-lost-dialog] button[value=cancel]")
    page.wait_for_selector(f"{meeting} {card}")
    page.reload()
    page.wait_for_selector(f"{meeting} {card}")

    page.goto(f"{base}/apps/sales/deals/{deal_id}")
    assert page.inner_text("[data-insight=open_tasks]") == "1", "the stage rule's follow-up call"
    assert page.inner_text("[data-testid=deal-stage]") == "Appointment scheduled"
    assert "Appointment scheduled" in page.inner_text("[data-testid=stage-history]")
    if shots:
        page.goto(f"{base}/apps/sales/deals/{deals['Brettschneider Möbel – 40 seats']}")
        page.screenshot(path=f"{shots}/sales-deal.png", full_page=True)
        page.goto(f"{base}/apps/sales/forecast")
        page.screenshot(path=f"{shots}/sales-forecast.png", full_page=True)
        page.goto(f"{base}/apps/sales/pipelines")
        page.screenshot(path=f"{shots}/sales-pipelines.png", full_page=True)
        page.goto(f"{base}/apps/sales/deals")
        page.screenshot(path=f"{shots}/sales-list.png", full_page=True)
