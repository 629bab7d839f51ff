"""Self-service sign-up on the root domain, through real HTTP with CSRF switched on.

A refused sign-up must leave nothing behind: no user, no tenant row, no schema, no
PostgreSQL role, no mail. The footprint is counted in the database itself.
"""

from __future__ import annotations

import html
import threading
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from kundo.platform.audit.models import AuditEntry
from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.platform.mail.models import OutboxMail
from kundo.tenants.models import Membership, Role, Tenant
from kundo.tenants.naming import role_name_for
from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, unique_slug
from kundo.testing.web import HostClient


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signup_form(**overrides) -> dict:
    token = uuid.uuid4().hex[:8]
    form = {
        "company_name": "Acme Tools GmbH",
        "slug": unique_slug("acme"),
        "name": "Anna Admin",
        "email": f"anna-{token}@acme-tools.example",
        "password": TEST_PASSWORD,
        "terms": "on",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


@pytest.fixture
def footprint(app):
    """Counts of everything a sign-up writes, read straight from PostgreSQL."""
    role_prefix = role_name_for(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database, 0)[:-1]

    def _count() -> dict:
        with app.app_context():
            return {
                "users": db.session.scalar(select(func.count()).select_from(User)),
                "tenants": db.session.scalar(select(func.count()).select_from(Tenant)),
                "memberships": db.session.scalar(select(func.count()).select_from(Membership)),
                "mails": db.session.scalar(select(func.count()).select_from(OutboxMail)),
                "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
                "schemas": db.session.scalar(text(
                    r"SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\_%'")),
                "roles": db.session.scalar(text(
                    "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, :p)"), {"p": role_prefix}),
            }

    return _count


def test_signup_creates_workspace_owner_and_mail_and_signs_in_on_the_new_host(app, root, footprint):
    before = footprint()
    form = signup_form(slug=unique_slug("acme").upper())  # upper case is normalised, not refused
    slug = form["slug"].lower()

    response = root.submit("/signup", form)

    assert response.status_code == 302, page_text(response)[:400]
    target = urlsplit(response.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("http", f"{slug}.{TEST_DOMAIN}", "/auth/handoff")

    after = footprint()
    assert {k: after[k] - before[k] for k in after} == {
        "users": 1, "tenants": 1, "memberships": 1, "mails": 1, "audit": 1, "schemas": 1, "roles": 1,
    }
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        user = db.session.scalar(select(User).where(User.email == form["email"]))
        assert tenant.name == "Acme Tools GmbH"
        assert user.name == "Anna Admin" and user.email_verified_at is None
        membership = db.session.scalar(select(Membership).where(Membership.tenant_id == tenant.id))
        assert (membership.user_id, membership.role) == (user.id, Role.OWNER)
        assert db.session.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"),
                                 {"s": tenant.schema_name}) == 1
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == form["email"]))
        assert f"http://{slug}.{TEST_DOMAIN}/verify/" in mail.body_text
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tenant.signed_up",
                                                           AuditEntry.tenant_id == tenant.id))
        assert audit.actor_user_id == user.id

    # The browser follows the hand-off to the workspace host and lands signed in.
    landed = root.client.get(response.headers["Location"])
    assert landed.status_code == 302 and landed.headers["Location"] == "/?welcome=1"
    workspace = HostClient(root.client, f"{slug}.{TEST_DOMAIN}")
    dashboard = workspace.get("/?welcome=1")
    assert dashboard.status_code == 200
    assert "Welcome to Kundo, Anna!" in page_text(dashboard)
    assert "Please confirm your e-mail address" in page_text(dashboard)


def _refused(root, footprint, form, status=400):
    before = footprint()
    response = root.submit("/signup", form)
    assert response.status_code == status, page_text(response)[:400]
    assert footprint() == before, "a refused sign-up must leave nothing behind"
    return page_text(response)


