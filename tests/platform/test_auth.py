"""Logging in and out, hand-offs between workspace hosts, password reset and e-mail
verification — through real HTTP with CSRF switched on, checked in the database."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select, update

from kundo.platform.audit.models import AuditEntry
from kundo.platform.auth.models import ApiToken, OneTimeToken, User
from kundo.platform.db import db, utcnow
from kundo.platform.mail.models import OutboxMail
from kundo.tenants.models import Membership, Role
from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, Workspace, unique_slug
from kundo.testing.web import HostClient

NEW_PASSWORD = "a brand new passphrase 42"  # noqa: S105


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def mails_to(app, email: str) -> list[OutboxMail]:
    with app.app_context():
        return list(db.session.scalars(
            select(OutboxMail).where(OutboxMail.recipient == email).order_by(OutboxMail.id)))


def link_in(mail: OutboxMail, path: str) -> str:
    match = re.search(rf"http://\S+{re.escape(path)}\S+", mail.body_text)
    assert match, f"no {path} link in: {mail.body_text}"
    return match.group(0)


def audit_entries(app, action: str, **where) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).where(AuditEntry.action == action)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list(db.session.scalars(query.order_by(AuditEntry.id)))


def join(app, workspace, user_id: int, role: str = "member") -> None:
    with app.app_context():
        db.session.add(Membership(tenant_id=workspace.tenant_id, user_id=user_id, role=Role(role)))
        db.session.commit()


def is_signed_in(host: HostClient) -> bool:
    response = host.get("/")
    if response.status_code == 302:
        assert urlsplit(response.headers["Location"]).path == "/login"
        return False
    assert response.status_code == 200, response.status_code
    return True


def fresh_client(app, host: str) -> HostClient:
    """A second browser: its own cookie jar."""
    return HostClient(app.test_client(), host)


@pytest.fixture(scope="module")
def shared_workspaces(app) -> list[Workspace]:
    """Three workspaces this module's tests share.

    Provisioning a workspace is DDL for every tenant table; a person is one row. So each
    test brings its own person (see `person`) instead of its own workspace.
    """
    from kundo.platform.auth.service import create_user
    from kundo.tenants.service import create_workspace

    made = []
    with app.app_context():
        for name in ("Alpha AG", "Beta GmbH", "Gamma KG"):
            owner = create_user(email=f"{unique_slug('owner')}@example.com", name="Olivia Owner",
                                password=TEST_PASSWORD)
            owner.email_verified_at = utcnow()
            tenant = create_workspace(slug=unique_slug("auth"), name=name, owner=owner)
            db.session.commit()
            made.append(Workspace(tenant.id, tenant.slug, tenant.schema_name, tenant.role_name, owner.id, owner.email))
    return made


@pytest.fixture
def person(app, make_user, shared_workspaces):
    """person(0, 1, role="owner") -> shared workspaces 0 and 1 as seen by a new person who
    belongs to both: the returned workspaces' owner_id and owner_email are that person."""

    def _person(*indexes: int, role: str = "owner") -> list[Workspace]:
        user_id, email = make_user(name="Petra Person")
        seats = []
        for index in indexes:
            join(app, shared_workspaces[index], user_id, role)
            seats.append(replace(shared_workspaces[index], owner_id=user_id, owner_email=email))
        return seats

    return _person


# ---- log in and out ----------------------------------------------------------------------

