"""The `kundo` command as an operator uses it.

Most commands run through click's runner on the test app; the ones about start-up
(no database, wrong URL, `serve --demo`) run the real `kundo` executable against a
throw-away database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.tenants.models import Membership, Tenant, TenantStatus
from kundo.testing.database import create_database, drop_database
from kundo.testing.fixtures import TEST_PASSWORD, build_app, unique_slug
from kundo.testing.web import HostClient

KUNDO = Path(sys.executable).with_name("kundo")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002 - click's own name
        return runner.invoke(args=list(args), input=input)

    return invoke


def _exists(kind: str, name: str) -> bool:
    query = {"schema": "SELECT 1 FROM pg_namespace WHERE nspname = :n",
             "role": "SELECT 1 FROM pg_roles WHERE rolname = :n"}[kind]
    found = db.session.scalar(text(query), {"n": name}) is not None
    db.session.rollback()
    return found


# ---- users and workspaces ----------------------------------------------------------------


def test_users_create_asks_for_the_password_twice(app_ctx, cli):
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    result = cli("users", "create", "--email", email, "--name", "Otto Ops", input=f"{TEST_PASSWORD}\n{TEST_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert f"created user {email}" in result.stdout
    user = db.session.scalar(select(User).where(User.email == email))
    assert user.email_verified_at is not None and user.password_hash.startswith("$argon2")


@pytest.mark.parametrize(("password", "message"), [
    ("short", "Use at least 10 characters."),
    ("password123", "too easy to guess"),
])
def test_users_create_refuses_weak_passwords(app_ctx, cli, password, message):
    email = f"weak-{uuid.uuid4().hex[:8]}@example.com"
    result = cli("users", "create", "--email", email, "--name", "Wanda Weak", "--password", password)
    assert result.exit_code == 1
    assert message in result.stderr
    assert db.session.scalar(select(User.id).where(User.email == email)) is None


def test_users_create_refuses_a_taken_address(app_ctx, cli, make_user):
    _user_id, email = make_user()
    result = cli("users", "create", "--email", email.upper(), "--name", "Twin", "--password", TEST_PASSWORD)
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_tenants_create_list_suspend_resume(app_ctx, cli, make_user):
    _user_id, email = make_user()
    slug = unique_slug("cli")

    created = cli("tenants", "create", slug, "--name", "Kommando GmbH", "--owner", email, "--locale", "de")
    assert created.exit_code == 0, created.output
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    assert f"created {slug} (schema {tenant.schema_name}) — http://{slug}.kundo.test" in created.stdout
    assert _exists("schema", tenant.schema_name) and _exists("role", tenant.role_name)

    listed = cli("tenants", "list")
    assert listed.exit_code == 0
    row = next(line for line in listed.stdout.splitlines() if line.startswith(slug + " "))
    assert row.split()[1:4] == ["active", tenant.schema_name, "1"] and row.endswith("Kommando GmbH")

    suspended = cli("tenants", "suspend", slug, "--reason", "unpaid invoices")
    assert (suspended.exit_code, suspended.stdout.strip()) == (0, f"suspended {slug}")
    db.session.refresh(tenant)
    assert (tenant.status, tenant.suspended_reason) == (TenantStatus.SUSPENDED, "unpaid invoices")
    assert f"{slug} " in cli("tenants", "list").stdout and "suspended" in cli("tenants", "list").stdout

    resumed = cli("tenants", "resume", slug)
    assert (resumed.exit_code, resumed.stdout.strip()) == (0, f"resumed {slug}")
    db.session.refresh(tenant)
    assert (tenant.status, tenant.suspended_reason) == (TenantStatus.ACTIVE, None)
    db.session.rollback()


@pytest.mark.parametrize(("args", "message"), [
    (["tenants", "suspend", "no-such-place"], "No workspace “no-such-place”. `kundo tenants list` shows them all."),
    (["tenants", "resume", "no-such-place"], "No workspace “no-such-place”."),
    (["tenants", "delete", "no-such-place", "--yes"], "No workspace “no-such-place”."),
    (["tenants", "create", "fresh-place", "--name", "X", "--owner", "nobody@example.com"],
     "No user nobody@example.com. Create one with `kundo users create`."),
])
def test_tenant_commands_explain_what_is_missing(app_ctx, cli, args, message):
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_tenants_create_refuses_taken_and_malformed_addresses(app_ctx, cli, make_workspace, make_user):
    taken = make_workspace()
    _user_id, email = make_user()
    result = cli("tenants", "create", taken.slug, "--name", "Copy AG", "--owner", email)
    assert result.exit_code == 1
    assert f"“{taken.slug}” is already taken" in result.stderr

    result = cli("tenants", "create", "Bad Slug!", "--name", "Bad AG", "--owner", email)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.user_id == _user_id)) == 0


def test_tenants_delete_keeps_everything_when_the_answer_is_wrong(app_ctx, cli, make_workspace):
    ws = make_workspace()
    result = cli("tenants", "delete", ws.slug, input="something-else\n")
    assert result.exit_code == 1
    assert "Not deleted: the address did not match." in result.stderr
    assert db.session.get(Tenant, ws.tenant_id) is not None
    assert _exists("schema", ws.schema_name) and _exists("role", ws.role_name)


@pytest.mark.parametrize("how", ["typed", "--yes"])
def test_tenants_delete_drops_schema_role_and_row(app_ctx, cli, make_workspace, how):
    ws = make_workspace()
    if how == "typed":
        result = cli("tenants", "delete", ws.slug, input=f"{ws.slug}\n")
        assert "Type the workspace address" in result.output
    else:
        result = cli("tenants", "delete", ws.slug, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"deleted {ws.slug}")
    db.session.expire_all()
    assert db.session.get(Tenant, ws.tenant_id) is None
    assert not _exists("schema", ws.schema_name) and not _exists("role", ws.role_name)


def test_tenants_spares_fills_reports_and_discards(app_ctx, cli):
    from kundo.tenants.provisioning import tenant_head_revision

    head = tenant_head_revision()
    try:
        filled = cli("tenants", "spares", "--fill", "2")
        assert filled.exit_code == 0, filled.output
        assert filled.stdout.strip() == f"2 spare schema(s) ready at {head}"
        assert "making spare schemas" in filled.stderr
        schemas = db.session.scalars(text("SELECT schema_name FROM control.spare_schemas")).all()
        assert len(schemas) == 2 and all(_exists("schema", schema) for schema in schemas)
        assert cli("tenants", "spares").stdout.strip() == f"2 spare schema(s) ready at {head}"
    finally:
        discarded = cli("tenants", "spares", "--discard")
    assert discarded.exit_code == 0
    assert discarded.stdout.splitlines() == ["discarded 2 spare schema(s)", f"0 spare schema(s) ready at {head}"]
    assert not any(_exists("schema", schema) for schema in schemas)


def test_deleting_a_half_deleted_workspace_still_works(app_ctx, cli, make_workspace):
    ws = make_workspace()
    with db.engine.begin() as connection:  # an earlier deletion died after dropping the role
        connection.exec_driver_sql(f'DROP OWNED BY "{ws.role_name}"; DROP ROLE "{ws.role_name}"')
    result = cli("tenants", "delete", ws.slug, "--yes")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Tenant, ws.tenant_id) is None and not _exists("schema", ws.schema_name)


def test_a_database_refusal_is_one_clear_line(app_ctx, cli, make_user):
    _user_id, email = make_user()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE FUNCTION control.kundo_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no new workspaces today'; END $$;"
            "CREATE TRIGGER kundo_test_refuse BEFORE INSERT ON control.tenants "
            "FOR EACH ROW EXECUTE FUNCTION control.kundo_test_refuse()")
    try:
        result = cli("tenants", "create", unique_slug("refused"), "--name", "Refused AG", "--owner", email)
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "DROP TRIGGER kundo_test_refuse ON control.tenants; DROP FUNCTION control.kundo_test_refuse()")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: PostgreSQL refused: RaiseException: no new workspaces today."
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


# ---- mail and migrations ---------------------------------------------------------------------


def test_mail_outbox_shows_what_kundo_sent(app_ctx, cli):
    from kundo.tenants.service import sign_up

    email = f"mailbox-{uuid.uuid4().hex[:8]}@example.com"
    sign_up(company_name="Post AG", slug=unique_slug("post"), name="Paula Post", email=email, password=TEST_PASSWORD)
    db.session.commit()

    result = cli("mail", "outbox", "--to", email)
    assert result.exit_code == 0
    assert f"to {email}  via outbox" in result.stdout
    assert "Subject: Confirm your e-mail address for Kundo" in result.stdout
    assert "/verify/" in result.stdout

    empty = cli("mail", "outbox", "--to", "nobody-at-all@example.com")
    assert (empty.exit_code, empty.stdout.strip()) == (0, "The outbox is empty.")


def test_db_upgrade_with_workers_shows_progress(empty_database):
    """In a database of its own: the shared one may hold tenants other tests broke on purpose."""
    from kundo.platform.auth.service import create_user
    from kundo.tenants.service import create_workspace

    app = build_app(empty_database)
    try:
        with app.app_context():
            owner = create_user(email="progress@example.com", name="Pro Gress", password=TEST_PASSWORD)
            for _ in range(3):
                create_workspace(slug=unique_slug("progress"), name="Progress KG", owner=owner)
            db.session.commit()
            result = app.test_cli_runner().invoke(args=["db", "upgrade", "--workers", "2"])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "control plane at " in result.stdout
    assert "tenant schemas (3)" in result.stderr
    assert "tenant schemas: 0 upgraded, 3 already at head, 0 failed" in result.stdout


def test_db_upgrade_refuses_zero_workers(app_ctx, cli):
    result = cli("db", "upgrade", "--workers", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--workers'" in result.stderr


# ---- the real executable -----------------------------------------------------------------------


@pytest.fixture
def empty_database(database_admin_url) -> Iterator[str]:
    url = create_database(database_admin_url, prefix="kundo_cli")
    yield url
    drop_database(database_admin_url, url)


def kundo(*args: str, database_url: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "KUNDO_LOG_JSON": "0", "KUNDO_DOMAIN": "kundo.test"}
    return subprocess.run([str(KUNDO), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_a_fresh_database_is_explained_then_migrated(empty_database):
    before = kundo("tenants", "list", database_url=empty_database)
    assert before.returncode == 1
    assert "has no Kundo tables yet" in before.stderr and "Run `kundo db upgrade` first." in before.stderr
    assert "Traceback" not in before.stderr

    upgraded = kundo("db", "upgrade", "--workers", "2", database_url=empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "tenant schemas: 0 upgraded, 0 already at head, 0 failed" in upgraded.stdout

    after = kundo("tenants", "list", database_url=empty_database)
    assert (after.returncode, after.stdout.strip()) == (
        0, "No workspaces yet. `kundo tenants create` or the sign-up page makes one.")


def test_an_unreachable_database_is_one_clear_line():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = kundo("tenants", "list", database_url=f"postgresql://kundo@127.0.0.1:{port}/kundo")
    assert result.returncode == 1
    assert f"Error: Cannot reach PostgreSQL at 127.0.0.1:{port}/kundo" in result.stderr
    assert "Check DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused():
    result = kundo("tenants", "list", database_url="mysql://root@127.0.0.1/kundo")
    assert result.returncode == 2
    assert "DATABASE_URL must be a PostgreSQL URL" in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_status(url: str, within: float = 30) -> int:
    """The server prints the login just before it binds its port, so wait for it briefly."""
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_demo_seeds_the_demo_workspace_and_prints_a_working_login(empty_database):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": empty_database, "KUNDO_LOG_JSON": "0", "PYTHONUNBUFFERED": "1",
           "KUNDO_DOMAIN": f"kundo.test:{port}", "RATELIMIT_ENABLED": "0"}
    server = subprocess.Popen([str(KUNDO), "serve", "--demo", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                break
            lines.append(line)
            if "Demo login:" in line:
                break
        printed = "".join(lines)
        assert "Demo login:" in printed, printed
        email, password = (part.strip() for part in printed.split("Demo login:")[1].splitlines()[0].split(" / "))
        assert f"Demo workspace:   http://demo.kundo.test:{port}" in printed
        assert _get_status(f"http://127.0.0.1:{port}/healthz") == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()

    app = build_app(empty_database)
    try:
        with app.app_context():
            demo = db.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
            assert demo is not None and demo.locale == "de"
            host = HostClient(app.test_client(), "demo.kundo.test")
            response = host.submit("/login", {"email": email, "password": password})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_ensure_demo_workspace_is_idempotent(app_ctx):
    from kundo.platform.demo import DEMO_EMAIL, DEMO_SLUG, ensure_demo_workspace

    first = ensure_demo_workspace()
    second = ensure_demo_workspace()
    assert first == second
    assert db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.slug == DEMO_SLUG)) == 1
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == DEMO_EMAIL)) == 1
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    owners = db.session.scalars(select(Membership.role).where(Membership.tenant_id == tenant.id)).all()
    assert owners == ["owner"]
