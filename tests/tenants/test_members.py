"""Roles (owner > admin > member), invitations, removing and leaving — on the members
page, through real HTTP with CSRF, and checked in the control plane."""

from __future__ import annotations

import html
import re
import threading
import time
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text, update

from kundo.platform.audit.models import AuditEntry
from kundo.platform.auth.models import User
from kundo.platform.db import db, utcnow
from kundo.platform.mail.models import OutboxMail
from kundo.tenants.models import Invitation, Membership, Role
from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, Workspace, unique_slug
from kundo.testing.web import HostClient

MEMBERS = "/settings/members"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def role_of(app, ws, user_id: int) -> Role | None:
    with app.app_context():
        return db.session.scalar(select(Membership.role).where(
            Membership.tenant_id == ws.tenant_id, Membership.user_id == user_id))


def member_row(page: str, email: str) -> str | None:
    match = re.search(rf'<tr data-member="{re.escape(email)}">(.*?)</tr>', page, re.S)
    return match.group(1) if match else None


def shown_role(page: str, email: str) -> str:
    """The role the members page shows for `email`: the selected option, or the badge."""
    row = member_row(page, email)
    assert row is not None, f"{email} is not on the members page"
    selected = re.search(r'<option value="(\w+)" selected>', row)
    return selected.group(1) if selected else re.search(r'<span class="badge">(\w+)</span>', row).group(1).lower()


def post(host: HostClient, path: str, data: dict | None = None):
    """Submit a form of the members page and follow the redirect back to it."""
    return host.submit(path, data or {}, page=MEMBERS, follow_redirects=True)


def open_invitations(app, ws, email: str) -> list[Invitation]:
    with app.app_context():
        return list(db.session.scalars(select(Invitation).where(
            Invitation.tenant_id == ws.tenant_id, func.lower(Invitation.email) == email.lower(),
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))))


def invitation_link(app, email: str) -> str:
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == email)
                                 .order_by(OutboxMail.id.desc()).limit(1))
    assert mail is not None, f"no mail to {email}"
    return re.search(r"http://\S+/invitations/\S+", mail.body_text).group(0)


@pytest.fixture(scope="module")
def shared_workspaces(app) -> list[Workspace]:
    """Two workspaces this module's tests share, each with its owner.

    Provisioning a workspace is DDL for every tenant table; a person is one row. So a
    test brings its own admin and member (see `team`), and only the tests about the last
    owner get a workspace of their own (`private_team`).
    """
    from kundo.platform.auth.service import create_user
    from kundo.tenants.service import create_workspace

    made = []
    with app.app_context():
        for name in ("Team GmbH", "Other AG"):
            owner = create_user(email=new_email("owner"), name="Olivia Owner", password=TEST_PASSWORD)
            owner.email_verified_at = utcnow()
            tenant = create_workspace(slug=unique_slug("team"), name=name, owner=owner)
            db.session.commit()
            made.append(Workspace(tenant.id, tenant.slug, tenant.schema_name, tenant.role_name, owner.id, owner.email))
    return made


def _team_in(ws, add_member) -> SimpleNamespace:
    admin_id, admin_email = add_member(ws, "admin")
    member_id, member_email = add_member(ws, "member")
    return SimpleNamespace(ws=ws, admin_id=admin_id, admin_email=admin_email,
                           member_id=member_id, member_email=member_email)


@pytest.fixture
def team(shared_workspaces, add_member) -> SimpleNamespace:
    """The shared workspace with its owner, and a new admin and member for this test."""
    return _team_in(shared_workspaces[0], add_member)


@pytest.fixture
def private_team(make_workspace, add_member) -> SimpleNamespace:
    """A workspace of its own whose only owner is `ws.owner_*`, with an admin and a member."""
    return _team_in(make_workspace(name="Team GmbH"), add_member)


def new_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def browser(app):
    """browser(workspace, email) -> a HostClient with its own cookie jar, signed in."""

    def _browser(ws, email):
        host = HostClient(app.test_client(), ws.host)
        response = host.submit("/login", {"email": email, "password": TEST_PASSWORD})
        assert response.status_code == 302, page_text(response)[:300]
        return host

    return _browser


# ---- what a member may not do ----------------------------------------------------------------

def test_a_member_sees_the_team_but_no_management(team, browser):
    page = page_text(browser(team.ws, team.member_email).get(MEMBERS))
    assert team.admin_email in page and team.ws.owner_email in page
    assert 'data-testid="invite-form"' not in page
    assert "/role" not in page and "/remove" not in page
    assert "Leave workspace" in page


