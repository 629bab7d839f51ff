"""Loading approved plugins, the 404 gate, and containment of hooks that raise.

The sample plugins (tests/plugins/samples) get real `kundo.plugins` entry points on a
temporary sys.path entry, so stevedore finds them the way it finds installed ones.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kundo.testing.plugins import install_sources, tenant_tables
from kundo.testing.web import HostClient

SAMPLES = Path(__file__).parent / "samples"
DEMOS = {
    "demo_notes": "kundo_demo_notes:DemoNotes",
    "demo_addon": "kundo_demo_addon:DemoAddon",
    "demo_broken": "kundo_demo_broken:DemoBroken",
    "demo_rude": "kundo_demo_rude:DemoRude",
    "demo_raising": "kundo_demo_raising:DemoRaising",
    "demo_hidden": "kundo_demo_hidden:DemoHidden",
}
APPROVED = ("demo_notes", "demo_addon", "demo_broken", "demo_rude", "demo_raising")


@pytest.fixture(scope="module")
def demo_sources(tmp_path_factory):
    remove = install_sources(tmp_path_factory.mktemp("demo-plugins"), {
        plugin_id: (SAMPLES / target.split(":")[0], target) for plugin_id, target in DEMOS.items()})
    yield
    remove()


@pytest.fixture
def demo_app(demo_sources, app_with_plugins):  # noqa: ARG001
    return app_with_plugins(*APPROVED, versions={"demo_broken": "0.1.0"})


class Records(logging.Handler):
    """Collects what the `kundo.plugins` logger says (it does not propagate to pytest's caplog)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def messages(self) -> str:
        return "\n".join(record.getMessage() for record in self.records)


@pytest.fixture
def plugin_log():
    handler = Records()
    logger = logging.getLogger("kundo.plugins")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def signed_in(app, workspace) -> HostClient:
    page = HostClient(app.test_client(), workspace.host)
    response = page.submit("/login", {"email": workspace.owner_email, "password": workspace.password})
    assert response.status_code == 302
    return page


def test_only_approved_plugins_load_and_broken_ones_are_unhealthy(demo_app):
    from kundo.plugins import loaded_plugins

    with demo_app.app_context():
        loaded = loaded_plugins()
    assert {"sales", "marketing", "service", *APPROVED} <= set(loaded)
    assert loaded["demo_notes"].healthy and loaded["demo_addon"].healthy and loaded["demo_raising"].healthy
    assert not loaded["demo_broken"].healthy
    assert loaded["demo_broken"].error.startswith("import failed: ImportError")
    assert not loaded["demo_rude"].healthy and "'other'" in loaded["demo_rude"].error
    assert "demo_hidden" not in loaded
    assert os.environ.get("KUNDO_DEMO_HIDDEN_IMPORTED") is None, "an unapproved plugin was imported"

    # Kundo serves anyway, and operators see which plugin is unhealthy.
    root = HostClient(demo_app.test_client(), "kundo.test")
    ready = root.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["plugins"]["demo_broken"] == "unhealthy"
    assert ready.get_json()["plugins"]["demo_notes"] == "ok"
    listing = demo_app.test_cli_runner().invoke(args=["plugins", "list"])
    assert listing.exit_code == 0, listing.output
    assert "demo_notes" in listing.output and "UNHEALTHY: import failed" in listing.output
    assert "demo_hidden" not in listing.output


def test_safe_mode_loads_first_party_hubs_only(demo_sources, app_with_plugins):  # noqa: ARG001
    from kundo.plugins import loaded_plugins

    app = app_with_plugins(*APPROVED, versions={"demo_broken": "0.1.0"}, plugins_safe_mode=True)
    with app.app_context():
        assert set(loaded_plugins()) == {"sales", "marketing", "service"}
    listing = app.test_cli_runner().invoke(args=["plugins", "list"])
    assert "Safe mode" in listing.output


def test_naming_rules_are_enforced(demo_sources):  # noqa: ARG001
    from flask import Blueprint

    from kundo.plugins.loader import LoadedPlugin, PluginRefused, prepare
    from kundo.plugins.sdk import Plugin, WorkflowAction, load_manifest, plugin_model_base

    manifest = load_manifest({"id": "demo_rules", "name": "Rules", "version": "1.0.0", "publisher": "Demo",
                              "summary": "Breaks one rule at a time."})

    class WrongAction(Plugin):
        def workflow_actions(self):
            return [WorkflowAction("other.do", "Do", None, lambda *a, **k: None)]

    class WrongBlueprint(Plugin):
        def blueprints(self):
            return [Blueprint("demo_rulesx", __name__)]

    WrongAction.manifest = WrongBlueprint.manifest = manifest
    with pytest.raises(PluginRefused, match="must start with 'demo_rules.'"):
        prepare("demo_rules", WrongAction, LoadedPlugin("demo_rules", "marketplace"))
    with pytest.raises(PluginRefused, match="must be named 'demo_rules'"):
        prepare("demo_rules", WrongBlueprint, LoadedPlugin("demo_rules", "marketplace"))
    with pytest.raises(PluginRefused, match="differs from the entry-point name"):
        prepare("demo_other", WrongAction, LoadedPlugin("demo_other", "marketplace"))
    with pytest.raises(ValueError, match="must start with 'demo_rules_'"):
        class _Table(plugin_model_base("demo_rules")):
            __tablename__ = "contacts"


def test_routes_answer_404_where_the_plugin_is_not_enabled(demo_app, make_workspace, enable_app, api_token):
    a, b = make_workspace(), make_workspace()
    enable_app(demo_app, a, "demo_notes")
    assert "demo_notes_items" in tenant_tables(demo_app, a)
    assert "alembic_version_demo_notes" in tenant_tables(demo_app, a)
    assert "demo_notes_items" not in tenant_tables(demo_app, b)

    page_a, page_b = signed_in(demo_app, a), signed_in(demo_app, b)
    assert "0 notes" in page_a.get("/apps/demo_notes/").get_data(as_text=True)
    assert page_b.get("/apps/demo_notes/").status_code == 404
    assert 'href="/apps/demo_notes/"' in page_a.get("/").get_data(as_text=True)
    assert 'href="/apps/demo_notes/"' not in page_b.get("/").get_data(as_text=True)

    api_a, api_b = HostClient(demo_app.test_client(), a.host), HostClient(demo_app.test_client(), b.host)
    assert api_a.api("GET", "/api/v1/apps/demo_notes/items", api_token(a)).get_json() == {"count": 0}
    refused = api_b.api("GET", "/api/v1/apps/demo_notes/items", api_token(b))
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    # On the root host the token names the workspace.
    root = HostClient(demo_app.test_client(), "kundo.test")
    assert root.api("GET", "/api/v1/apps/demo_notes/items", api_token(a)).status_code == 200
    assert root.api("GET", "/api/v1/apps/demo_notes/items", api_token(b)).status_code == 404
    assert root.get("/api/v1/apps/demo_notes/items").status_code == 401
    # The plugin's API is part of the OpenAPI.
    assert "/api/v1/apps/demo_notes/items" in root.get("/api/v1/openapi.json").get_json()["paths"]
    # An unhealthy plugin's routes are never served.
    assert page_a.get("/apps/demo_rude/").status_code == 404


def test_raising_hooks_are_contained_and_logged(demo_app, make_workspace, enable_app, plugin_log):
    a = make_workspace()
    enable_app(demo_app, a, "demo_notes")
    enable_app(demo_app, a, "demo_raising")
    page = signed_in(demo_app, a)
    dashboard = page.get("/")
    html = dashboard.get_data(as_text=True)
    assert dashboard.status_code == 200
    assert "data-widget=demo_notes" in html, "the other plugin's widget still renders"
    assert 'href="/apps/demo_notes/"' in html, "the other plugin's nav entry is still there"
    assert page.get("/apps/demo_raising/").status_code == 200
    text = plugin_log.messages()
    assert f"plugin demo_raising: nav_items raised for tenant {a.slug}" in text
    assert f"plugin demo_raising: widget broken raised for tenant {a.slug}" in text
    nav_record = next(r for r in plugin_log.records if "nav_items raised" in r.getMessage())
    assert nav_record.plugin_id == "demo_raising" and nav_record.exc_info is not None


def test_event_handlers_are_consumers_of_enabling_tenants_only(demo_app, make_workspace, enable_app, plugin_log):
    from kundo.platform.events.consumers import DeliveredEvent, consumers_of
    from kundo.tenants.session import TenantScope, tenant_session

    a, b = make_workspace(), make_workspace()
    enable_app(demo_app, a, "demo_notes")
    enable_app(demo_app, a, "demo_raising")
    consumers = consumers_of(demo_app)
    notes, raising = consumers["plugin.demo_notes.on_contact_created"], consumers["plugin.demo_raising.explode"]
    assert notes.plugin_id == "demo_notes" and notes.event_types == frozenset({"contact.created"})
    with demo_app.app_context():
        assert notes.wants("contact.created", a.tenant_id) and not notes.wants("contact.created", b.tenant_id)
        assert not notes.wants("deal.created", a.tenant_id)

    def event(workspace, event_id):
        return DeliveredEvent(id=event_id, type="contact.created", tenant_id=workspace.tenant_id,
                              object_type="contact", object_id=7, payload={}, actor_id=None,
                              occurred_at=datetime.now(UTC))

    scope = TenantScope(a.tenant_id, a.slug, a.schema_name, a.role_name)
    with demo_app.app_context():
        with pytest.raises(RuntimeError, match="exploded"), tenant_session(scope) as session:
            raising.handle(session, event(a, 1))
        with tenant_session(scope) as session:
            notes.handle(session, event(a, 2))
        with tenant_session(scope) as session:
            from sqlalchemy import text

            assert session.execute(text("SELECT text FROM demo_notes_items")).scalars().all() == ["contact 7"]
    record = next(r for r in plugin_log.records if "event handler explode failed" in r.getMessage())
    assert record.plugin_id == "demo_raising" and record.tenant == a.slug and record.tenant_id == a.tenant_id


def test_a_raising_event_handler_does_not_stop_the_others_through_real_delivery(demo_app, make_workspace, enable_app):
    """The whole path: outbox → relay → broker → dispatch; the raising plugin ends as a dead letter."""
    from sqlalchemy import text

    from kundo.crm import create_contact
    from kundo.platform.jobs.deadletters import dead_letters_of
    from kundo.tenants.session import TenantScope, tenant_session
    from kundo.testing.jobs import run_jobs, stop_job_runner

    a = make_workspace()
    enable_app(demo_app, a, "demo_notes")
    enable_app(demo_app, a, "demo_raising")
    scope = TenantScope(a.tenant_id, a.slug, a.schema_name, a.role_name)
    try:
        with demo_app.app_context(), tenant_session(scope) as session:
            contact = create_contact(session, first_name="Pia", emails=["pia@example.org"])
        run_jobs(demo_app)
    finally:
        stop_job_runner(demo_app)
    with demo_app.app_context():
        with tenant_session(scope) as session:
            items = session.execute(text("SELECT text FROM demo_notes_items")).scalars().all()
        letters = dead_letters_of(a.tenant_id)
    assert items == [f"contact {contact.id}"]
    assert len(letters) == 1 and "plugin.demo_raising.explode" in letters[0].error


def test_a_plugin_workflow_action_runs_for_a_tenant_that_enabled_the_plugin(demo_app, make_workspace, enable_app):
    """A workflow uses demo_notes' SDK action; a workspace without the plugin cannot even save it."""
    from sqlalchemy import text

    from kundo.crm import create_contact
    from kundo.platform.workflows import service
    from kundo.tenants.session import TenantScope, tenant_session
    from kundo.testing.jobs import run_jobs, stop_job_runner

    a, b = make_workspace(), make_workspace()
    enable_app(demo_app, a, "demo_notes")
    definition = {"trigger": {"event": "contact.created", "conditions": None}, "enrollment": {"mode": "once"},
                  "goal": None, "steps": [{"kind": "action", "action": "demo_notes.add",
                                           "params": {"text": "added by a workflow"}}]}
    scope_a = TenantScope(a.tenant_id, a.slug, a.schema_name, a.role_name)
    scope_b = TenantScope(b.tenant_id, b.slug, b.schema_name, b.role_name)
    try:
        with demo_app.app_context():
            with tenant_session(scope_a) as session:
                service.create_workflow(session, name="Plugin step", definition=definition, status="active")
                pam = create_contact(session, first_name="Pam", emails=["pam@example.org"])
            with pytest.raises(Exception, match=r"steps\.0\.action: Use one of"), tenant_session(scope_b) as session:
                service.create_workflow(session, name="Plugin step", definition=definition, status="active")
        run_jobs(demo_app)
    finally:
        stop_job_runner(demo_app)
    with demo_app.app_context(), tenant_session(scope_a) as session:
        items = session.execute(text("SELECT text FROM demo_notes_items ORDER BY id")).scalars().all()
    # The plugin's own event handler notes the contact too; the workflow's step added the other item.
    assert sorted(items) == sorted(["added by a workflow", f"contact {pam.id}"])


def test_workflow_contributions_of_healthy_plugins(demo_app):
    from kundo.plugins import plugin_workflow_contributions

    triggers, actions = plugin_workflow_contributions(demo_app)
    assert ("demo_notes", "demo_notes.add") in [(pid, action.key) for pid, action in actions]
    assert ("demo_notes", "contact.created") in [(pid, trigger.event_type) for pid, trigger in triggers]