@pytest.mark.parametrize(("slug", "message"), [
    ("www", "“www” is reserved"),
    ("api", "“api” is reserved"),
    ("admin", "“admin” is reserved"),
    ("control", "“control” is reserved"),
    ("public", "“public” is reserved"),
    ("pg-x", "“pg-x” is reserved"),
    ("pg_x", "Use only lower-case letters, digits and hyphens"),
    ('a";drop', "Use only lower-case letters, digits and hyphens"),
    ("../x", "Use only lower-case letters, digits and hyphens"),
    ("-acme", "Use only lower-case letters, digits and hyphens"),
    ("acme-", "Use only lower-case letters, digits and hyphens"),
    ("a" * 41, "at most 40 characters"),
    ("ac", "at least 3 characters"),
    ("ac--me", "two hyphens in a row"),
])
def test_signup_refuses_reserved_and_invalid_addresses(root, footprint, slug, message):
    body = _refused(root, footprint, signup_form(slug=slug))
    assert message in body


def test_signup_refuses_a_taken_address(root, footprint, make_workspace):
    taken = make_workspace()
    body = _refused(root, footprint, signup_form(slug=taken.slug.upper()))
    assert f"“{taken.slug}” is already taken. Try another address." in body


def test_signup_refuses_a_known_email_whatever_its_case(root, footprint, make_user):
    token = uuid.uuid4().hex[:8]
    make_user(email=f"Anna-{token}@X.example")
    body = _refused(root, footprint, signup_form(email=f"anna-{token}@x.EXAMPLE"))
    assert "An account with this e-mail address already exists. Log in instead." in body


@pytest.mark.parametrize(("password", "message"), [
    ("short-pw", "Use at least 10 characters."),
    ("password123", "This password is too easy to guess."),
    ("aaaaaaaaaaaa", "This password is too easy to guess."),
])
def test_signup_refuses_a_weak_password(root, footprint, password, message):
    body = _refused(root, footprint, signup_form(password=password))
    assert message in body


def test_signup_refuses_a_password_containing_the_email(root, footprint):
    body = _refused(root, footprint, signup_form(email="wolfgang@acme.example", password="wolfgang-2026!"))
    assert "The password must not contain your e-mail address." in body


@pytest.mark.parametrize("email", ["not-an-address", "anna@localhost", "an na@acme.example",
                                   "a" * 250 + "@acme.example"])
def test_signup_refuses_an_invalid_email(root, footprint, email):
    body = _refused(root, footprint, signup_form(email=email))
    assert "Enter a valid e-mail address." in body


def test_signup_refuses_a_name_longer_than_the_column(root, footprint):
    """201 characters reached PostgreSQL before, which answered with a 500."""
    body = _refused(root, footprint, signup_form(name="N" * 201))
    assert "Use at most 200 characters for your name." in body


@pytest.mark.parametrize("field", ["company_name", "slug", "name", "email", "password"])
def test_signup_refuses_missing_fields(root, footprint, field):
    body = _refused(root, footprint, signup_form(**{field: "   " if field != "password" else None}))
    assert "Please fill in every field." in body


def test_signup_needs_the_terms_accepted(root, footprint):
    body = _refused(root, footprint, signup_form(terms=None))
    assert "Please accept the terms to create a workspace." in body


def test_signup_without_csrf_token_is_refused(root, footprint):
    before = footprint()
    root.get("/signup")  # a session exists, only the token is missing from the form
    response = root.post("/signup", data=signup_form())
    assert response.status_code == 400
    assert "This form has expired or was sent from another page. Reload the page and send it again." in page_text(
        response)
    forged = root.post("/signup", data={**signup_form(), "csrf_token": "forged"})
    assert forged.status_code == 400 and "Reload the page and send it again." in page_text(forged)
    assert footprint() == before


def test_signup_form_keeps_what_was_typed_except_the_password(root):
    form = signup_form(slug="www")
    body = page_text(root.submit("/signup", form))
    assert f'value="{form["email"]}"' in body
    assert f'value="{form["company_name"]}"' in body
    assert TEST_PASSWORD not in body


def test_signup_is_only_on_the_root_domain(client, make_workspace):
    workspace = HostClient(client, make_workspace().host)
    assert workspace.get("/signup").status_code == 404
    assert workspace.get("/signup/check?slug=anything").status_code == 404


# ---- live availability check ------------------------------------------------------------

