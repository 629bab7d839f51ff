"""The REST API through real HTTP: tokens, scopes and roles, problem+json errors,
cursor pagination, and that a token never reaches past its own workspace."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from kundo.platform.auth.models import ApiToken
from kundo.platform.db import db
from kundo.tenants.models import Membership, Role, Tenant
from kundo.tenants.session import tenant_session
from kundo.tenants.workspace import WorkspaceProfile
from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, Workspace, unique_slug
from kundo.testing.web import HostClient

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors", "request_id"}


@pytest.fixture
def on(client):
    """on(workspace_or_host) -> a HostClient for that workspace's (or any) host."""
    return lambda target: HostClient(client, target if isinstance(target, str) else target.host)


@pytest.fixture(scope="module")
def shared(app) -> Workspace:
    """One workspace for the tests that only read or are refused: provisioning is DDL
    for every tenant table, so tests that change nobody's data share it."""
    from kundo.platform.auth.service import create_user
    from kundo.tenants.service import create_workspace

    with app.app_context():
        owner = create_user(email=f"{unique_slug('owner')}@example.com", name="Shared Owner", password=TEST_PASSWORD)
        tenant = create_workspace(slug=unique_slug("api"), name="Shared GmbH", owner=owner)
        db.session.commit()
        return Workspace(tenant.id, tenant.slug, tenant.schema_name, tenant.role_name, owner.id, owner.email)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    assert set(body) <= PROBLEM_KEYS, f"not problem+json (flask-smorest's own format?): {body}"
    return body


def token_row(app, plain: str) -> ApiToken:
    with app.app_context():
        return db.session.scalar(select(ApiToken).where(ApiToken.prefix == plain.split("_")[1]))


def member_role(app, tenant_id: int, user_id: int) -> Role | None:
    with app.app_context():
        return db.session.scalar(select(Membership.role).where(
            Membership.tenant_id == tenant_id, Membership.user_id == user_id))


# ---- authentication -----------------------------------------------------------------------


def test_me_names_the_tokens_user_workspace_role_and_scopes(make_workspace, api_token, on):
    ws = make_workspace(name="Alpha AG")
    response = on(ws).api("GET", "/api/v1/me", api_token(ws, scopes=["read"]))
    assert response.status_code == 200
    me = response.get_json()
    assert me["user"]["id"] == ws.owner_id and me["user"]["email"] == ws.owner_email
    assert me["workspace"] == {"slug": ws.slug, "name": "Alpha AG"}
    assert me["role"] == "owner"
    assert me["token_scopes"] == ["read"]


def test_on_the_root_host_a_token_resolves_its_own_workspace(make_workspace, api_token, root):
    a = make_workspace(name="Alpha AG")
    make_workspace(name="Beta GmbH")
    response = root.api("GET", "/api/v1/workspace", api_token(a))
    assert response.status_code == 200
    assert response.get_json()["slug"] == a.slug
    assert response.get_json()["name"] == "Alpha AG"


def test_a_token_on_another_workspaces_host_is_404_and_shows_nothing_of_it(app, make_workspace, api_token,
                                                                          add_member, on):
    a = make_workspace(name="Alpha AG")
    b = make_workspace(name="Beta GmbH")
    add_member(b, email="secret-person@beta.example")
    token = api_token(a)
    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/workspace"), ("GET", "/api/v1/members"),
                         ("GET", "/api/v1/tokens"), ("PATCH", "/api/v1/workspace")]:
        response = on(b).api(method, path, token, json={"name": "Hijacked"} if method == "PATCH" else None)
        assert_problem(response, 404)
        text = response.get_data(as_text=True)
        assert "Beta" not in text and "secret-person" not in text and b.owner_email not in text
    with app.app_context():
        assert db.session.get(Tenant, b.tenant_id).name == "Beta GmbH"


@pytest.mark.parametrize("header", [
    None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer nope", "Bearer kundo_nope_nope", "Bearer kundo__x",
])
def test_requests_without_a_valid_token_are_401_problems(shared, on, header):
    ws = shared
    headers = {"Authorization": header} if header else {}
    response = on(ws).client.get("/api/v1/me", base_url=on(ws).base_url, headers=headers)
    body = assert_problem(response, 401)
    assert "token" in body["detail"]
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_a_token_with_a_wrong_secret_is_refused(shared, api_token, on):
    ws = shared
    prefix = api_token(ws).split("_")[1]
    assert_problem(on(ws).api("GET", "/api/v1/me", f"kundo_{prefix}_{'x' * 43}"), 401)