@pytest.mark.parametrize(("path", "data"), [
    ("/settings/members/invite", {"email": "new-by-member@example.com", "role": "member"}),
    ("/settings/members/{admin_id}/role", {"role": "member"}),
    ("/settings/members/{owner_id}/remove", {}),
    ("/settings/members/{admin_id}/remove", {}),
])
def test_a_member_cannot_invite_change_roles_or_remove(app, team, browser, path, data):
    host = browser(team.ws, team.member_email)
    response = host.submit(path.format(admin_id=team.admin_id, owner_id=team.ws.owner_id), data, page=MEMBERS)
    assert response.status_code == 403
    assert "This needs the admin role in this workspace." in page_text(response)
    assert role_of(app, team.ws, team.admin_id) == Role.ADMIN
    assert role_of(app, team.ws, team.ws.owner_id) == Role.OWNER
    assert open_invitations(app, team.ws, "new-by-member@example.com") == []


def test_management_posts_need_csrf(app, team, browser):
    host = browser(team.ws, team.ws.owner_email)
    response = host.post(f"{MEMBERS}/{team.member_id}/remove")
    assert response.status_code == 400
    assert role_of(app, team.ws, team.member_id) == Role.MEMBER


# ---- admins --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["member", "admin"])
def test_an_admin_can_invite_members_and_admins(app, team, browser, role):
    host = browser(team.ws, team.admin_email)
    email = new_email(role)
    page = page_text(post(host, f"{MEMBERS}/invite", {"email": email, "role": role}))
    assert f"Invitation sent to {email}." in page
    assert f'data-invitation="{email}"' in page
    [invitation] = open_invitations(app, team.ws, email)
    assert (invitation.role, invitation.invited_by_id) == (Role(role), team.admin_id)


def test_an_admin_cannot_invite_an_owner(app, team, browser):
    host = browser(team.ws, team.admin_email)
    assert '<option value="owner">' not in page_text(host.get(MEMBERS))
    page = page_text(post(host, f"{MEMBERS}/invite", {"email": "boss@example.com", "role": "owner"}))
    assert "Only owners can invite owners." in page
    assert open_invitations(app, team.ws, "boss@example.com") == []


def test_an_admin_cannot_demote_promote_or_remove_an_owner(app, team, browser):
    host = browser(team.ws, team.admin_email)
    page = page_text(host.get(MEMBERS))
    assert shown_role(page, team.ws.owner_email) == "owner"
    assert f"/{team.ws.owner_id}/role" not in page and f"/{team.ws.owner_id}/remove" not in page

    demote = page_text(post(host, f"{MEMBERS}/{team.ws.owner_id}/role", {"role": "member"}))
    assert "Only owners can grant or take away the owner role." in demote
    promote = page_text(post(host, f"{MEMBERS}/{team.member_id}/role", {"role": "owner"}))
    assert "Only owners can grant or take away the owner role." in promote
    remove = page_text(post(host, f"{MEMBERS}/{team.ws.owner_id}/remove"))
    assert "Only owners can remove an owner." in remove

    assert role_of(app, team.ws, team.ws.owner_id) == Role.OWNER
    assert role_of(app, team.ws, team.member_id) == Role.MEMBER


def test_an_admin_can_change_roles_below_owner_and_it_shows(app, team, browser):
    host = browser(team.ws, team.admin_email)
    page = page_text(post(host, f"{MEMBERS}/{team.member_id}/role", {"role": "admin"}))
    assert "Role changed." in page
    assert shown_role(page, team.member_email) == "admin"
    assert role_of(app, team.ws, team.member_id) == Role.ADMIN
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "member.role_changed", AuditEntry.tenant_id == team.ws.tenant_id,
            AuditEntry.target == f"user:{team.member_id}"))
        assert (entry.actor_user_id, entry.target, entry.data) == (
            team.admin_id, f"user:{team.member_id}", {"from": "member", "to": "admin"})


def test_an_unknown_role_or_person_is_refused(app, team, browser):
    host = browser(team.ws, team.ws.owner_email)
    page = page_text(post(host, f"{MEMBERS}/{team.member_id}/role", {"role": "emperor"}))
    assert "Choose a role: owner, admin or member." in page
    assert role_of(app, team.ws, team.member_id) == Role.MEMBER
    assert host.submit(f"{MEMBERS}/999999999/role", {"role": "admin"}, page=MEMBERS).status_code == 404
    assert host.submit(f"{MEMBERS}/999999999/remove", {}, page=MEMBERS).status_code == 404