def _check(root, slug=None, *, json=True, **params):
    query = {"slug": slug, **params} if slug is not None else params
    headers = {"Accept": "application/json"} if json else {"HX-Request": "true"}
    return root.get("/signup/check", query_string=query, headers=headers)


def test_slug_check_answers_json(root, make_workspace):
    taken = make_workspace()
    free = unique_slug("free")
    assert _check(root, free).get_json() == {"slug": free, "available": True, "message": f"{free} is available."}
    answer = _check(root, taken.slug).get_json()
    assert answer["available"] is False
    assert answer["message"] == f"“{taken.slug}” is already taken. Try another address."
    reserved = _check(root, "admin").get_json()
    assert reserved["available"] is False and "reserved" in reserved["message"]


def test_slug_check_answers_an_htmx_fragment(root, make_workspace):
    taken = make_workspace()
    free = _check(root, unique_slug("free"), json=False)
    assert free.status_code == 200 and free.mimetype == "text/html"
    assert 'data-available="yes"' in page_text(free)
    assert "<html" not in page_text(free)
    busy = page_text(_check(root, taken.slug, json=False))
    assert 'data-available="no"' in busy and "already taken" in busy


def test_slug_check_suggests_from_the_company_name(root):
    answer = _check(root, company_name="Müller & Söhne GmbH").get_json()
    assert (answer["slug"], answer["available"]) == ("mueller-soehne-gmbh", True)


# ---- two sign-ups at the same moment -----------------------------------------------------------

@contextmanager
def claimed_elsewhere(app, insert_sql: str, params: dict):
    """Another transaction inserts a row and commits only once our request waits on it.

    That is the race the form's up-front check cannot see: both sign-ups passed it,
    and the database's unique index decides.
    """
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(text(insert_sql), params)
    backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    race = {"hit": False}

    def commit_when_blocking():
        with engine.connect() as watcher:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                waiting = watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
                    {"pid": backend}).scalar()
                watcher.rollback()  # pg_stat_activity is a snapshot per transaction: look again
                if waiting:
                    race["hit"] = True
                    break
                time.sleep(0.01)
        transaction.commit()

    committer = threading.Thread(target=commit_when_blocking)
    committer.start()
    try:
        yield race
    finally:
        committer.join()
        connection.close()


def _cleanup(app, sql: str, params: dict) -> None:
    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()


def test_a_slug_taken_by_a_concurrent_signup_is_refused_cleanly(app, root, footprint):
    form = signup_form()
    insert = ("INSERT INTO control.tenants (id, slug, name, status, schema_name, role_name, locale) "
              "VALUES (nextval('control.tenants_id_seq'), :slug, 'Other', 'active', :slug, :slug, 'en')")
    try:
        with claimed_elsewhere(app, insert, {"slug": form["slug"]}) as race:
            before = footprint()
            response = root.submit("/signup", form)
        assert race["hit"], "the sign-up never waited on the other transaction"
        assert response.status_code == 400
        assert f"“{form['slug']}” is already taken. Try another address." in page_text(response)
        after = footprint()
        assert {k: after[k] - before[k] for k in after} == {
            "users": 0, "tenants": 1, "memberships": 0, "mails": 0, "audit": 0, "schemas": 0, "roles": 0}
    finally:
        _cleanup(app, "DELETE FROM control.tenants WHERE slug = :slug", {"slug": form["slug"]})


def test_an_email_registered_by_a_concurrent_signup_is_refused_cleanly(app, root, footprint):
    form = signup_form()
    insert = ("INSERT INTO control.users (email, name, password_hash) "
              "VALUES (:email, 'Other', 'not-a-hash')")
    try:
        with claimed_elsewhere(app, insert, {"email": form["email"].upper()}) as race:
            before = footprint()
            response = root.submit("/signup", form)
        assert race["hit"], "the sign-up never waited on the other transaction"
        assert response.status_code == 400
        assert "An account with this e-mail address already exists. Log in instead." in page_text(response)
        after = footprint()
        assert {k: after[k] - before[k] for k in after} == {
            "users": 1, "tenants": 0, "memberships": 0, "mails": 0, "audit": 0, "schemas": 0, "roles": 0}
    finally:
        _cleanup(app, "DELETE FROM control.users WHERE email = :email", {"email": form["email"].upper()})