def test_the_scheme_name_is_case_insensitive(shared, api_token, on):
    ws = shared
    response = on(ws).client.get("/api/v1/me", base_url=on(ws).base_url,
                                 headers={"Authorization": f"bearer {api_token(ws)}"})
    assert response.status_code == 200


# ---- tokens ---------------------------------------------------------------------------------


def test_created_tokens_are_hashed_at_rest_and_listed_by_prefix_only(app, make_workspace, api_token, on):
    ws = make_workspace()
    admin = api_token(ws)
    response = on(ws).api("POST", "/api/v1/tokens", admin, json={"name": "CI export", "scopes": ["read", "write"]})
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    plain = created["token"]
    _kundo, prefix, secret = plain.split("_", 2)
    assert created["prefix"] == prefix and created["scopes"] == ["read", "write"] and created["name"] == "CI export"

    row = token_row(app, plain)
    assert row.secret_hash != plain and secret not in row.secret_hash and plain not in row.secret_hash
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()

    listed = on(ws).api("GET", "/api/v1/tokens", admin).get_json()
    mine = next(t for t in listed if t["id"] == created["id"])
    assert mine["prefix"] == prefix
    assert "token" not in mine and "secret_hash" not in mine
    assert secret not in json.dumps(listed)
    assert on(ws).api("GET", "/api/v1/me", plain).status_code == 200


def test_using_a_token_records_when_it_was_last_used(app, make_workspace, api_token, on):
    ws = make_workspace()
    plain = api_token(ws)
    assert token_row(app, plain).last_used_at is None
    assert on(ws).api("GET", "/api/v1/me", plain).status_code == 200
    assert token_row(app, plain).last_used_at is not None


def test_a_revoked_token_is_refused_at_once(app, make_workspace, api_token, on):
    ws = make_workspace()
    admin = api_token(ws)
    victim = api_token(ws, scopes=["read"])
    assert on(ws).api("GET", "/api/v1/me", victim).status_code == 200
    response = on(ws).api("DELETE", f"/api/v1/tokens/{token_row(app, victim).id}", admin)
    assert response.status_code == 204
    assert token_row(app, victim).revoked_at is not None
    assert_problem(on(ws).api("GET", "/api/v1/me", victim), 401)
    assert on(ws).api("GET", "/api/v1/me", admin).status_code == 200


def test_tokens_of_other_users_and_workspaces_cannot_be_revoked(app, make_workspace, api_token, add_member, on):
    a = make_workspace()
    b = make_workspace()
    colleague, _email = add_member(a, role="admin")
    theirs = api_token(a, user_id=colleague)
    foreign = api_token(b)
    mine = api_token(a)
    for victim in (theirs, foreign):
        assert_problem(on(a).api("DELETE", f"/api/v1/tokens/{token_row(app, victim).id}", mine), 404)
        assert token_row(app, victim).revoked_at is None
    assert on(b).api("GET", "/api/v1/me", foreign).status_code == 200


@pytest.mark.parametrize("scopes, allowed", [
    (["read"], {"read"}),
    (["write"], {"read", "write"}),
    (["admin"], {"read", "write", "admin"}),
])
def test_scopes_nest_and_are_enforced(shared, api_token, on, scopes, allowed):
    ws = shared
    token = api_token(ws, scopes=scopes)
    calls = {
        "read": ("GET", "/api/v1/workspace", None, 200),
        "write": ("PATCH", "/api/v1/workspace", {"timezone": "Europe/Vienna"}, 200),
        "admin": ("POST", "/api/v1/tokens", {"name": "another"}, 201),
    }
    for scope, (method, path, body, ok) in calls.items():
        response = on(ws).api(method, path, token, json=body)
        if scope in allowed:
            assert response.status_code == ok, (scope, response.get_data(as_text=True))
        else:
            assert f"`{scope}` scope" in assert_problem(response, 403)["detail"]


# ---- roles ------------------------------------------------------------------------------------