def test_a_member_of_another_workspace_cannot_be_touched(app, team, browser, shared_workspaces):
    other = shared_workspaces[1]
    host = browser(team.ws, team.ws.owner_email)
    assert host.submit(f"{MEMBERS}/{other.owner_id}/role", {"role": "member"}, page=MEMBERS).status_code == 404
    assert host.submit(f"{MEMBERS}/{other.owner_id}/remove", {}, page=MEMBERS).status_code == 404
    assert role_of(app, other, other.owner_id) == Role.OWNER


# ---- owners and the last owner -------------------------------------------------------------------

def test_the_last_owner_cannot_be_demoted_removed_or_leave(app, private_team, browser):
    team = private_team
    host = browser(team.ws, team.ws.owner_email)
    demote = page_text(post(host, f"{MEMBERS}/{team.ws.owner_id}/role", {"role": "admin"}))
    assert "A workspace needs at least one owner. Make someone else owner first." in demote
    remove = page_text(post(host, f"{MEMBERS}/{team.ws.owner_id}/remove"))
    assert "The last owner cannot leave or be removed. Make someone else owner first." in remove
    leave = page_text(post(host, "/settings/leave", {"confirm": team.ws.slug}))
    assert "The last owner cannot leave or be removed. Make someone else owner first." in leave
    assert role_of(app, team.ws, team.ws.owner_id) == Role.OWNER


def test_with_a_second_owner_the_first_can_step_down(app, private_team, browser):
    team = private_team
    host = browser(team.ws, team.ws.owner_email)
    assert "Role changed." in page_text(post(host, f"{MEMBERS}/{team.admin_id}/role", {"role": "owner"}))
    page = page_text(post(host, f"{MEMBERS}/{team.ws.owner_id}/role", {"role": "member"}))
    assert "Role changed." in page
    assert role_of(app, team.ws, team.ws.owner_id) == Role.MEMBER
    assert role_of(app, team.ws, team.admin_id) == Role.OWNER
    # Now a member, the former owner has lost the management forms.
    assert 'data-testid="invite-form"' not in page


def test_an_owner_removes_a_member_who_then_loses_access(app, team, browser):
    member_browser = browser(team.ws, team.member_email)
    assert member_browser.get("/").status_code == 200
    host = browser(team.ws, team.ws.owner_email)

    page = page_text(post(host, f"{MEMBERS}/{team.member_id}/remove"))

    assert "Member removed." in page
    assert member_row(page, team.member_email) is None
    assert role_of(app, team.ws, team.member_id) is None
    refused = member_browser.get("/")
    assert refused.status_code == 403
    assert "You are not a member of this workspace." in page_text(refused)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.actor_user_id).where(
            AuditEntry.action == "member.removed", AuditEntry.tenant_id == team.ws.tenant_id,
            AuditEntry.target == f"user:{team.member_id}")) == team.ws.owner_id


def test_an_owner_can_remove_another_owner(app, team, browser):
    host = browser(team.ws, team.ws.owner_email)
    post(host, f"{MEMBERS}/{team.admin_id}/role", {"role": "owner"})
    assert "Member removed." in page_text(post(host, f"{MEMBERS}/{team.admin_id}/remove"))
    assert role_of(app, team.ws, team.admin_id) is None


# ---- leaving ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["", "yes", "TEAM"])
def test_leaving_needs_the_workspace_address_typed(app, team, browser, typed):
    host = browser(team.ws, team.member_email)
    page = page_text(post(host, "/settings/leave", {"confirm": typed}))
    assert "Type the workspace address to confirm that you want to leave." in page
    assert role_of(app, team.ws, team.member_id) == Role.MEMBER


def test_a_member_leaves_and_lands_on_the_workspace_chooser(app, team, browser):
    host = browser(team.ws, team.member_email)
    response = host.submit("/settings/leave", {"confirm": team.ws.slug}, page=MEMBERS)
    assert response.status_code == 302
    assert response.headers["Location"] == f"http://{TEST_DOMAIN}/workspaces"
    assert role_of(app, team.ws, team.member_id) is None
    assert host.get("/").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.actor_user_id).where(
            AuditEntry.action == "member.left", AuditEntry.tenant_id == team.ws.tenant_id,
            AuditEntry.target == f"user:{team.member_id}")) == team.member_id


# ---- invitations -----------------------------------------------------------------------------

def _invite(host: HostClient, email: str, role: str = "member"):
    page = page_text(post(host, f"{MEMBERS}/invite", {"email": email, "role": role}))
    assert f"Invitation sent to {email}." in page, page[:2000]
    return page


