"""Request → tenant: which host reaches which workspace, what hostile hosts get, how a
suspended workspace answers, and that the request's tenant session always closes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kundo.platform.db import db
from kundo.tenants.models import Tenant, TenantStatus
from kundo.tenants.resolution import HostKind, classify_host, current_tenant_db
from kundo.tenants.service import set_tenant_status
from kundo.testing.fixtures import TEST_DOMAIN


@pytest.mark.parametrize("host, expected", [
    ("kundo.test", (HostKind.ROOT, None)),
    ("KUNDO.test", (HostKind.ROOT, None)),
    ("acme.kundo.test", (HostKind.TENANT, "acme")),
    ("ACME.Kundo.Test", (HostKind.TENANT, "acme")),
    ("acme-2.kundo.test", (HostKind.TENANT, "acme-2")),
    ("acme.kundo.test:5000", (HostKind.UNKNOWN, None)),
    ("kundo.test:5000", (HostKind.UNKNOWN, None)),
    ("a.b.kundo.test", (HostKind.UNKNOWN, None)),
    (".kundo.test", (HostKind.UNKNOWN, None)),
    ("-acme.kundo.test", (HostKind.UNKNOWN, None)),
    ("pg_catalog.kundo.test", (HostKind.UNKNOWN, None)),
    ('a";drop.kundo.test', (HostKind.UNKNOWN, None)),
    ("acme.kundo.test.", (HostKind.UNKNOWN, None)),
    ("kundo.test.evil.com", (HostKind.UNKNOWN, None)),
    ("acmekundo.test", (HostKind.UNKNOWN, None)),
    ("evil.com", (HostKind.UNKNOWN, None)),
    ("", (HostKind.UNKNOWN, None)),
    ("acme\n.kundo.test", (HostKind.UNKNOWN, None)),
    ("\u212acme.kundo.test", (HostKind.UNKNOWN, None)),  # Kelvin sign, lower-cases to "k"
    ("\u212aundo.test", (HostKind.UNKNOWN, None)),
    ("acme.kundo.tést", (HostKind.UNKNOWN, None)),
])
def test_hosts_are_classified_against_the_domain_and_the_slug_pattern(host, expected):
    assert classify_host(host, "kundo.test") == expected


def test_a_domain_with_a_port_needs_that_port():
    assert classify_host("acme.localhost:5000", "localhost:5000") == (HostKind.TENANT, "acme")
    assert classify_host("acme.localhost", "localhost:5000") == (HostKind.UNKNOWN, None)
    assert classify_host("acme.localhost:5001", "localhost:5000") == (HostKind.UNKNOWN, None)


# ---- through HTTP -----------------------------------------------------------------------------


def _hostile_hosts(slug: str) -> list[str]:
    return [
        f"control.{TEST_DOMAIN}", f"public.{TEST_DOMAIN}", f"pg_catalog.{TEST_DOMAIN}",
        f"information_schema.{TEST_DOMAIN}", f'a";drop.{TEST_DOMAIN}', f"a%22%3Bdrop.{TEST_DOMAIN}",
        f"{slug}';--.{TEST_DOMAIN}", "../x", f"../{slug}.{TEST_DOMAIN}", "evil.com", f"{TEST_DOMAIN}.evil.com",
        f"{slug}.{TEST_DOMAIN}.evil.com", f"{slug}.{TEST_DOMAIN}:5000", f"{slug}.{TEST_DOMAIN}.",
        f"x.{slug}.{TEST_DOMAIN}", f"t_1.{TEST_DOMAIN}", f"no-such-workspace.{TEST_DOMAIN}",
    ]


def test_hostile_and_unknown_hosts_get_404_and_never_a_workspace(client, make_workspace, add_member, api_token):
    a = make_workspace(name="Alpha AG")
    _member, secret_email = add_member(a)
    token = api_token(a)
    for host in _hostile_hosts(a.slug):
        page = client.get("/", headers={"Host": host})
        assert page.status_code == 404, host
        assert page.mimetype == "text/html"
        api = client.get("/api/v1/members", headers={"Host": host, "Authorization": f"Bearer {token}"})
        assert api.status_code == 404, host
        assert api.mimetype == "application/problem+json"
        for response in (page, api):
            body = response.get_data(as_text=True)
            assert "Alpha AG" not in body and secret_email not in body and a.owner_email not in body, host


def test_the_404_page_for_people_says_what_to_check(client):
    response = client.get("/", headers={"Host": f"no-such-workspace.{TEST_DOMAIN}", "Accept": "text/html"})
    assert response.status_code == 404
    assert "no-such-workspace" in response.get_data(as_text=True)
    assert "Check the address" in response.get_data(as_text=True)


def test_an_upper_case_host_reaches_the_same_workspace_and_no_other(client, make_workspace, api_token):
    a = make_workspace(name="Alpha AG")
    b = make_workspace(name="Beta GmbH")
    token = api_token(a)
    own = client.get("/api/v1/workspace", headers={"Host": a.host.upper(), "Authorization": f"Bearer {token}"})
    assert own.status_code == 200 and own.get_json()["slug"] == a.slug
    other = client.get("/api/v1/workspace", headers={"Host": b.host.upper(), "Authorization": f"Bearer {token}"})
    assert other.status_code == 404 and "Beta" not in other.get_data(as_text=True)


def test_health_checks_answer_on_any_host(client):
    assert client.get("/healthz", headers={"Host": "10.0.0.7:8000"}).status_code == 200


# ---- suspended workspaces -----------------------------------------------------------------------


@pytest.fixture
def suspend(app):
    def _set(workspace, status: TenantStatus):
        with app.app_context():
            set_tenant_status(db.session.get(Tenant, workspace.tenant_id), status, reason="unpaid invoices")
            db.session.commit()

    return _set


def test_a_suspended_workspace_answers_403_to_people_and_to_the_api(client, root, make_workspace, api_token,
                                                                    sign_in, suspend):
    ws = make_workspace(name="Alpha AG")
    token = api_token(ws)
    browser = sign_in(ws)
    suspend(ws, TenantStatus.SUSPENDED)

    page = browser.get("/")
    assert page.status_code == 403 and page.mimetype == "text/html"
    text_ = page.get_data(as_text=True)
    assert "suspended" in text_ and "Alpha AG" in text_ and "support" in text_

    for host_client in (browser, root):  # its own host, and the root host resolving by token
        api = host_client.api("GET", "/api/v1/workspace", token)
        assert api.status_code == 403 and api.mimetype == "application/problem+json"
        problem = api.get_json()
        assert problem["title"] == "Workspace suspended" and "suspended" in problem["detail"]

    suspend(ws, TenantStatus.ACTIVE)
    assert browser.get("/").status_code == 200
    assert root.api("GET", "/api/v1/workspace", token).status_code == 200


# ---- the request's tenant session ---------------------------------------------------------------


@pytest.fixture(scope="module")
def probe_app(database_url):
    """An app with routes that open the request's tenant session and then fail."""
    from kundo.testing.fixtures import build_app

    app = build_app(database_url)
    opened = []

    def _open_and_query():
        session = current_tenant_db()
        opened.append(session)
        session.execute(text("SELECT 1"))  # begins the tenant transaction on a pooled connection
        return session

    @app.get("/_probe/raise")
    def raises():
        _open_and_query()
        raise RuntimeError("the view failed half-way")

    @app.get("/_probe/abort")
    def aborts():
        from flask import abort

        _open_and_query()
        abort(409, description="conflict after reading")

    @app.get("/_probe/ok")
    def succeeds():
        return {"user": _open_and_query().scalar(text("SELECT current_user"))}

    app.extensions["probe.opened"] = opened
    yield app
    with app.app_context():
        db.engine.dispose()


def _checked_out(app) -> int:
    with app.app_context():
        return db.engine.pool.checkedout()


@pytest.mark.parametrize("path", ["/_probe/raise", "/_probe/abort", "/_probe/ok"])
def test_the_request_tenant_session_is_closed_at_teardown_even_when_the_view_fails(probe_app, make_workspace, path):
    ws = make_workspace()
    opened = probe_app.extensions["probe.opened"]
    before = _checked_out(probe_app)
    client = probe_app.test_client()
    if path == "/_probe/raise":
        with pytest.raises(RuntimeError, match="half-way"):
            client.get(path, base_url=f"http://{ws.host}")
    else:
        response = client.get(path, base_url=f"http://{ws.host}")
        assert response.status_code == (409 if "abort" in path else 200)
        if path == "/_probe/ok":
            assert response.get_json() == {"user": ws.role_name}
    session = opened[-1]
    assert not session.in_transaction(), "the tenant transaction was left open"
    assert _checked_out(probe_app) == before, "the tenant connection was not returned to the pool"
    # The connection went back clean: outside a tenant session it is the app's own role again.
    with probe_app.app_context():
        assert db.session.scalar(text("SELECT current_user")) != ws.role_name
