"""A third-party plugin the whole way: publish → review → approve → sync → enable per tenant
→ update to v2 (with a migration) → uninstall.

The sample plugin (tests/plugins/sample_app) is built into wheels with pip, uploaded
through the publisher's page, approved on the operator's page and pip-installed by
`kundo plugins sync` into this very environment; `installed_sample` removes it again at
the end of the session, also when the test fails. A "restart" is a new app from
`build_app` after the plugin's modules were dropped from `sys.modules`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, text

from kundo.platform.db import db
from kundo.plugins.marketplace.models import PluginVersion
from kundo.testing.fixtures import TEST_DOMAIN, TEST_PASSWORD, build_app
from kundo.testing.web import HostClient

from .conftest import SAMPLE_DISTRIBUTION, upload

PLUGIN = "sample_notes"


def _forget_sample_modules() -> None:
    """What a restart does for us: the next import reads the newly installed files."""
    from stevedore import ExtensionManager, _cache

    from kundo.tenants.migrations import _script_directory

    for name in [n for n in sys.modules if n == "kundo_sample_notes" or n.startswith("kundo_sample_notes.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    # stevedore keeps the entry points it read for the life of the process, per namespace and per sys.path.
    ExtensionManager.ENTRY_POINT_CACHE.pop("kundo.plugins", None)
    _cache._c._internal.clear()
    # Alembic script folders are cached by path too; the new version's folder has a new migration.
    _script_directory.cache_clear()


@pytest.fixture(scope="session")
def installed_sample(app):
    """Uninstall the sample distribution and its approval after the session, whatever happened."""
    yield
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "--disable-pip-version-check",
                    SAMPLE_DISTRIBUTION], check=False, capture_output=True)
    _forget_sample_modules()
    from kundo.plugins.models import ApprovedPlugin

    with app.app_context():
        db.session.execute(delete(ApprovedPlugin).where(ApprovedPlugin.plugin_id == PLUGIN))
        db.session.commit()


def _version_id(app, version: str) -> int:
    with app.app_context():
        return db.session.scalar(select(PluginVersion.id).where(PluginVersion.plugin_id == PLUGIN,
                                                                PluginVersion.version == version))


def _publish_and_approve(app, publisher, operator, wheel, version: str, changelog: str) -> None:
    response = upload(publisher, wheel, changelog=changelog)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    version_id = _version_id(app, version)
    review = operator.get(f"/marketplace/review/{version_id}").get_data(as_text=True)
    assert "kundo_sample_notes/kundo_plugin.json" in review  # the file list
    assert "contacts:read" in review and "See contacts" in review  # the permissions
    response = operator.submit(f"/marketplace/review/{version_id}", {"decision": "approve"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]


def _sync(app) -> str:
    result = app.test_cli_runner().invoke(args=["plugins", "sync"])
    assert result.exit_code == 0, result.output
    return result.output


def _restart(database_url, marketplace_dir):
    _forget_sample_modules()
    return build_app(database_url, marketplace_dir=str(marketplace_dir))


def _tables(app, schema: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}))


def _columns(app, schema: str, table: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(text("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_schema = :s AND table_name = :t"), {"s": schema, "t": table}))


def _signed_in(app, workspace) -> HostClient:
    host = HostClient(app.test_client(), workspace.host)
    assert host.submit("/login", {"email": workspace.owner_email, "password": TEST_PASSWORD}).status_code == 302
    return host


def test_sample_plugin_goes_the_whole_way(app, database_url, marketplace_dir, publisher, operator, sample_wheels,
                                          make_workspace, add_member, api_token, installed_sample):
    anonymous = HostClient(app.test_client(), TEST_DOMAIN)

    # Publish and review: not listed before approval, listed after.
    _publish_and_approve(app, publisher, operator, sample_wheels["1.0.0"], "1.0.0", "First release.")
    assert publisher.get("/marketplace/review").status_code == 403  # publishers do not review
    listing = anonymous.get(f"/marketplace/apps/{PLUGIN}").get_data(as_text=True)
    assert "Sample Notes" in listing and "Sample Publisher" in listing and "First release." in listing
    assert "0 workspaces" in listing
    assert "Sample Notes" in anonymous.get("/marketplace/?q=notes+team").get_data(as_text=True)
    assert "Sample Notes" not in anonymous.get("/marketplace/?category=finance").get_data(as_text=True)

    # Sync installs the stored wheel and approves it for loading; a second sync has nothing to do.
    assert f"{PLUGIN} 1.0.0: installed" in _sync(app)
    assert importlib.metadata.version(SAMPLE_DISTRIBUTION) == "1.0.0"
    with app.app_context():
        row = db.session.execute(text("SELECT version, source FROM control.approved_plugins WHERE plugin_id = :p"),
                                 {"p": PLUGIN}).one()
    assert tuple(row) == ("1.0.0", "marketplace")
    assert f"{PLUGIN} 1.0.0: up to date" in _sync(app)

    # After a restart, workspace A enables it; only an admin may.
    from kundo.plugins import loaded_plugins

    v1_app = _restart(database_url, marketplace_dir)
    loaded = loaded_plugins(v1_app)[PLUGIN]
    assert loaded.healthy, loaded.error
    a, b = make_workspace(), make_workspace()
    api_a = HostClient(v1_app.test_client(), a.host)
    member_id, _email = add_member(a, "member")
    refused = api_a.api("POST", f"/api/v1/apps/{PLUGIN}/enable", api_token(a, user_id=member_id),
                        json={"consented_scopes": ["contacts:read"]})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    admin_token = api_token(a)
    enabled = api_a.api("POST", f"/api/v1/apps/{PLUGIN}/enable", admin_token,
                        json={"consented_scopes": ["contacts:read"]})
    assert enabled.status_code == 200, enabled.get_json()
    assert enabled.get_json()["state"] == "enabled" and enabled.get_json()["installed_version"] == "1.0.0"

    # A's schema has the table, B's does not; B gets 404 on the plugin's page and API.
    assert "sample_notes_items" in _tables(app, a.schema_name)
    assert "sample_notes_items" not in _tables(app, b.schema_name)
    assert "Sample Notes 1.0.0" in _signed_in(v1_app, a).get(f"/apps/{PLUGIN}/").get_data(as_text=True)
    assert _signed_in(v1_app, b).get(f"/apps/{PLUGIN}/").status_code == 404
    assert api_a.api("GET", f"/api/v1/apps/{PLUGIN}/notes", admin_token).get_json() == {"version": "1.0.0",
                                                                                        "notes": []}
    api_b = HostClient(v1_app.test_client(), b.host)
    assert api_b.api("GET", f"/api/v1/apps/{PLUGIN}/notes", api_token(b)).status_code == 404
    assert "1 workspace" in anonymous.get(f"/marketplace/apps/{PLUGIN}").get_data(as_text=True)

    # Version 2 (with a migration): published, approved, synced; after a restart A sees an update.
    _publish_and_approve(app, publisher, operator, sample_wheels["2.0.0"], "2.0.0", "Notes can be pinned.")
    assert f"{PLUGIN} 2.0.0: installed" in _sync(app)
    assert importlib.metadata.version(SAMPLE_DISTRIBUTION) == "2.0.0"
    v2_app = _restart(database_url, marketplace_dir)
    api_a = HostClient(v2_app.test_client(), a.host)
    state = api_a.api("GET", f"/api/v1/apps/{PLUGIN}", admin_token).get_json()
    assert state["update_available"] is True and state["installed_version"] == "1.0.0"
    assert "pinned" not in _columns(app, a.schema_name, "sample_notes_items")
    updated = api_a.api("POST", f"/api/v1/apps/{PLUGIN}/update", admin_token, json={})
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["installed_version"] == "2.0.0"
    assert "pinned" in _columns(app, a.schema_name, "sample_notes_items")
    listing = anonymous.get(f"/marketplace/apps/{PLUGIN}").get_data(as_text=True)
    assert "Notes can be pinned." in listing and "First release." in listing

    # Uninstall purges A's tables (and the plugin's version table).
    removed = api_a.api("POST", f"/api/v1/apps/{PLUGIN}/uninstall", admin_token, json={"confirmation": a.slug})
    assert removed.status_code == 200, removed.get_json()
    assert not {t for t in _tables(app, a.schema_name) if t.startswith("sample_notes") or t.endswith(PLUGIN)}
    assert _signed_in(v2_app, a).get(f"/apps/{PLUGIN}/").status_code == 404