def test_login_on_a_workspace_host_signs_in_and_is_audited(app, client, person):
    [ws] = person(0)
    host = HostClient(client, ws.host)
    assert not is_signed_in(host)

    response = host.submit("/login", {"email": ws.owner_email.upper(), "password": TEST_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert is_signed_in(host)
    [entry] = audit_entries(app, "user.login", tenant_id=ws.tenant_id, actor_user_id=ws.owner_id)
    assert entry.target == f"user:{ws.owner_id}" and entry.request_id
    with app.app_context():
        assert db.session.get(User, ws.owner_id).last_login_at is not None


@pytest.mark.parametrize("who", ["wrong password", "unknown e-mail"])
def test_wrong_credentials_answer_401_with_a_message_and_are_audited(app, client, person, who):
    [ws] = person(0)
    host = HostClient(client, ws.host)
    email = ws.owner_email if who == "wrong password" else "nobody-here@nowhere.example"
    request_id = uuid.uuid4().hex

    response = host.submit("/login", {"email": email, "password": "not the password"},
                           headers={"X-Request-ID": request_id})

    assert response.status_code == 401
    assert "E-mail or password is wrong." in page_text(response)
    assert not is_signed_in(host)
    [entry] = audit_entries(app, "user.login_failed", tenant_id=ws.tenant_id, request_id=request_id)
    assert entry.data == {"email_domain": email.rpartition("@")[2]}
    assert entry.actor_user_id is None


def test_login_goes_back_to_the_page_that_asked_for_it(client, person):
    [ws] = person(0)
    host = HostClient(client, ws.host)
    asked = host.get("/settings/members")
    assert asked.status_code == 302 and asked.headers["Location"] == "/login?next=/settings/members"
    response = host.submit("/login?next=/settings/members",
                           {"email": ws.owner_email, "password": TEST_PASSWORD, "next": "/settings/members"},
                           page="/login?next=/settings/members")
    assert response.headers["Location"] == "/settings/members"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example"])
def test_login_never_redirects_off_site(client, person, target):
    [ws] = person(0)
    host = HostClient(client, ws.host)
    response = host.submit("/login", {"email": ws.owner_email, "password": TEST_PASSWORD, "next": target})
    assert response.status_code == 302
    # Browsers read a backslash as a slash in http URLs, so resolve the way they do.
    location = response.headers["Location"].replace("\\", "/")
    assert urlsplit(urljoin(host.base_url + "/login", location)).netloc == ws.host


def test_logout_ends_the_session_and_needs_csrf(client, person, sign_in):
    [ws] = person(0)
    host = sign_in(ws)
    assert host.post("/logout").status_code == 400  # no token: a foreign page cannot log you out
    assert is_signed_in(host)

    response = host.submit("/logout", page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_signed_in(host)
    assert "You are logged out." in page_text(host.get("/login"))


def test_a_non_member_cannot_sign_in_on_a_workspace_host(app, client, shared_workspaces, make_user):
    ws = shared_workspaces[0]
    user_id, email = make_user()
    host = HostClient(client, ws.host)

    response = host.submit("/login", {"email": email, "password": TEST_PASSWORD})

    assert response.status_code == 401
    assert "You are not a member of this workspace. Ask one of its admins for an invitation." in page_text(response)
    assert not is_signed_in(host)
    assert audit_entries(app, "user.login", tenant_id=ws.tenant_id, actor_user_id=user_id) == []


def test_login_on_the_root_domain_shows_the_workspace_chooser(app, client, root, person):
    alpha, beta = person(0, 1)

    response = root.submit("/login", {"email": alpha.owner_email, "password": TEST_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/workspaces"
    chooser = page_text(root.get("/workspaces"))
    assert f'href="/switch/{alpha.slug}"' in chooser and f'href="/switch/{beta.slug}"' in chooser
    assert "Alpha AG" in chooser and "Beta GmbH" in chooser
    assert audit_entries(app, "user.login", actor_user_id=alpha.owner_id, tenant_id=None)

    # Choosing a workspace hands the browser over to that workspace's host.
    handoff = root.get(f"/switch/{beta.slug}")
    assert urlsplit(handoff.headers["Location"]).netloc == beta.host
    assert root.client.get(handoff.headers["Location"]).status_code == 302
    assert is_signed_in(HostClient(client, beta.host))


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/settings/members", 404), ("POST", "/settings/leave", 404), ("GET", "/account", 404),
    ("POST", "/account", 404), ("GET", "/account/tokens", 404), ("POST", "/settings/members/invite", 403),
])
def test_workspace_pages_are_refused_on_the_root_domain(root, person, method, path, status):
    """Signed in on the root domain, these pages have no workspace to show (some were a 500)."""
    [ws] = person(0)
    assert root.submit("/login", {"email": ws.owner_email, "password": TEST_PASSWORD}).status_code == 302
    if method == "GET":
        response = root.get(path)
    else:
        response = root.submit(path, {"confirm": ws.slug, "name": "Petra", "email": "x@example.com"},
                               page="/workspaces")
    assert response.status_code == status


def test_the_chooser_needs_a_signed_in_user(root):
    response = root.get("/workspaces")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# ---- switching workspaces and hand-off tokens ------------------------------------------------

@pytest.fixture
def two_workspaces(person):
    return person(0, 1)


def _handoff_location(host: HostClient, slug: str) -> str:
    response = host.get(f"/switch/{slug}")
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def test_switching_workspace_signs_in_on_the_other_host(client, sign_in, two_workspaces):
    alpha, beta = two_workspaces
    host_a = sign_in(alpha)
    assert f'href="/switch/{beta.slug}"' in page_text(host_a.get("/"))  # the sidebar switcher

    location = _handoff_location(host_a, beta.slug)
    target = urlsplit(location)
    assert (target.netloc, target.path) == (beta.host, "/auth/handoff")

    landed = client.get(location)
    assert landed.status_code == 302 and landed.headers["Location"] == "/"
    assert is_signed_in(HostClient(client, beta.host))


def test_a_handoff_token_works_once(app, client, sign_in, two_workspaces):
    alpha, beta = two_workspaces
    location = _handoff_location(sign_in(alpha), beta.slug)
    assert client.get(location).status_code == 302

    other_browser = app.test_client()
    replay = other_browser.get(location)
    assert replay.status_code == 302 and replay.headers["Location"] == "/login"
    assert not is_signed_in(HostClient(other_browser, beta.host))
    assert "This link has already been used." in page_text(HostClient(other_browser, beta.host).get("/login"))


def test_a_handoff_token_for_one_workspace_is_refused_on_another(app, sign_in, person):
    # The person belongs to all three, so only the token's own workspace can refuse it.
    alpha, beta, gamma = person(0, 1, 2)
    location = _handoff_location(sign_in(alpha), beta.slug)

    stolen = urlsplit(location)
    other_browser = app.test_client()
    response = other_browser.get(f"{stolen.path}?{stolen.query}", base_url=f"http://{gamma.host}")

    assert response.status_code == 404
    assert not is_signed_in(HostClient(other_browser, gamma.host))


def test_a_tampered_handoff_token_is_refused(client, sign_in, two_workspaces):
    alpha, beta = two_workspaces
    location = _handoff_location(sign_in(alpha), beta.slug)
    tampered = re.sub(r"token=([^&]+)", lambda m: "token=" + m.group(1)[:-3] + "AAA", location)
    response = client.get(tampered)
    assert response.headers["Location"] == "/login"
    assert not is_signed_in(HostClient(client, beta.host))


def test_switching_to_a_workspace_you_do_not_belong_to_is_404(sign_in, person, shared_workspaces):
    [alpha] = person(0)
    stranger = shared_workspaces[2]
    assert sign_in(alpha).get(f"/switch/{stranger.slug}").status_code == 404


def test_handoff_refuses_a_user_who_left_the_workspace_meanwhile(app, client, sign_in, two_workspaces):
    alpha, beta = two_workspaces
    location = _handoff_location(sign_in(alpha), beta.slug)
    with app.app_context():
        db.session.execute(Membership.__table__.delete().where(
            Membership.tenant_id == beta.tenant_id, Membership.user_id == alpha.owner_id))
        db.session.commit()
    response = client.get(location)
    assert response.status_code == 403
    assert "You are not a member of this workspace." in page_text(response)


# ---- password reset ------------------------------------------------------------------------

_CSRF_VALUES = re.compile(r'(name="csrf-token" content=|name="csrf_token" value=|"X-CSRFToken": )"[^"]+"')


def _forgot(host: HostClient, email: str):
    return host.submit("/password/forgot", {"email": email})


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, client, person):
    [ws] = person(0)
    host = HostClient(client, ws.host)
    known = _forgot(host, ws.owner_email)
    unknown = _forgot(host, "nobody-at-all@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _CSRF_VALUES.sub("", page_text(known)) == _CSRF_VALUES.sub("", page_text(unknown))
    assert "If an account exists for this address, we have sent a link" in page_text(known)
    assert len(mails_to(app, ws.owner_email)) == 1
    assert mails_to(app, "nobody-at-all@example.org") == []


def _reset_link(app, client, ws) -> str:
    before = len(mails_to(app, ws.owner_email))
    _forgot(HostClient(client, ws.host), ws.owner_email)
    mails = mails_to(app, ws.owner_email)
    assert len(mails) == before + 1
    return link_in(mails[-1], "/password/reset/")


def _set_password(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    parts = urlsplit(link)
    host = HostClient(client, parts.netloc)
    return host.submit(parts.path, {"password": password, "password_confirm": confirm or password})


def test_the_mailed_reset_link_sets_a_new_password_and_signs_in(app, client, person):
    [ws] = person(0)
    link = _reset_link(app, client, ws)
    assert urlsplit(link).netloc == ws.host  # asked on the workspace host, answered there

    response = _set_password(client, link)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert is_signed_in(HostClient(client, ws.host))
    assert audit_entries(app, "user.password_reset", actor_user_id=ws.owner_id)
    other = fresh_client(app, ws.host)
    assert other.submit("/login", {"email": ws.owner_email, "password": TEST_PASSWORD}).status_code == 401
    assert other.submit("/login", {"email": ws.owner_email, "password": NEW_PASSWORD}).status_code == 302


def test_a_reset_link_works_once(app, client, person):
    [ws] = person(0)
    link = _reset_link(app, client, ws)
    assert _set_password(client, link).status_code == 302

    again = _set_password(app.test_client(), link, "yet another passphrase 7")
    assert again.status_code == 400
    assert "This link has already been used. Ask for a new one." in page_text(again)


def test_an_expired_reset_link_is_refused(app, client, person):
    [ws] = person(0)
    link = _reset_link(app, client, ws)
    with app.app_context():
        db.session.execute(update(OneTimeToken).where(
            OneTimeToken.user_id == ws.owner_id, OneTimeToken.purpose == "password_reset",
        ).values(expires_at=utcnow().replace(year=2000)))
        db.session.commit()

    response = _set_password(client, link)

    assert response.status_code == 400
    assert "This link has expired. Ask for a new one." in page_text(response)
    assert fresh_client(app, ws.host).submit(
        "/login", {"email": ws.owner_email, "password": TEST_PASSWORD}).status_code == 302


def test_using_a_newer_reset_link_kills_the_older_one(app, client, person):
    [ws] = person(0)
    older = _reset_link(app, client, ws)
    newer = _reset_link(app, client, ws)
    assert _set_password(client, newer).status_code == 302

    response = _set_password(app.test_client(), older, "yet another passphrase 7")
    assert response.status_code == 400
    assert "This link has already been used." in page_text(response)


@pytest.mark.parametrize("tamper", ["truncate", "swap-secret", "other-purpose"])
def test_a_tampered_reset_link_is_refused(app, client, person, tamper):
    [ws] = person(0)
    link = _reset_link(app, client, ws)
    base, _sep, token = link.rpartition("/")
    if tamper == "truncate":
        token = token[:-4]
    elif tamper == "swap-secret":
        # A validly signed token that names the right row with a wrong secret.
        from kundo.platform.auth.service import _serializer

        with app.app_context():
            row_id = _serializer("password_reset").loads(token)["i"]
            token = _serializer("password_reset").dumps({"i": row_id, "s": "guessed"})
    else:
        # A link signed for another purpose (an e-mail confirmation) must not reset passwords.
        from kundo.platform.auth.service import _serializer

        with app.app_context():
            token = _serializer("verify_email").dumps(_serializer("password_reset").loads(token))

    response = _set_password(client, f"{base}/{token}")

    assert response.status_code == 400
    assert "This link is not valid. Copy the whole link from the e-mail." in page_text(response)
    assert _set_password(client, link).status_code == 302  # the real link still works


@pytest.mark.parametrize(("password", "confirm", "message"), [
    (NEW_PASSWORD, "something else entirely", "The two passwords differ."),
    ("short", "short", "Use at least 10 characters."),
])
def test_a_refused_new_password_keeps_the_link_usable(app, client, person, password, confirm, message):
    [ws] = person(0)
    link = _reset_link(app, client, ws)
    response = _set_password(client, link, password, confirm)
    assert response.status_code == 400 and message in page_text(response)
    assert _set_password(client, link).status_code == 302


def test_a_non_member_asking_on_a_workspace_host_is_sent_to_the_root_domain(app, client, shared_workspaces,
                                                                             make_user):
    ws = shared_workspaces[0]
    _user_id, email = make_user()
    assert _forgot(HostClient(client, ws.host), email).status_code == 200
    [mail] = mails_to(app, email)
    link = link_in(mail, "/password/reset/")
    assert urlsplit(link).netloc == TEST_DOMAIN

    response = _set_password(client, link)

    assert response.status_code == 302 and response.headers["Location"] == "/workspaces"
    assert HostClient(client, TEST_DOMAIN).get("/workspaces").status_code == 200


def test_a_password_reset_signs_out_every_other_session(app, client, person, sign_in):
    [ws] = person(0)
    old_session = sign_in(ws)
    assert is_signed_in(old_session)

    link = _reset_link(app, app.test_client(), ws)
    resetting_browser = app.test_client()
    assert _set_password(resetting_browser, link).status_code == 302

    assert not is_signed_in(old_session)
    assert is_signed_in(HostClient(resetting_browser, ws.host))


def test_changing_the_password_on_the_profile_signs_out_other_sessions_only(app, person):
    [ws] = person(0)
    laptop, phone = fresh_client(app, ws.host), fresh_client(app, ws.host)
    for browser in (laptop, phone):
        assert browser.submit("/login", {"email": ws.owner_email, "password": TEST_PASSWORD}).status_code == 302

    too_long = laptop.submit("/account", {"name": "O" * 201})
    assert too_long.status_code == 400 and "Use at most 200 characters for your name." in page_text(too_long)
    wrong = laptop.submit("/account", {"name": "Olivia", "current_password": "nope nope nope",
                                       "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "Your current password is wrong." in page_text(wrong)
    assert is_signed_in(phone)

    saved = laptop.submit("/account", {"name": "Olivia", "current_password": TEST_PASSWORD,
                                       "new_password": NEW_PASSWORD})
    assert saved.status_code == 302
    assert is_signed_in(laptop)
    assert not is_signed_in(phone)


# ---- e-mail verification ------------------------------------------------------------------

@pytest.fixture
def signed_up(app, root):
    """A workspace made through the sign-up form: its owner is not verified yet."""
    slug = unique_slug("verify")
    email = f"{slug}@example.com"
    response = root.submit("/signup", {"company_name": "Verify AG", "slug": slug, "name": "Vera Verify",
                                       "email": email, "password": TEST_PASSWORD, "terms": "on"})
    assert response.status_code == 302
    root.client.get(response.headers["Location"])
    return HostClient(root.client, f"{slug}.{TEST_DOMAIN}"), email


BANNER = "Please confirm your e-mail address"


def test_the_verification_link_works_once_and_the_banner_goes(app, signed_up):
    host, email = signed_up
    assert BANNER in page_text(host.get("/"))
    [mail] = mails_to(app, email)
    link = link_in(mail, "/verify/")
    assert urlsplit(link).netloc == host.host

    confirmed = host.get(urlsplit(link).path)
    assert confirmed.status_code == 302
    dashboard = page_text(host.get("/"))
    assert BANNER not in dashboard
    assert "Thank you — your e-mail address is confirmed." in dashboard
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.email_verified_at is not None
    assert audit_entries(app, "user.email_verified", actor_user_id=user.id)

    again = host.get(urlsplit(link).path)
    assert again.status_code == 400
    assert "This link has already been used. Ask for a new one." in page_text(again)


def test_the_verification_link_works_without_a_session(app, signed_up):
    host, email = signed_up
    link = link_in(mails_to(app, email)[0], "/verify/")
    response = fresh_client(app, host.host).get(urlsplit(link).path)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == email)).is_verified


def test_a_new_verification_link_can_be_requested(app, signed_up):
    host, email = signed_up
    response = host.submit("/verify/resend", page="/")
    assert response.status_code == 302
    mails = mails_to(app, email)
    assert len(mails) == 2
    assert host.get(urlsplit(link_in(mails[1], "/verify/")).path).status_code == 302
    assert BANNER not in page_text(host.get("/"))


def test_a_forged_verification_link_is_refused(signed_up):
    host, _email = signed_up
    response = host.get("/verify/not-a-real-token")
    assert response.status_code == 400
    assert "This link is not valid." in page_text(response)
    assert BANNER in page_text(host.get("/"))


# ---- API tokens on the profile (audited) --------------------------------------------------------

def test_creating_an_api_token_on_the_page_is_audited_and_shown_once(app, person, sign_in):
    [ws] = person(0)
    host = sign_in(ws)
    response = host.submit("/account/tokens", {"name": "CI deploy", "scopes": ["read", "write"]})
    assert response.status_code == 200
    body = page_text(response)
    token = re.search(r"kundo_[A-Za-z0-9]{8}_[A-Za-z0-9_-]+", body).group(0)
    assert host.api("GET", "/api/v1/me", token).status_code == 200
    assert token not in page_text(host.get("/account/tokens"))
    [entry] = audit_entries(app, "api_token.created", tenant_id=ws.tenant_id, actor_user_id=ws.owner_id)
    assert entry.actor_user_id == ws.owner_id
    assert entry.data == {"name": "CI deploy", "scopes": ["read", "write"]}


def test_revoking_a_token_on_the_page_stops_it_and_only_its_owner_can(app, person, sign_in, api_token):
    [ws] = person(0)
    [other] = person(0)
    token = api_token(ws, ws.owner_id)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == token.split("_")[1]))
    stranger = fresh_client(app, other.host)
    assert stranger.submit("/login", {"email": other.owner_email, "password": TEST_PASSWORD}).status_code == 302
    assert stranger.submit(f"/account/tokens/{token_id}/revoke", page="/account/tokens").status_code == 404
    host = sign_in(ws)
    assert host.api("GET", "/api/v1/me", token).status_code == 200

    response = host.submit(f"/account/tokens/{token_id}/revoke", page="/account/tokens", follow_redirects=True)

    assert "The token “test” is revoked." in page_text(response)
    assert host.api("GET", "/api/v1/me", token).status_code == 401
    assert audit_entries(app, "api_token.revoked", actor_user_id=ws.owner_id, target=f"api_token:{token_id}")
