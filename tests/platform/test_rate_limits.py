"""Rate limits on logging in, signing up and asking for a password reset.

The shared `app` runs without limits; these tests build their own app with low limits.
Each test comes from its own client address, because limits count per address.
"""

from __future__ import annotations

import html
import itertools

import pytest

from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, build_app, unique_slug
from kundo.testing.web import HostClient

_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _dispose(app) -> None:
    from kundo.platform.db import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def limited_app(app, database_url):
    # `app` first: the shared app exists before this one, as in a full test run.
    limited = build_app(database_url, ratelimit_enabled=True, login_rate_limit="3 per minute",
                        signup_rate_limit="3 per minute", reset_rate_limit="3 per minute")
    yield limited
    _dispose(limited)


def client_of(app, host: str = TEST_DOMAIN, address: str | None = None) -> HostClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address or next(_addresses)
    return HostClient(client, host)


def test_the_fourth_login_attempt_in_a_minute_gets_429(limited_app, make_workspace):
    ws = make_workspace()
    browser = client_of(limited_app, ws.host)
    for _attempt in range(3):
        assert browser.submit("/login", {"email": ws.owner_email, "password": "guessing"}).status_code == 401

    # Even the right password waits now: that is what stops guessing.
    blocked = browser.submit("/login", {"email": ws.owner_email, "password": TEST_PASSWORD})

    assert blocked.status_code == 429
    assert "Too many login attempts. Wait a minute and try again." in page_text(blocked)
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    # Another address is not punished for this one.
    other = client_of(limited_app, ws.host)
    assert other.submit("/login", {"email": ws.owner_email, "password": TEST_PASSWORD}).status_code == 302
    # Reading the login page is not limited.
    assert browser.get("/login").status_code == 200


def test_a_limited_api_style_client_gets_problem_json(limited_app, make_workspace):
    ws = make_workspace()
    browser = client_of(limited_app, ws.host)
    for _attempt in range(3):
        browser.submit("/login", {"email": ws.owner_email, "password": "guessing"})
    blocked = browser.submit("/login", {"email": ws.owner_email, "password": "guessing"},
                             headers={"Accept": "application/json"})
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    problem = blocked.get_json()
    assert problem["status"] == 429
    assert problem["detail"] == "Too many login attempts. Wait a minute and try again."
    assert "Retry-After" in blocked.headers


def test_the_fourth_signup_in_a_minute_gets_429(limited_app):
    browser = client_of(limited_app)
    for _attempt in range(3):
        refused = browser.submit("/signup", {"company_name": "Spam AG", "slug": unique_slug("spam"),
                                             "name": "Spam", "email": "spam@example.com", "password": "x"})
        assert refused.status_code == 400
    blocked = browser.submit("/signup", {"company_name": "Real AG", "slug": unique_slug("real"), "name": "Real",
                                         "email": f"{unique_slug('real')}@example.com",
                                         "password": TEST_PASSWORD, "terms": "on"})
    assert blocked.status_code == 429
    assert "Too many sign-ups from here. Wait a minute." in page_text(blocked)
    assert browser.get("/signup").status_code == 200


def test_the_fourth_password_reset_request_in_a_minute_gets_429(limited_app, make_workspace):
    ws = make_workspace()
    browser = client_of(limited_app, ws.host)
    for _attempt in range(3):
        assert browser.submit("/password/forgot", {"email": ws.owner_email}).status_code == 200
    blocked = browser.submit("/password/forgot", {"email": ws.owner_email})
    assert blocked.status_code == 429
    assert "Too many requests. Wait a minute and try again." in page_text(blocked)


def test_guessing_an_invited_accounts_password_is_limited_too(limited_app, make_workspace, make_user):
    from kundo.platform.db import db
    from kundo.tenants.models import Membership
    from kundo.tenants.service import invite

    ws = make_workspace()
    _user_id, email = make_user()
    with limited_app.app_context():
        owner = db.session.scalar(db.select(Membership).where(Membership.user_id == ws.owner_id))
        _invitation, link = invite(owner.tenant, owner, email=email, role="member")
        db.session.commit()
    path = link.removeprefix(f"http://{ws.host}")
    browser = client_of(limited_app, ws.host)
    for _attempt in range(3):
        assert browser.submit(path, {"password": "guessing"}).status_code == 400
    blocked = browser.submit(path, {"password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts from here. Wait a minute and try again." in page_text(blocked)


def test_limits_of_one_app_do_not_leak_into_another(app, limited_app, database_url, make_workspace):
    """Flask-Limiter keeps its on/off switch on the shared Limiter object; one app's
    setting must not switch limits on or off for another app in the same process."""
    ws = make_workspace()
    unlimited = client_of(app, ws.host, address="203.0.113.7")
    for _attempt in range(12):  # more than the default 10 per minute
        assert unlimited.submit("/login", {"email": ws.owner_email, "password": "guessing"}).status_code == 401

    late_app = build_app(database_url)  # an app without limits, built after the limited one
    try:
        limited = client_of(limited_app, ws.host)
        statuses = [limited.submit("/login", {"email": ws.owner_email, "password": "guessing"}).status_code
                    for _attempt in range(4)]
        assert statuses == [401, 401, 401, 429]
    finally:
        _dispose(late_app)
