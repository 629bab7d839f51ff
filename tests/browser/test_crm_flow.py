"""A member creates a contact, logs a call on its record page and finds it on the timeline — in Chromium.

What only a real browser shows: the composer's tabs (crm.js hides the forms not in
use), the form posts with their CSRF tokens and redirects, and the htmx type filter
of the timeline swapping the card in place.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kundo.crm.contacts.models import Contact
from kundo.crm.timeline.models import Activity
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.fixtures import TEST_PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, workspace, email):
    page.goto(f"{live_server.workspace_url(workspace.slug)}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"^{re.escape(live_server.workspace_url(workspace.slug))}/$"))


def test_create_a_contact_log_a_call_and_see_it_on_the_timeline(page, live_server, make_workspace, add_member):
    workspace = make_workspace(name="Brettschneider Möbel GmbH")
    _member_id, email = add_member(workspace, "member")
    log_in(page, live_server, workspace, email)

    page.click("nav.nav >> text=Contacts")
    assert "No contacts yet" in page.inner_text("[data-testid=empty-state]")
    page.click("text=Add a contact")
    page.fill("input[name=first_name]", "Jana")
    page.fill("input[name=last_name]", "Körtig")
    page.fill("input[name=email]", "jana@koertig.example")
    page.select_option("select[name=lifecycle_stage]", "lead")
    page.click("[data-testid=create-contact]")
    page.wait_for_url(re.compile(r"/contacts/\d+$"))
    assert page.inner_text("[data-testid=record-name]") == "Jana Körtig"
    assert "Contact Jana Körtig created." in page.inner_text(".flashes")

    # Only the note form shows until the "Log call" tab is chosen.
    assert not page.is_visible("[data-testid=call-form]")
    page.click("[data-tab=call]")
    assert page.is_visible("[data-testid=call-form]")
    page.select_option("[data-testid=call-form] select[name=direction]", "out")
    page.fill("[data-testid=call-form] input[name=duration]", "7")
    page.select_option("[data-testid=call-form] select[name=outcome]", "connected")
    page.fill("[data-testid=call-form] textarea[name=body]", "Wants a quote for 12 desks")
    page.click("[data-testid=log-call]")
    page.wait_for_selector(".flash-success >> text=Call logged.")

    call = page.locator("[data-testid=timeline] .event-call")
    assert "Outgoing call" in call.inner_text() and "Wants a quote for 12 desks" in call.inner_text()
    assert "7 min" in call.inner_text() and "Connected" in call.inner_text()
    page.reload()
    assert "Wants a quote for 12 desks" in page.locator("[data-testid=timeline] .event-call").inner_text()

    # The type filter swaps the timeline card without leaving the page.
    url = page.url
    page.click("[data-testid=timeline] .chip >> text=Note")
    page.wait_for_selector("[data-testid=timeline] .chip.active >> text=Note")
    assert page.url == url
    assert page.locator("[data-testid=timeline] .event-call").count() == 0

    with live_server.app.app_context():
        tenant = db.session.get(Tenant, workspace.tenant_id)
        with tenant_session(tenant) as session:
            contact = session.scalar(select(Contact).where(Contact.last_name == "Körtig"))
            [activity] = session.scalars(select(Activity).where(Activity.type == "call")).all()
            assert contact.lifecycle_stage == "lead"
            assert (activity.payload["duration_seconds"], activity.body) == (420, "Wants a quote for 12 desks")
