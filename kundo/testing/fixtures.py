"""pytest fixtures: a real PostgreSQL database, the app, clients and workspaces."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import pytest

from kundo.testing.database import create_database, drop_database, server_admin_url
from kundo.testing.web import HostClient

TEST_DOMAIN = "kundo.test"
TEST_PASSWORD = "correct horse battery staple"  # noqa: S105


@pytest.fixture(scope="session")
def database_admin_url() -> str:
    return server_admin_url()


@pytest.fixture(scope="session")
def database_url(database_admin_url):
    url = create_database(database_admin_url)
    yield url
    drop_database(database_admin_url, url)


def make_settings(database_url: str, **overrides):
    from kundo.platform.config import Settings

    # "fast" argon2: a suite hashes thousands of passwords; at the standard cost that is minutes.
    # Jobs retry quickly and a killed worker's claims lapse in seconds, so failure paths test fast.
    # Each app gets queues of its own: a test app's idle worker threads must never take the jobs
    # another app sent (its consumers, timer handlers and clock differ).
    values = {"domain": TEST_DOMAIN, "testing": True, "ratelimit_enabled": False, "log_json": False,
              "argon2_profile": "fast", "job_max_retries": 2, "job_min_backoff_ms": 50, "job_max_backoff_ms": 200,
              "worker_heartbeat_ttl": 3.0, "queue_prefix": f"kundo-test-{uuid.uuid4().hex[:8]}"}
    values.update(overrides)
    return Settings.from_env({}, database_url=database_url, **values)


def build_app(database_url: str, **overrides):
    from kundo.platform.app import create_app
    from kundo.platform.db import db
    from kundo.tenants.migrations import upgrade_control_plane

    app = create_app(make_settings(database_url, **overrides))
    with app.app_context():
        upgrade_control_plane(db.engine)
    return app


@pytest.fixture(scope="session")
def app(database_url):
    app = build_app(database_url)
    yield app
    from kundo.platform.db import db
    from kundo.testing.jobs import stop_job_runner

    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def run_jobs(app):
    """Deliver pending events and due timers through the real broker: `run_jobs()` returns when idle.

    The worker threads stop when the test ends: left running, they would consume what later
    tests send (a job a test expects to stay queued, a crash test's message meant for its
    own worker process).
    """
    from kundo.testing.jobs import run_jobs as run
    from kundo.testing.jobs import stop_job_runner

    yield lambda timeout=30.0: run(app, timeout)
    stop_job_runner(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def root(client) -> HostClient:
    return HostClient(client, TEST_DOMAIN)


_counter = itertools.count()


def unique_slug(prefix: str = "ws") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}{next(_counter)}"


@dataclass
class Workspace:
    """A provisioned workspace with its owner, for tests."""

    tenant_id: int
    slug: str
    schema_name: str
    role_name: str
    owner_id: int
    owner_email: str
    password: str = TEST_PASSWORD

    @property
    def host(self) -> str:
        return f"{self.slug}.{TEST_DOMAIN}"


@pytest.fixture
def make_user(app):
    """Create a verified user: make_user(email=None, name="Test User") -> (id, email)."""
    from kundo.platform.auth.service import create_user
    from kundo.platform.db import db, utcnow

    def _make(email: str | None = None, name: str = "Test User", password: str = TEST_PASSWORD):
        with app.app_context():
            user = create_user(email=email or f"{uuid.uuid4().hex[:10]}@example.com", name=name, password=password)
            user.email_verified_at = utcnow()
            db.session.commit()
            return user.id, user.email

    return _make


@pytest.fixture
def make_workspace(app, make_user):
    """Provision a workspace through the real service; returns a `Workspace`."""
    from kundo.platform.auth.models import User
    from kundo.platform.db import db
    from kundo.tenants.service import create_workspace

    def _make(slug: str | None = None, name: str = "Test GmbH", owner_email: str | None = None) -> Workspace:
        user_id, email = make_user(email=owner_email, name="Olivia Owner")
        with app.app_context():
            owner = db.session.get(User, user_id)
            tenant = create_workspace(slug=slug or unique_slug(), name=name, owner=owner)
            db.session.commit()
            return Workspace(tenant.id, tenant.slug, tenant.schema_name, tenant.role_name, user_id, email)

    return _make


@pytest.fixture
def add_member(app, make_user):
    """add_member(workspace, role="member") -> (user_id, email) of a new member."""
    from kundo.platform.db import db
    from kundo.tenants.models import Membership, Role

    def _add(workspace: Workspace, role: str = "member", email: str | None = None):
        user_id, email = make_user(email=email, name=f"{role.title()} Person")
        with app.app_context():
            db.session.add(Membership(tenant_id=workspace.tenant_id, user_id=user_id, role=Role(role)))
            db.session.commit()
        return user_id, email

    return _add


@pytest.fixture
def sign_in(client):
    """sign_in(workspace, email) -> a HostClient logged in on the workspace host."""

    def _sign_in(workspace: Workspace, email: str | None = None, password: str = TEST_PASSWORD) -> HostClient:
        host = HostClient(client, workspace.host)
        response = host.submit("/login", {"email": email or workspace.owner_email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return host

    return _sign_in


@pytest.fixture
def api_token(app):
    """api_token(workspace, user_id=None, scopes=("read","write","admin")) -> plain token."""
    from kundo.platform.auth.models import User
    from kundo.platform.auth.service import create_api_token
    from kundo.platform.db import db

    def _token(workspace: Workspace, user_id: int | None = None, scopes=("read", "write", "admin")) -> str:
        with app.app_context():
            user = db.session.get(User, user_id or workspace.owner_id)
            _token_row, plain = create_api_token(tenant_id=workspace.tenant_id, user=user, name="test",
                                                 scopes=list(scopes))
            db.session.commit()
            return plain

    return _token


# Plugin fixtures (app_with_plugins, enable_app) live beside these; importing registers them.
from kundo.testing.plugins import app_with_plugins, enable_app  # noqa: E402, F401