def test_an_invitation_is_mailed_with_a_link_to_the_workspace(app, team, browser):
    _invite(browser(team.ws, team.ws.owner_email), "newbie@example.com", "admin")
    link = invitation_link(app, "newbie@example.com")
    assert re.fullmatch(rf"http://{re.escape(team.ws.host)}/invitations/[A-Za-z0-9_-]{{40,}}", link)
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == "newbie@example.com"))
    assert mail.subject == "Olivia Owner invites you to Team GmbH on Kundo"
    assert "as admin" in mail.body_text


def test_a_new_person_accepts_creates_an_account_and_is_signed_in(app, team, browser):
    _invite(browser(team.ws, team.ws.owner_email), "Nina.New@Example.com", "admin")
    link = urlsplit(invitation_link(app, "Nina.New@Example.com"))
    newcomer = HostClient(app.test_client(), link.netloc)
    form = page_text(newcomer.get(link.path))
    assert "You were invited as Admin with Nina.New@Example.com." in form and 'name="name"' in form

    weak = newcomer.submit(link.path, {"name": "Nina New", "password": "short"})
    assert weak.status_code == 400 and "Use at least 10 characters." in page_text(weak)
    long_name = newcomer.submit(link.path, {"name": "N" * 201, "password": TEST_PASSWORD})
    assert long_name.status_code == 400 and "Use at most 200 characters for your name." in page_text(long_name)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "Nina.New@Example.com")) is None

    response = newcomer.submit(link.path, {"name": "Nina New", "password": TEST_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    welcome = page_text(newcomer.get("/"))
    assert "Welcome to Team GmbH!" in welcome
    assert "Please confirm your e-mail address" not in welcome  # the invitation link proved it
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "Nina.New@Example.com"))
        assert user.name == "Nina New" and user.is_verified
    assert role_of(app, team.ws, user.id) == Role.ADMIN
    assert open_invitations(app, team.ws, "Nina.New@Example.com") == []


def test_an_existing_user_accepts_with_their_password(app, team, browser, make_user):
    user_id, email = make_user(name="Erik Existing")
    _invite(browser(team.ws, team.admin_email), email.upper())
    link = urlsplit(invitation_link(app, email.upper()))
    guest = HostClient(app.test_client(), link.netloc)
    form = page_text(guest.get(link.path))
    assert "You already have a Kundo account. Enter its password to join." in form
    assert 'name="name"' not in form

    wrong = guest.submit(link.path, {"password": "not my password"})
    assert wrong.status_code == 400 and "The password is wrong." in page_text(wrong)
    assert role_of(app, team.ws, user_id) is None

    assert guest.submit(link.path, {"password": TEST_PASSWORD}).status_code == 302
    assert role_of(app, team.ws, user_id) == Role.MEMBER
    assert guest.get("/").status_code == 200


def test_an_invitation_cannot_be_accepted_by_a_different_account(app, team, browser):
    owner = browser(team.ws, team.ws.owner_email)
    _invite(owner, "someone-else@example.com")
    path = urlsplit(invitation_link(app, "someone-else@example.com")).path

    # The admin, signed in on this host, opens a link meant for someone else.
    admin = browser(team.ws, team.admin_email)
    response = admin.submit(path, {})

    assert response.status_code == 400
    assert "This invitation was sent to someone-else@example.com. Log in with that address." in page_text(response)
    assert role_of(app, team.ws, team.admin_id) == Role.ADMIN
    assert len(open_invitations(app, team.ws, "someone-else@example.com")) == 1


def test_an_accepted_invitation_cannot_be_used_again(app, team, browser):
    _invite(browser(team.ws, team.ws.owner_email), "once@example.com")
    path = urlsplit(invitation_link(app, "once@example.com")).path
    first = HostClient(app.test_client(), team.ws.host)
    assert first.submit(path, {"name": "Once", "password": TEST_PASSWORD}).status_code == 302

    again = HostClient(app.test_client(), team.ws.host).get(path)
    assert again.status_code == 410
    assert "This invitation has already been accepted. Log in to continue." in page_text(again)


def test_an_expired_invitation_answers_410(app, team, browser):
    _invite(browser(team.ws, team.ws.owner_email), "late@example.com")
    path = urlsplit(invitation_link(app, "late@example.com")).path
    with app.app_context():
        db.session.execute(update(Invitation).where(Invitation.tenant_id == team.ws.tenant_id,
                                                    Invitation.email == "late@example.com")
                           .values(expires_at=utcnow().replace(year=2000)))
        db.session.commit()
    guest = HostClient(app.test_client(), team.ws.host)
    for response in (guest.get(path), guest.submit(path, {"name": "Late", "password": TEST_PASSWORD})):
        assert response.status_code == 410
        assert "This invitation has expired. Ask an admin of the workspace for a new one." in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "late@example.com")) is None