def test_members_cannot_do_what_needs_an_admin(app, make_workspace, api_token, add_member, on):
    ws = make_workspace(name="Alpha AG")
    member_id, _email = add_member(ws, role="member")
    other_id, _other = add_member(ws, role="member")
    token = api_token(ws, user_id=member_id)
    refused = [
        ("PATCH", "/api/v1/workspace", {"name": "Mine now"}),
        ("PATCH", f"/api/v1/members/{other_id}", {"role": "admin"}),
        ("PATCH", f"/api/v1/members/{member_id}", {"role": "owner"}),
        ("DELETE", f"/api/v1/members/{other_id}", None),
        ("GET", "/api/v1/invitations", None),
        ("POST", "/api/v1/invitations", {"email": "friend@example.com"}),
    ]
    for method, path, body in refused:
        assert "role" in assert_problem(on(ws).api(method, path, token, json=body), 403)["detail"], path
    assert member_role(app, ws.tenant_id, other_id) == Role.MEMBER
    assert member_role(app, ws.tenant_id, member_id) == Role.MEMBER
    with app.app_context():
        assert db.session.get(Tenant, ws.tenant_id).name == "Alpha AG"
    # Reading is for everyone, and anyone may leave.
    assert on(ws).api("GET", "/api/v1/members", token).status_code == 200
    assert on(ws).api("DELETE", f"/api/v1/members/{member_id}", token).status_code == 204
    assert member_role(app, ws.tenant_id, member_id) is None
    assert_problem(on(ws).api("GET", "/api/v1/me", token), 401)


def test_admins_manage_members_but_owner_changes_need_an_owner(app, make_workspace, api_token, add_member, on):
    ws = make_workspace()
    admin_id, _a = add_member(ws, role="admin")
    member_id, _m = add_member(ws, role="member")
    admin = api_token(ws, user_id=admin_id)
    response = on(ws).api("PATCH", f"/api/v1/members/{member_id}", admin, json={"role": "admin"})
    assert response.status_code == 200
    assert response.get_json() == {**response.get_json(), "user_id": member_id, "role": "admin"}
    assert member_role(app, ws.tenant_id, member_id) == Role.ADMIN

    assert_problem(on(ws).api("PATCH", f"/api/v1/members/{member_id}", admin, json={"role": "owner"}), 403)
    assert_problem(on(ws).api("PATCH", f"/api/v1/members/{ws.owner_id}", admin, json={"role": "member"}), 403)
    assert_problem(on(ws).api("DELETE", f"/api/v1/members/{ws.owner_id}", admin), 403)
    assert member_role(app, ws.tenant_id, ws.owner_id) == Role.OWNER

    owner = api_token(ws)
    body = assert_problem(on(ws).api("PATCH", f"/api/v1/members/{ws.owner_id}", owner, json={"role": "admin"}), 409)
    assert "owner" in body["detail"]
    assert member_role(app, ws.tenant_id, ws.owner_id) == Role.OWNER

    assert on(ws).api("DELETE", f"/api/v1/members/{member_id}", admin).status_code == 204
    assert member_role(app, ws.tenant_id, member_id) is None


# ---- the workspace and invitations -------------------------------------------------------------


