"""German and English: the browser's language, the language button and the user's own
setting, on pages, in messages from services, and in mails.

Expected German texts are read from the catalogue, except "Log in" → "Anmelden", which
pins that the catalogue is really in use and not just looked up.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import select, update

from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.platform.i18n import TRANSLATIONS_DIR
from kundo.platform.mail.models import OutboxMail
from kundo.tenants.models import Membership, Role
from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, Workspace, build_app, unique_slug
from kundo.testing.web import HostClient

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def compile_german_catalogue() -> Path:
    """What `make translations` does, when the compiled file is missing or older (it is git-ignored)."""
    po = Path(TRANSLATIONS_DIR) / "de" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as source:
            catalog = read_po(source, locale="de")
        partial = mo.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)
    return mo


@pytest.fixture(scope="module")
def i18n_app(app, database_url):
    """An app started after the catalogue is compiled (Flask-Babel caches what it loaded)."""
    compile_german_catalogue()
    i18n_app = build_app(database_url)
    yield i18n_app
    with i18n_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def shared_workspaces(app) -> list[Workspace]:
    """Two workspaces this module's tests share; each test brings its own person (`person`),
    since provisioning a workspace costs DDL for every tenant table and a person one row."""
    from kundo.platform.auth.service import create_user
    from kundo.tenants.service import create_workspace

    made = []
    with app.app_context():
        for name in ("Sprache AG", "Langue SA"):
            owner = create_user(email=f"{unique_slug('owner')}@example.com", name="Olivia Owner",
                                password=TEST_PASSWORD)
            tenant = create_workspace(slug=unique_slug("i18n"), name=name, owner=owner)
            db.session.commit()
            made.append(Workspace(tenant.id, tenant.slug, tenant.schema_name, tenant.role_name, owner.id, owner.email))
    return made


@pytest.fixture
def person(app, make_user, shared_workspaces):
    """person(0, 1) -> those shared workspaces as seen by a new member (owner_id/owner_email)."""

    def _person(*indexes: int) -> list[Workspace]:
        user_id, email = make_user(name="Petra Person")
        with app.app_context():
            for index in indexes:
                db.session.add(Membership(tenant_id=shared_workspaces[index].tenant_id, user_id=user_id,
                                          role=Role.MEMBER))
            db.session.commit()
        return [replace(shared_workspaces[index], owner_id=user_id, owner_email=email) for index in indexes]

    return _person


@pytest.fixture(scope="module")
def german():
    translations = Translations.load(str(TRANSLATIONS_DIR), ["de"])

    def _german(msgid: str, **values) -> str:
        text = translations.gettext(msgid)
        assert text != msgid, f"not translated in the German catalogue: {msgid!r}"
        return text % values if values else text

    return _german


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def page_language(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


def browser(app, host: str = TEST_DOMAIN, headers: dict | None = None) -> HostClient:
    client = app.test_client()
    client.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()})
    return HostClient(client, host)


def set_locale_of(app, user_id: int, locale: str | None) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(locale=locale))
        db.session.commit()


def locale_of(app, user_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.locale).where(User.id == user_id))


def log_in(host: HostClient, email: str) -> None:
    response = host.submit("/login", {"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302, page_text(response)[:300]


# ---- the browser's language -----------------------------------------------------------------

def test_a_german_browser_gets_german_pages(i18n_app):
    response = browser(i18n_app, headers=GERMAN).get("/login")
    assert page_language(response) == "de"
    assert "Anmelden" in page_text(response)
    assert ">Log in<" not in page_text(response)


@pytest.mark.parametrize("accept", [None, "en-US,en;q=0.9", "fr-FR", "en-GB,de;q=0.5"])
def test_other_browsers_get_english(i18n_app, accept):
    response = browser(i18n_app, headers={"Accept-Language": accept} if accept else {}).get("/login")
    assert page_language(response) == "en"
    assert ">Log in<" in page_text(response)


@pytest.mark.parametrize("accept", ["de", "de-AT", "fr, de;q=0.5", "de-CH, en;q=0.5"])
def test_any_german_preference_picks_german(i18n_app, accept):
    assert page_language(browser(i18n_app, headers={"Accept-Language": accept}).get("/login")) == "de"


# ---- the language button and the user's setting ---------------------------------------------

def test_the_language_button_wins_over_the_browser(i18n_app):
    host = browser(i18n_app, headers=ENGLISH)
    switched = host.submit("/locale", {"locale": "de", "next": "/login"}, page="/login")
    assert switched.status_code == 302 and switched.headers["Location"] == "/login"
    assert page_language(host.get("/login")) == "de"

    host.submit("/locale", {"locale": "fr", "next": "/login"}, page="/login")  # not offered: ignored
    assert page_language(host.get("/login")) == "de"
    host.submit("/locale", {"locale": "en", "next": "/login"}, page="/login")
    assert page_language(host.get("/login")) == "en"


def test_the_language_button_needs_csrf(i18n_app):
    host = browser(i18n_app, headers=ENGLISH)
    host.get("/login")
    assert host.post("/locale", data={"locale": "de"}).status_code == 400
    assert page_language(host.get("/login")) == "en"


@pytest.mark.parametrize(("stored", "accept", "expected"), [
    ("en", GERMAN, "en"),
    ("de", ENGLISH, "de"),
    (None, GERMAN, "de"),
    (None, ENGLISH, "en"),
])
def test_the_users_setting_wins_over_the_browser(i18n_app, person, stored, accept, expected):
    [ws] = person(0)
    set_locale_of(i18n_app, ws.owner_id, stored)
    host = browser(i18n_app, ws.host, accept)
    log_in(host, ws.owner_email)
    assert page_language(host.get("/")) == expected


def test_the_language_button_of_a_signed_in_user_is_saved(i18n_app, person):
    [ws] = person(0)
    set_locale_of(i18n_app, ws.owner_id, "en")
    host = browser(i18n_app, ws.host, ENGLISH)
    log_in(host, ws.owner_email)
    host.submit("/locale", {"locale": "de", "next": "/settings/members"}, page="/")
    assert locale_of(i18n_app, ws.owner_id) == "de"
    assert page_language(host.get("/settings/members")) == "de"


def test_the_profile_language_follows_the_user_to_other_workspaces(i18n_app, person):
    alpha, beta = person(0, 1)
    set_locale_of(i18n_app, alpha.owner_id, "en")
    host = browser(i18n_app, alpha.host, ENGLISH)
    log_in(host, alpha.owner_email)

    saved = host.submit("/account", {"name": "Olivia Owner", "locale": "de"})

    assert saved.status_code == 302
    assert locale_of(i18n_app, alpha.owner_id) == "de"
    assert page_language(host.get("/")) == "de"
    handoff = host.get(f"/switch/{beta.slug}").headers["Location"]
    assert host.client.get(handoff).status_code == 302
    assert page_language(HostClient(host.client, beta.host).get("/")) == "de"


def test_a_language_chosen_on_the_login_page_survives_logging_in(i18n_app, person):
    [ws] = person(0)
    set_locale_of(i18n_app, ws.owner_id, "en")
    host = browser(i18n_app, ws.host, ENGLISH)
    host.submit("/locale", {"locale": "de", "next": "/login"}, page="/login")
    assert page_language(host.get("/login")) == "de"

    log_in(host, ws.owner_email)

    assert page_language(host.get("/")) == "de"
    assert locale_of(i18n_app, ws.owner_id) == "de"


# ---- messages from services and mails ---------------------------------------------------------

def test_a_refused_login_explains_itself_in_german(i18n_app, german, person):
    [ws] = person(0)
    response = browser(i18n_app, ws.host, GERMAN).submit("/login", {"email": ws.owner_email, "password": "falsch"})
    assert response.status_code == 401
    assert german("E-mail or password is wrong.") in page_text(response)


def test_signup_refusals_are_german(i18n_app, german):
    host = browser(i18n_app, headers=GERMAN)
    form = {"company_name": "Beispiel GmbH", "name": "Bea", "email": f"{unique_slug('bea')}@example.de",
            "terms": "on"}
    reserved = host.submit("/signup", {**form, "slug": "admin", "password": TEST_PASSWORD})
    assert german("“%(slug)s” is reserved. Please choose another address.", slug="admin") in page_text(reserved)
    weak = host.submit("/signup", {**form, "slug": unique_slug("bea"), "password": "kurz"})
    assert german("Use at least %(count)d characters.", count=10) in page_text(weak)
    no_terms = host.submit("/signup", {**{k: v for k, v in form.items() if k != "terms"},
                                       "slug": unique_slug("bea"), "password": TEST_PASSWORD})
    assert german("Please accept the terms to create a workspace.") in page_text(no_terms)


def test_a_used_link_is_refused_in_german(i18n_app, german, person):
    [ws] = person(0)
    host = browser(i18n_app, ws.host, GERMAN)
    response = host.submit("/password/reset/not-a-valid-token", {"password": "x" * 12, "password_confirm": "x" * 12})
    assert response.status_code == 400
    assert german("This link is not valid. Copy the whole link from the e-mail.") in page_text(response)


def test_the_password_reset_mail_is_written_in_the_askers_language(i18n_app, german, person):
    [ws] = person(0)
    browser(i18n_app, ws.host, GERMAN).submit("/password/forgot", {"email": ws.owner_email})
    with i18n_app.app_context():
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == ws.owner_email))
    assert mail.subject == german("Reset your Kundo password")


def test_a_refused_form_explains_itself_in_german(i18n_app, german):
    host = browser(i18n_app, headers=GERMAN)
    host.get("/signup")
    response = host.post("/signup", data={"company_name": "Ohne Token GmbH"})
    assert response.status_code == 400
    assert german("This form has expired or was sent from another page. Reload the page and send it again.") in (
        page_text(response))


def test_the_rate_limit_message_is_german(app, database_url, german, shared_workspaces):
    compile_german_catalogue()
    limited = build_app(database_url, ratelimit_enabled=True, login_rate_limit="1 per minute")
    try:
        host = browser(limited, shared_workspaces[0].host, GERMAN)
        host.client.environ_base["REMOTE_ADDR"] = "192.0.2.77"
        host.submit("/login", {"email": "x@example.com", "password": "guessing"})
        blocked = host.submit("/login", {"email": "x@example.com", "password": "guessing"})
        assert blocked.status_code == 429
        assert german("Too many login attempts. Wait a minute and try again.") in page_text(blocked)
    finally:
        with limited.app_context():
            db.engine.dispose()