def test_a_withdrawn_invitation_answers_410_and_leaves_the_list(app, team, browser):
    owner = browser(team.ws, team.ws.owner_email)
    _invite(owner, "withdrawn@example.com")
    path = urlsplit(invitation_link(app, "withdrawn@example.com")).path
    [invitation] = open_invitations(app, team.ws, "withdrawn@example.com")

    page = page_text(post(owner, f"/settings/invitations/{invitation.id}/revoke"))

    assert "Invitation withdrawn." in page and 'data-invitation="withdrawn@example.com"' not in page
    response = HostClient(app.test_client(), team.ws.host).get(path)
    assert response.status_code == 410
    assert "This invitation is not valid any more. Ask for a new one." in page_text(response)


def test_reinviting_replaces_the_older_invitation(app, team, browser):
    owner = browser(team.ws, team.ws.owner_email)
    _invite(owner, "twice@example.com", "member")
    older = urlsplit(invitation_link(app, "twice@example.com")).path
    page = _invite(owner, "TWICE@example.com", "admin")
    newer = urlsplit(invitation_link(app, "TWICE@example.com")).path

    assert older != newer
    assert page.lower().count('data-invitation="twice@example.com"') == 1
    assert HostClient(app.test_client(), team.ws.host).get(older).status_code == 410
    guest = HostClient(app.test_client(), team.ws.host)
    assert guest.submit(newer, {"name": "Twice", "password": TEST_PASSWORD}).status_code == 302
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "TWICE@example.com"))
    assert role_of(app, team.ws, user_id) == Role.ADMIN


def test_an_invitation_of_one_workspace_is_unknown_in_another(app, team, browser, shared_workspaces):
    _invite(browser(team.ws, team.ws.owner_email), "elsewhere@example.com")
    path = urlsplit(invitation_link(app, "elsewhere@example.com")).path
    response = HostClient(app.test_client(), shared_workspaces[1].host).get(path)
    assert response.status_code == 410
    assert HostClient(app.test_client(), TEST_DOMAIN).get(path).status_code == 404


@pytest.mark.parametrize(("email", "message"), [
    ("not-an-address", "Enter a valid e-mail address."),
    ("x" * 320 + "@example.com", "Enter a valid e-mail address."),
    ("{member_email}", "{member_email} is already a member of this workspace."),
])
def test_inviting_nonsense_or_an_existing_member_is_refused(app, team, browser, email, message):
    host = browser(team.ws, team.admin_email)
    email = email.format(member_email=team.member_email.upper())
    page = page_text(post(host, f"{MEMBERS}/invite", {"email": email, "role": "member"}))
    assert message.format(member_email=team.member_email.upper()) in page
    assert open_invitations(app, team.ws, email) == []


# ---- two owners at the same moment ---------------------------------------------------------------

def test_two_owners_demoting_each_other_at_once_leave_one_owner(app, private_team, browser):
    """A's demotion of O is in flight (written, not committed) when O demotes A.

    O's request must wait for it and then see that A is the last owner; without the row
    lock both would pass the owner count and the workspace would have no owner.
    """
    team = private_team
    o_host = browser(team.ws, team.ws.owner_email)
    post(o_host, f"{MEMBERS}/{team.admin_id}/role", {"role": "owner"})  # owners now: O and A
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(update(Membership).where(Membership.tenant_id == team.ws.tenant_id,
                                                Membership.user_id == team.ws.owner_id).values(role=Role.ADMIN))
    backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    race = {"hit": False}

    def commit_when_blocking():
        with engine.connect() as watcher:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
                    {"pid": backend}).scalar():
                watcher.rollback()  # pg_stat_activity is a snapshot per transaction: look again
                time.sleep(0.01)
            race["hit"] = time.monotonic() < deadline
        transaction.commit()

    committer = threading.Thread(target=commit_when_blocking)
    committer.start()
    try:
        page = page_text(post(o_host, f"{MEMBERS}/{team.admin_id}/role", {"role": "member"}))
    finally:
        committer.join()
        connection.close()

    assert race["hit"], "the demotion never waited on the other transaction"
    assert "A workspace needs at least one owner. Make someone else owner first." in page
    assert role_of(app, team.ws, team.admin_id) == Role.OWNER
    assert role_of(app, team.ws, team.ws.owner_id) == Role.ADMIN