def test_admins_change_the_workspace_in_the_control_plane_and_its_own_schema(app, make_workspace, api_token, on):
    ws = make_workspace(name="Alpha AG")
    response = on(ws).api("PATCH", "/api/v1/workspace", api_token(ws), json={
        "name": "Alpha Holding AG", "locale": "de", "currency": "CHF", "timezone": "Europe/Zurich",
        "address": "Bahnhofstrasse 1, Zürich",
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Alpha Holding AG" and response.get_json()["status"] == "active"
    with app.app_context():
        tenant = db.session.get(Tenant, ws.tenant_id)
        assert (tenant.name, tenant.locale) == ("Alpha Holding AG", "de")
        with tenant_session(tenant) as session:
            profile = session.get(WorkspaceProfile, 1)
            assert (profile.company_name, profile.currency, profile.timezone) == (
                "Alpha Holding AG", "CHF", "Europe/Zurich")
    assert on(ws).api("GET", "/api/v1/workspace", api_token(ws)).get_json()["currency"] == "CHF"


def test_admins_invite_and_list_open_invitations(app, make_workspace, api_token, add_member, on):
    ws = make_workspace()
    admin_id, _email = add_member(ws, role="admin")
    admin = api_token(ws, user_id=admin_id)
    response = on(ws).api("POST", "/api/v1/invitations", admin, json={"email": "new.hire@example.com"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["role"] == "member"
    listed = on(ws).api("GET", "/api/v1/invitations", admin).get_json()
    assert [i["email"] for i in listed] == ["new.hire@example.com"]

    body = assert_problem(on(ws).api("POST", "/api/v1/invitations", admin, json={"email": ws.owner_email}), 422)
    assert "already a member" in body["errors"]["email"][0]
    assert_problem(on(ws).api("POST", "/api/v1/invitations", admin,
                              json={"email": "boss@example.com", "role": "owner"}), 403)


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"name": 5}, "name"),
    ({"name": ""}, "name"),
    ({"currency": "euro"}, "currency"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"locale": "fr"}, "locale"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_fields_are_422_problems_naming_each_field(shared, api_token, on, body, field):
    ws = shared
    problem = assert_problem(on(ws).api("PATCH", "/api/v1/workspace", api_token(ws), json=body), 422)
    assert list(problem["errors"]) == [field]
    assert field in problem["detail"]


def test_several_invalid_fields_are_reported_together(shared, api_token, on):
    ws = shared
    problem = assert_problem(on(ws).api("POST", "/api/v1/tokens", api_token(ws),
                                        json={"name": "", "scopes": ["root"]}), 422)
    assert set(problem["errors"]) == {"name", "scopes"}
    assert problem["errors"]["scopes"] == ["0: Must be one of: read, write, admin."]


def test_a_body_that_is_not_json_is_a_400_problem(shared, api_token, on):
    ws = shared
    response = on(ws).api("PATCH", "/api/v1/workspace", api_token(ws), data="{not json",
                          content_type="application/json")
    assert "JSON" in assert_problem(response, 400)["detail"]


def test_unknown_routes_and_methods_are_problems(shared, api_token, on):
    ws = shared
    token = api_token(ws)
    assert_problem(on(ws).api("GET", "/api/v1/no-such-thing", token), 404)
    response = on(ws).api("PUT", "/api/v1/me", token)
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


@pytest.mark.parametrize("path", ["/api/v1/members/99999999999999999999", "/api/v1/tokens/99999999999999999999",
                                  "/api/v1/members/0", "/api/v1/members/-1"])
def test_ids_out_of_range_are_simply_not_found(shared, api_token, on, path):
    ws = shared
    for method in ("GET", "DELETE") if "members" in path else ("DELETE",):
        assert_problem(on(ws).api(method, path, api_token(ws)), 404)


# ---- pagination ---------------------------------------------------------------------------------


def test_member_pages_cover_everyone_once_in_user_id_order(app, make_workspace, add_member, api_token, on):
    ws = make_workspace()
    for _ in range(11):
        add_member(ws)
    with app.app_context():
        expected = list(db.session.scalars(
            select(Membership.user_id).where(Membership.tenant_id == ws.tenant_id).order_by(Membership.user_id)))
    assert len(expected) == 12
    token = api_token(ws, scopes=["read"])
    seen, pages, cursor = [], [], None
    while True:
        query = "limit=5" + (f"&cursor={cursor}" if cursor else "")
        response = on(ws).api("GET", f"/api/v1/members?{query}", token)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        pages.append([m["user_id"] for m in page["items"]])
        seen.extend(pages[-1])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not end"
    assert [len(p) for p in pages] == [5, 5, 2]
    assert len(seen) == len(set(seen)), "pages overlap"
    assert seen == expected


def test_the_default_page_holds_everyone_of_a_small_workspace(make_workspace, add_member, api_token, on):
    ws = make_workspace()
    member_id, email = add_member(ws)
    page = on(ws).api("GET", "/api/v1/members", api_token(ws)).get_json()
    assert page["next_cursor"] is None
    assert {(m["user_id"], m["role"]) for m in page["items"]} == {(ws.owner_id, "owner"), (member_id, "member")}
    assert email in {m["email"] for m in page["items"]}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "!!!", "%C3%A4", _cursor("not json"), _cursor('{"user_id": 1}'), _cursor('["abc"]'), _cursor("[1.5]"),
    _cursor("[true]"), _cursor("[null]"), _cursor("[99999999999999999999]"), _cursor("[1, 2]"), _cursor("[]"),
    _cursor('"1"'),
])
def test_a_forged_cursor_is_a_400_problem(shared, api_token, on, cursor):
    ws = shared
    body = assert_problem(on(ws).api("GET", f"/api/v1/members?cursor={cursor}", api_token(ws)), 400)
    assert "cursor" in body["errors"]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_a_page_size_out_of_range_is_a_422_problem(shared, api_token, on, limit):
    ws = shared
    body = assert_problem(on(ws).api("GET", f"/api/v1/members?limit={limit}", api_token(ws)), 422)
    assert list(body["errors"]) == ["limit"]


