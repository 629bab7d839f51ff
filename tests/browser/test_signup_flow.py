"""A person signs up, lands in the new workspace and invites a teammate — in Chromium.

What only a real browser shows: the htmx address check while typing, the hand-off
from the root domain to the workspace's own host (its cookies are per host), and the
confirmation dialog kundo.js puts in front of destructive actions.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.platform.mail.models import OutboxMail
from kundo.tenants.models import Invitation, Membership, Role, Tenant

pytestmark = pytest.mark.browser

PASSWORD = "a long and quiet evening"


def open_invitations(app, tenant_id: int) -> list[Invitation]:
    with app.app_context():
        return list(db.session.scalars(select(Invitation).where(
            Invitation.tenant_id == tenant_id, Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None))))


def sign_up(page, live_server, *, slug: str, email: str):
    page.goto(f"{live_server.root_url}/signup")
    page.fill("input[name=company_name]", "Brettschneider Möbel GmbH")
    # The address follows the company name until the person types their own.
    assert page.input_value("input[name=slug]") == "brettschneider-moebel-gmbh"
    slug_field = page.locator("input[name=slug]")
    slug_field.fill("")
    slug_field.press_sequentially(slug)
    page.wait_for_selector("#slug-check [data-available=yes]")
    assert page.inner_text("#slug-check").strip() == f"{slug} is available."
    page.fill("input[name=name]", "Bettina Brettschneider")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=terms]")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"^{re.escape(live_server.workspace_url(slug))}/"))


def test_sign_up_lands_in_the_workspace_and_invites_a_teammate(page, live_server):
    slug = f"moebel-{uuid.uuid4().hex[:8]}"
    email = f"bettina-{slug}@example.com"
    sign_up(page, live_server, slug=slug, email=email)

    # Signed in on the workspace's own host, welcomed on the dashboard.
    assert page.url == f"{live_server.workspace_url(slug)}/?welcome=1"
    assert page.inner_text("h1.page-title") == "Dashboard"
    assert "Welcome to Kundo, Bettina!" in page.inner_text("[data-testid=getting-started]")
    assert page.inner_text(".topbar .user-name") == "Bettina Brettschneider"
    with live_server.app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        owner = db.session.scalar(select(User).where(User.email == email))
        membership = db.session.scalar(select(Membership).where(
            Membership.tenant_id == tenant.id, Membership.user_id == owner.id))
        assert (tenant.name, membership.role) == ("Brettschneider Möbel GmbH", Role.OWNER)
        tenant_id, owner_id = tenant.id, owner.id

    page.click("nav.nav >> text=Members")
    page.wait_for_url(f"{live_server.workspace_url(slug)}/settings/members")
    assert page.locator(f'tr[data-member="{email}"]').count() == 1

    invite = page.locator("[data-testid=invite-form]")
    invite.locator("input[name=email]").fill("jan.teammate@example.com")
    invite.locator("select[name=role]").select_option("admin")
    invite.locator("button").click()
    page.wait_for_selector('tr[data-invitation="jan.teammate@example.com"]')

    assert "Invitation sent to jan.teammate@example.com." in page.inner_text(".flashes")
    row = page.locator('tr[data-invitation="jan.teammate@example.com"]')
    assert "Admin" in row.inner_text()
    invitations = open_invitations(live_server.app, tenant_id)
    assert [(i.email, i.role, i.invited_by_id) for i in invitations] == [
        ("jan.teammate@example.com", Role.ADMIN, owner_id)]


def test_withdrawing_an_invitation_asks_first(page, live_server):
    slug = f"moebel-{uuid.uuid4().hex[:8]}"
    sign_up(page, live_server, slug=slug, email=f"owner-{slug}@example.com")
    page.goto(f"{live_server.workspace_url(slug)}/settings/members")
    invite = page.locator("[data-testid=invite-form]")
    invite.locator("input[name=email]").fill("maybe@example.com")
    invite.locator("button").click()
    page.wait_for_selector('tr[data-invitation="maybe@example.com"]')
    with live_server.app.app_context():
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))

    questions: list[str] = []

    def answer(dialog, accept: bool):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    withdraw = page.locator('tr[data-invitation="maybe@example.com"] button')
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    withdraw.click()
    page.wait_for_timeout(300)  # a submitted form would be navigating by now
    assert [i.email for i in open_invitations(live_server.app, tenant_id)] == ["maybe@example.com"]

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    withdraw.click()
    page.wait_for_selector("text=Invitation withdrawn.")
    assert open_invitations(live_server.app, tenant_id) == []
    assert page.locator('tr[data-invitation="maybe@example.com"]').count() == 0
    assert questions == ["Withdraw the invitation to maybe@example.com? The link in their e-mail stops working."] * 2


def test_the_address_check_says_when_a_workspace_address_is_taken(page, live_server, make_workspace):
    taken = make_workspace().slug
    page.goto(f"{live_server.root_url}/signup")
    page.locator("input[name=slug]").press_sequentially(taken)
    page.wait_for_selector("#slug-check [data-available=no]")
    assert page.inner_text("#slug-check").strip() == f"“{taken}” is already taken. Try another address."


def test_the_invited_teammate_accepts_and_joins(page, chromium, live_server):
    slug = f"moebel-{uuid.uuid4().hex[:8]}"
    sign_up(page, live_server, slug=slug, email=f"owner-{slug}@example.com")
    page.goto(f"{live_server.workspace_url(slug)}/settings/members")
    invite = page.locator("[data-testid=invite-form]")
    invite.locator("input[name=email]").fill(f"jana-{slug}@example.com")
    invite.locator("button").click()
    page.wait_for_selector(f'tr[data-invitation="jana-{slug}@example.com"]')
    with live_server.app.app_context():
        mail = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == f"jana-{slug}@example.com")).one()
        link = re.search(r"http://\S+/invitations/\S+", mail.body_text).group(0)
    assert link.startswith(f"{live_server.workspace_url(slug)}/invitations/")

    # The teammate opens the mail's link in their own browser (no cookies from the owner).
    teammate = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE").new_page()
    try:
        teammate.goto(link)
        assert teammate.inner_text("h1") == "Brettschneider Möbel GmbH beitreten"
        teammate.fill("input[name=name]", "Jana Teammitglied")
        teammate.fill("input[name=password]", "sonnige tage am see")
        teammate.click("button[type=submit]")
        teammate.wait_for_url(f"{live_server.workspace_url(slug)}/")
        assert "Willkommen bei Brettschneider Möbel GmbH!" in teammate.inner_text(".flashes")
        assert teammate.inner_text(".topbar .user-name") == "Jana Teammitglied"
    finally:
        teammate.context.close()

    page.reload()
    assert page.locator(f'tr[data-member="jana-{slug}@example.com"]').count() == 1
    assert page.locator(f'tr[data-invitation="jana-{slug}@example.com"]').count() == 0
