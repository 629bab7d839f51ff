"""Enabling, disabling, updating and uninstalling plugins per workspace: pages, API, schemas, audit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kundo.testing.plugins import install_sources, tenant_tables
from kundo.testing.web import HostClient

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(scope="module")
def demo_sources(tmp_path_factory):
    remove = install_sources(tmp_path_factory.mktemp("install-plugins"), {
        "demo_notes": (SAMPLES / "kundo_demo_notes", "kundo_demo_notes:DemoNotes"),
        "demo_addon": (SAMPLES / "kundo_demo_addon", "kundo_demo_addon:DemoAddon"),
    })
    yield
    remove()


@pytest.fixture
def demo_app(demo_sources, app_with_plugins):  # noqa: ARG001
    return app_with_plugins("demo_notes", "demo_addon")


def signed_in(app, workspace, email=None) -> HostClient:
    page = HostClient(app.test_client(), workspace.host)
    response = page.submit("/login", {"email": email or workspace.owner_email, "password": workspace.password})
    assert response.status_code == 302
    return page


def audit_actions(app, workspace) -> list[tuple[str, str]]:
    from kundo.platform.audit.models import AuditEntry
    from kundo.platform.db import db

    with app.app_context():
        return [(e.action, e.target) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.tenant_id == workspace.tenant_id, AuditEntry.action.like("plugin.%"))
            .order_by(AuditEntry.id))]


def test_enable_disable_uninstall_through_the_page(demo_app, make_workspace):
    a, b = make_workspace(), make_workspace()
    page = signed_in(demo_app, a)
    listing = page.get("/settings/apps").get_data(as_text=True)
    assert 'data-app="demo_notes"' in listing and 'data-app="sales"' in listing

    assert page.submit("/settings/apps/demo_notes/enable", {}, page="/settings/apps/demo_notes").status_code == 302
    assert "demo_notes_items" in tenant_tables(demo_app, a)
    assert "demo_notes_items" not in tenant_tables(demo_app, b)
    assert page.get("/apps/demo_notes/").status_code == 200
    with demo_app.app_context():
        from kundo.platform.db import db
        from kundo.plugins.models import TenantPlugin

        row = db.session.get(TenantPlugin, (a.tenant_id, "demo_notes"))
        assert (row.state, row.installed_version, row.enabled_by) == ("enabled", "0.1.0", a.owner_id)
    with demo_app.app_context():
        from kundo.tenants.session import TenantScope, tenant_session

        with tenant_session(TenantScope(a.tenant_id, a.slug, a.schema_name, a.role_name)) as session:
            session.execute(text("INSERT INTO demo_notes_items (text) VALUES ('kept')"))

    # Disable hides it and keeps the data.
    assert page.submit("/settings/apps/demo_notes/disable", {}, page="/settings/apps/demo_notes").status_code == 302
    assert page.get("/apps/demo_notes/").status_code == 404
    assert "demo_notes_items" in tenant_tables(demo_app, a)
    page.submit("/settings/apps/demo_notes/enable", {}, page="/settings/apps/demo_notes")
    assert "1 notes" in page.get("/apps/demo_notes/").get_data(as_text=True)

    # Uninstall needs the typed address, then drops the tables.
    wrong = page.submit("/settings/apps/demo_notes/uninstall", {"confirm": "nope"}, page="/settings/apps/demo_notes")
    assert wrong.status_code == 302 and "demo_notes_items" in tenant_tables(demo_app, a)
    assert "Type the workspace address" in page.get("/settings/apps/demo_notes").get_data(as_text=True)
    page.submit("/settings/apps/demo_notes/uninstall", {"confirm": a.slug}, page="/settings/apps/demo_notes")
    assert not {"demo_notes_items", "alembic_version_demo_notes"} & tenant_tables(demo_app, a)
    assert page.get("/apps/demo_notes/").status_code == 404
    assert audit_actions(demo_app, a) == [("plugin.enabled", "demo_notes"), ("plugin.disabled", "demo_notes"),
                                          ("plugin.enabled", "demo_notes"), ("plugin.uninstalled", "demo_notes")]


def test_requirements_consent_and_entitlement(demo_app, make_workspace):
    a = make_workspace()
    page = signed_in(demo_app, a)
    detail = page.get("/settings/apps/demo_addon").get_data(as_text=True)
    assert "Enable both" in detail and 'value="contacts:read"' in detail

    # Without consent: refused.
    page.submit("/settings/apps/demo_addon/enable", {"with_requirements": "1"}, page="/settings/apps/demo_addon")
    assert "Consent to every permission" in page.get("/settings/apps/demo_addon").get_data(as_text=True)
    assert "demo_notes_items" not in tenant_tables(demo_app, a)

    # Billing refuses the paid add-on until the hook allows it.
    demo_app.extensions["kundo.plugin_entitlement"] = lambda tenant, manifest: "Add Demo Add-on to your plan first."
    try:
        page.submit("/settings/apps/demo_addon/enable", {"with_requirements": "1", "scopes": "contacts:read"},
                    page="/settings/apps/demo_addon")
        assert "Add Demo Add-on to your plan first." in page.get("/settings/apps/demo_addon").get_data(as_text=True)
    finally:
        demo_app.extensions["kundo.plugin_entitlement"] = lambda tenant, manifest: None

    page.submit("/settings/apps/demo_addon/enable", {"with_requirements": "1", "scopes": "contacts:read"},
                page="/settings/apps/demo_addon")
    from kundo.plugins import enabled_plugin_ids

    with demo_app.app_context():
        assert {"demo_addon", "demo_notes"} <= enabled_plugin_ids(a.tenant_id)
    # What another app needs cannot be disabled or uninstalled.
    page.submit("/settings/apps/demo_notes/disable", {}, page="/settings/apps/demo_notes")
    assert "need this app" in page.get("/settings/apps/demo_notes").get_data(as_text=True)
    with demo_app.app_context():
        assert "demo_notes" in enabled_plugin_ids(a.tenant_id)


def test_apps_api(demo_app, make_workspace, add_member, api_token):
    a = make_workspace()
    client = HostClient(demo_app.test_client(), a.host)
    token = api_token(a)
    listed = client.api("GET", "/api/v1/apps", token).get_json()["items"]
    assert {"sales", "marketing", "service", "demo_notes", "demo_addon"} <= {item["id"] for item in listed}

    needs = client.api("POST", "/api/v1/apps/demo_addon/enable", token, json={"consented_scopes": ["contacts:read"]})
    assert needs.status_code == 409 and needs.mimetype == "application/problem+json"
    assert needs.get_json()["missing"] == ["demo_notes"] and needs.get_json()["reason"] == "requirements"
    no_consent = client.api("POST", "/api/v1/apps/demo_addon/enable", token, json={"with_requirements": True})
    assert no_consent.status_code == 422 and no_consent.get_json()["scopes"] == ["contacts:read"]
    bad_scope = client.api("POST", "/api/v1/apps/demo_addon/enable", token, json={"consented_scopes": ["root"]})
    assert bad_scope.status_code == 422
    enabled = client.api("POST", "/api/v1/apps/demo_addon/enable", token,
                         json={"consented_scopes": ["contacts:read"], "with_requirements": True})
    assert enabled.status_code == 200, enabled.get_json()
    assert enabled.get_json()["state"] == "enabled" and enabled.get_json()["consented_scopes"] == ["contacts:read"]
    assert client.api("GET", "/api/v1/apps/demo_notes", token).get_json()["state"] == "enabled"
    assert client.api("GET", "/api/v1/apps/nothing_here", token).status_code == 404

    # Members get 403; a read token cannot change anything.
    member_id, member_email = add_member(a)
    assert client.api("GET", "/api/v1/apps", api_token(a, user_id=member_id)).status_code == 403
    member_enable = client.api("POST", "/api/v1/apps/sales/enable", api_token(a, user_id=member_id), json={})
    assert member_enable.status_code == 403
    assert client.api("POST", "/api/v1/apps/sales/enable", api_token(a, scopes=("read",)), json={}).status_code == 403
    member_page = signed_in(demo_app, a, email=member_email)
    assert member_page.get("/settings/apps").status_code == 403
    assert 'href="/settings/apps"' not in member_page.get("/").get_data(as_text=True)

    assert client.api("POST", "/api/v1/apps/demo_addon/disable", token).get_json()["state"] == "disabled"
    wrong = client.api("POST", "/api/v1/apps/demo_addon/uninstall", token, json={"confirmation": "x"})
    assert wrong.status_code == 422 and wrong.get_json()["reason"] == "confirmation"
    gone = client.api("POST", "/api/v1/apps/demo_notes/uninstall", token, json={"confirmation": a.slug})
    assert gone.status_code == 200 and gone.get_json()["dropped_tables"] == ["demo_notes_items"]
    assert client.api("POST", "/api/v1/apps/demo_notes/update", token, json={}).status_code == 404


def test_update_runs_the_new_migrations(demo_sources, app_with_plugins, make_workspace, enable_app,  # noqa: ARG001
                                        tmp_path, api_token):
    from kundo.testing.plugins import install_sources as install

    source = tmp_path / "v1" / "kundo_demo_versioned"
    shutil.copytree(SAMPLES / "kundo_demo_notes", source)
    plugin = source / "__init__.py"
    plugin.write_text(plugin.read_text().replace("demo_notes", "demo_versioned").replace("DemoNotes", "DemoVersioned"))
    migration = source / "migrations" / "versions" / "demo_notes_0001.py"
    migration.write_text(migration.read_text().replace("demo_notes", "demo_versioned"))
    remove = install(tmp_path / "root1", {"demo_versioned": (source, "kundo_demo_versioned:DemoVersioned")})
    try:
        app = app_with_plugins("demo_versioned")
        a = make_workspace()
        enable_app(app, a, "demo_versioned")
    finally:
        remove()
    assert "demo_versioned_items" in tenant_tables(app, a)

    # Version 0.2.0 adds a migration, as `kundo plugins sync` would install it.
    plugin.write_text(plugin.read_text().replace('"version": "0.1.0"', '"version": "0.2.0"'))
    (source / "migrations" / "versions" / "demo_versioned_0002.py").write_text(
        'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "demo_versioned_0002"\n'
        'down_revision = "demo_versioned_0001"\nbranch_labels = None\ndepends_on = None\n\n\n'
        'def upgrade():\n'
        '    op.create_table("demo_versioned_tags", sa.Column("id", sa.BigInteger(), primary_key=True))\n'
        '\n\ndef downgrade():\n    op.drop_table("demo_versioned_tags")\n')
    remove = install(tmp_path / "root2", {"demo_versioned": (source, "kundo_demo_versioned:DemoVersioned")},
                     version="0.2.0")
    try:
        app2 = app_with_plugins("demo_versioned")
        client = HostClient(app2.test_client(), a.host)
        token = api_token(a)
        before = client.api("GET", "/api/v1/apps/demo_versioned", token).get_json()
        assert before["update_available"] and before["installed_version"] == "0.1.0" and before["version"] == "0.2.0"
        page = signed_in(app2, a)
        assert "Update to version 0.2.0" in page.get("/settings/apps/demo_versioned").get_data(as_text=True)
        updated = client.api("POST", "/api/v1/apps/demo_versioned/update", token, json={})
        assert updated.status_code == 200 and updated.get_json()["installed_version"] == "0.2.0"
        assert "demo_versioned_tags" in tenant_tables(app2, a)
        assert client.api("POST", "/api/v1/apps/demo_versioned/update", token, json={}).status_code == 409
        assert ("plugin.updated", "demo_versioned") in audit_actions(app2, a)
    finally:
        remove()


def test_db_upgrade_migrates_enabled_plugins_per_tenant(demo_app, make_workspace, enable_app):
    a, b = make_workspace(), make_workspace()
    enable_app(demo_app, a, "demo_notes")
    with demo_app.app_context():
        from kundo.platform.db import db

        # As if the tables were never made: `kundo db upgrade` must bring them back, in A only.
        db.session.execute(text(f'DROP TABLE "{a.schema_name}".demo_notes_items, '
                                f'"{a.schema_name}".alembic_version_demo_notes'))
        db.session.commit()
    result = demo_app.test_cli_runner().invoke(args=["db", "upgrade", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "demo_notes_items" in tenant_tables(demo_app, a)
    assert "demo_notes_items" not in tenant_tables(demo_app, b)


def test_hubs_and_apps_page_in_german(demo_app, make_workspace):
    a = make_workspace()
    page = signed_in(demo_app, a)
    html = page.get("/settings/apps", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Installiert" in html and "Verfügbar" in html
    detail = page.get("/settings/apps/demo_addon", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Kontakte sehen" in detail