# ---- isolation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host_of", ["a", "root"])
def test_another_workspaces_member_ids_are_not_found_and_stay_unchanged(app, make_workspace, add_member,
                                                                         api_token, on, host_of):
    a = make_workspace(name="Alpha AG")
    b = make_workspace(name="Beta GmbH")
    b_member, b_email = add_member(b, role="member")
    client = on(a if host_of == "a" else TEST_DOMAIN)
    token = api_token(a)
    for target in (b_member, b.owner_id):
        for method, body in [("GET", None), ("PATCH", {"role": "admin"}), ("DELETE", None)]:
            response = client.api(method, f"/api/v1/members/{target}", token, json=body)
            assert_problem(response, 404)
            assert b_email not in response.get_data(as_text=True)
    assert member_role(app, b.tenant_id, b_member) == Role.MEMBER
    assert member_role(app, b.tenant_id, b.owner_id) == Role.OWNER
    listed = {m["user_id"] for m in client.api("GET", "/api/v1/members", token).get_json()["items"]}
    assert listed == {a.owner_id}


# ---- rate limits and server errors -----------------------------------------------------------------

_RATE_LIMITED = textwrap.dedent("""
    import json, sys
    from kundo.platform.app import create_app
    from kundo.testing.fixtures import make_settings

    database_url, host, token, other = sys.argv[1:]
    app = create_app(make_settings(database_url, ratelimit_enabled=True, extra={"API_RATE_LIMIT": "3 per minute"}))
    client = app.test_client()
    answers = []
    for plain in [token] * 4 + [other]:
        r = client.get("/api/v1/me", base_url=f"http://{host}", headers={"Authorization": f"Bearer {plain}"})
        answers.append({"status": r.status_code, "type": r.mimetype, "body": r.get_json(),
                        "retry_after": r.headers.get("Retry-After")})
    print(json.dumps(answers))
""")


def test_too_many_api_requests_are_429_problems_per_token(database_url, make_workspace, api_token):
    """Runs in its own process: Flask-Limiter keeps its on/off switch on one shared
    object, so enabling limits in this process would limit every other test too."""
    ws = make_workspace()
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _RATE_LIMITED, database_url, ws.host, api_token(ws), api_token(ws)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert [a["status"] for a in answers] == [200, 200, 200, 429, 200]
    limited = answers[3]
    assert limited["type"] == "application/problem+json"
    assert set(limited["body"]) <= PROBLEM_KEYS and limited["body"]["status"] == 429
    assert "Retry-After" in limited["body"]["detail"]
    assert int(limited["retry_after"]) > 0


@pytest.fixture(scope="module")
def production_like_app(database_url):
    """An app with TESTING off, so unexpected exceptions reach Kundo's 500 handler."""
    from kundo.testing.fixtures import build_app

    app = build_app(database_url, testing=False)

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("boom")

    yield app
    with app.app_context():
        db.engine.dispose()


def test_an_unexpected_error_is_a_500_problem_without_internals(production_like_app):
    response = production_like_app.test_client().get("/api/v1/_boom", base_url=f"http://{TEST_DOMAIN}")
    body = assert_problem(response, 500)
    assert "boom" not in response.get_data(as_text=True)
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_cursors_round_trip_typed_values_and_refuse_nulls_only_where_the_key_cannot_be_null():
    from datetime import UTC, datetime

    from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table

    from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor

    table = Table("t", MetaData(), Column("id", BigInteger, primary_key=True), Column("due", DateTime(timezone=True)),
                  Column("name", String, nullable=False))
    key = [table.c.due, table.c.name, table.c.id]
    due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert decode_cursor(encode_cursor([due, "Ada", 7]), key) == [due, "Ada", 7]
    assert decode_cursor(encode_cursor([None, "Ada", 7]), key) == [None, "Ada", 7]
    for forged in ([due, None, 7], [due, "Ada", None], ["yesterday", "Ada", 7], [due, 5, 7]):
        with pytest.raises(CursorError):
            decode_cursor(encode_cursor(forged), key)
