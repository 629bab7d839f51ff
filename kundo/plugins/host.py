"""The plugin host: loads approved plugins into the app and scopes them to the tenants that enabled them.

Everything a plugin contributes goes through here: its blueprints are mounted under
/apps/<id>/ and /api/v1/apps/<id>/ behind a gate that answers 404 for tenants that have
not enabled it; its navigation entries and dashboard widgets are asked for per request,
only for enabled plugins, and what they raise is logged and left out; its event handlers
become consumers that apply only to enabling tenants and log failures with the plugin
and tenant before the delivery system retries them.

State lives on the app (`app.extensions["kundo.plugins"]`), never in module globals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app, g, has_request_context, request
from markupsafe import Markup
from sqlalchemy import select

from kundo.plugins.loader import (
    FIRST_PARTY,
    LoadedPlugin,
    PluginRefused,
    check_api_routes,
    describe,
    discover,
    handler_name,
    prepare,
    read_approved,
)
from kundo.plugins.sdk import EventHandler, WorkflowAction, WorkflowTrigger

if TYPE_CHECKING:
    from kundo.platform.web import NavItem
    from kundo.tenants.migrations import MigrationTree

log = logging.getLogger("kundo.plugins")

EXTENSION_KEY = "kundo.plugins"
ENTITLEMENT_KEY = "kundo.plugin_entitlement"
#: How long a process trusts its copy of a tenant's enabled plugins. Enabling or
#: disabling in this process takes effect at once; other processes follow within this.
ENABLED_TTL_SECONDS = 5.0


class PluginHost:
    """What this app loaded, which blueprint belongs to whom, and the enabled-plugins cache."""

    def __init__(self, safe_mode: bool) -> None:
        self.safe_mode = safe_mode
        self.loaded: dict[str, LoadedPlugin] = {}
        self.blueprint_owner: dict[str, str] = {}
        self._enabled: dict[int, tuple[float, frozenset[str]]] = {}

    def healthy(self) -> dict[str, LoadedPlugin]:
        return {pid: lp for pid, lp in self.loaded.items() if lp.healthy}

    def forget(self, tenant_id: int) -> None:
        self._enabled.pop(tenant_id, None)
        if has_request_context():
            g.pop("kundo_enabled_plugins", None)


def _allow_everything(tenant, manifest) -> str | None:  # noqa: ARG001 - the billing hook's signature
    """Until billing fills in the entitlement hook, every plugin is free to enable."""
    return None


# ---- wiring ---------------------------------------------------------------------------------


def init_app(app: Flask) -> PluginHost:
    """Load the approved plugins and mount what they contribute (see the module docstring)."""
    from kundo.plugins import views

    settings = app.config["KUNDO"]
    host = PluginHost(safe_mode=settings.plugins_safe_mode)
    app.extensions[EXTENSION_KEY] = host
    app.extensions.setdefault(ENTITLEMENT_KEY, _allow_everything)
    views.init_app(app)

    approved = {} if host.safe_mode else read_approved(app)
    if host.safe_mode:
        log.warning("KUNDO_SAFE_MODE is on: loading the first-party hubs only")
    sources = {name: "first_party" for name in FIRST_PARTY}
    for name, (_version, source) in approved.items():
        sources.setdefault(name, source)
    found, failures = discover(sources)
    for name in sorted(sources):
        loaded = LoadedPlugin(name, sources[name], approved_version=approved.get(name, (None,))[0])
        host.loaded[name] = loaded
        if name in failures:
            loaded.error = failures[name]
            continue
        try:
            prepare(name, found[name], loaded)
            _mount(app, host, loaded)
            loaded.healthy = True
        except Exception as error:  # noqa: BLE001 - a broken plugin is skipped, Kundo starts anyway
            loaded.error = describe(error)
            log_fn = log.error if not isinstance(error, PluginRefused) else log.warning
            log_fn("plugin %s refused: %s", name, loaded.error, exc_info=not isinstance(error, PluginRefused))
    for name, loaded in host.loaded.items():
        if not loaded.healthy and loaded.error and not loaded.error.startswith("not installed"):
            log.error("plugin %s is unhealthy and was skipped: %s", name, loaded.error)
    app.before_request(_gate)
    app.extensions.setdefault("kundo_nav_providers", []).append(_navigation)
    app.extensions.setdefault("kundo_dashboard_providers", []).append(_dashboard_widgets)
    return host


def _mount(app: Flask, host: PluginHost, loaded: LoadedPlugin) -> None:
    from kundo.platform.api import register_api_blueprint
    from kundo.platform.events.consumers import Consumer, register_consumer

    plugin = loaded.plugin
    for blueprint in plugin.blueprints():
        app.register_blueprint(blueprint, url_prefix=f"/apps/{loaded.id}{blueprint.url_prefix or ''}")
        host.blueprint_owner[blueprint.name] = loaded.id
    api = app.extensions["kundo.api"]
    for blueprint in plugin.api_blueprints():
        register_api_blueprint(api, blueprint, url_prefix=f"/api/v1/apps/{loaded.id}{blueprint.url_prefix or ''}")
        host.blueprint_owner[blueprint.name] = loaded.id
    check_api_routes(app, loaded)
    for handler in loaded.event_handlers:
        register_consumer(app, Consumer(
            name=f"plugin.{loaded.id}.{handler_name(handler)}",
            handle=_contained_handler(loaded.id, handler),
            event_types=None if handler.event_type == "*" else frozenset({handler.event_type}),
            applies_to=_applies_to(app, loaded.id),
            plugin_id=loaded.id,
        ))
    plugin.init_app(app)


def _contained_handler(plugin_id: str, handler: EventHandler):
    """Log a failing handler with its plugin and tenant, then re-raise so only it is retried."""

    def handle(session, event) -> None:
        try:
            handler.handler(session, event)
        except Exception:
            scope = getattr(session, "info", {}).get("tenant_scope")
            tenant = scope.slug if scope is not None else event.tenant_id
            log.exception("plugin %s: event handler %s failed on %s #%s for tenant %s", plugin_id,
                          handler_name(handler), event.type, event.id, tenant,
                          extra={"plugin_id": plugin_id, "tenant": tenant, "tenant_id": event.tenant_id,
                                 "event_id": event.id})
            raise

    handle.__name__ = f"{plugin_id}_{handler_name(handler)}"
    return handle


def _applies_to(app: Flask, plugin_id: str):
    def applies(tenant_id: int) -> bool:
        return plugin_id in enabled_plugin_ids(tenant_id, app=app)

    return applies


# ---- per request ------------------------------------------------------------------------------


def _gate():
    """404 for a plugin's routes unless this tenant enabled it and the plugin is healthy."""
    blueprint = request.blueprint
    if not blueprint:
        return None
    host: PluginHost = current_app.extensions[EXTENSION_KEY]
    plugin_id = host.blueprint_owner.get(blueprint.split(".")[0])
    if plugin_id is None:
        return None
    loaded = host.loaded.get(plugin_id)
    tenant = g.get("tenant")
    if tenant is None and request.path.startswith("/api/"):
        # On the root host an API call names its workspace through its token.
        from kundo.platform.api import _authenticate_bearer

        _authenticate_bearer()
        tenant = g.get("tenant")
    if loaded is None or not loaded.healthy or tenant is None or plugin_id not in enabled_plugin_ids(tenant.id):
        from flask_babel import gettext as _

        abort(404, description=_("This page belongs to an app that is not enabled in this workspace. "
                                 "An admin can enable it under Settings → Hubs & apps."))
    return None


def _enabled_healthy(tenant) -> list[LoadedPlugin]:
    host: PluginHost = current_app.extensions[EXTENSION_KEY]
    enabled = enabled_plugin_ids(tenant.id)
    return [lp for pid, lp in sorted(host.loaded.items()) if pid in enabled and lp.healthy]


def _navigation(tenant) -> list[NavItem]:
    """The sidebar entries of the tenant's enabled plugins; a raising hook is logged and left out."""
    if tenant is None:
        return []
    items = []
    for loaded in _enabled_healthy(tenant):
        try:
            offered = list(loaded.plugin.nav_items())
        except Exception:
            log.exception("plugin %s: nav_items raised for tenant %s", loaded.id, tenant.slug,
                          extra={"plugin_id": loaded.id, "tenant": tenant.slug})
            continue
        for item in offered:
            owner = item.endpoint.split(".")[0]
            if owner not in loaded.blueprint_names or item.endpoint not in current_app.view_functions:
                log.warning("plugin %s: nav item %r points at %r, which is not one of its pages", loaded.id,
                            item.key, item.endpoint, extra={"plugin_id": loaded.id, "tenant": tenant.slug})
                continue
            items.append(item)
    return items


def _dashboard_widgets(tenant, session) -> list[dict]:
    """Rendered widget cards; each renders in a savepoint so a failing one cannot spoil the page."""
    if tenant is None:
        return []
    cards = []
    for loaded in _enabled_healthy(tenant):
        try:
            widgets = list(loaded.plugin.dashboard_widgets())
        except Exception:
            log.exception("plugin %s: dashboard_widgets raised for tenant %s", loaded.id, tenant.slug,
                          extra={"plugin_id": loaded.id, "tenant": tenant.slug})
            continue
        for widget in widgets:
            try:
                with session.begin_nested():
                    html = widget.render(session, tenant)
            except Exception:
                log.exception("plugin %s: widget %s raised for tenant %s", loaded.id, widget.key, tenant.slug,
                              extra={"plugin_id": loaded.id, "tenant": tenant.slug})
                continue
            cards.append({"key": f"{loaded.id}.{widget.key}", "title": widget.title, "order": widget.order,
                          "plugin_id": loaded.id, "html": Markup(html)})  # noqa: S704 - the SDK says: escaped by the plugin
    return sorted(cards, key=lambda card: (card["order"], card["key"]))


# ---- public functions (re-exported by kundo.plugins) ----------------------------------------------


def plugin_host(app: Flask | None = None) -> PluginHost:
    return (app or current_app).extensions[EXTENSION_KEY]


def loaded_plugins(app: Flask | None = None) -> dict[str, LoadedPlugin]:
    """Every approved plugin this process tried to load, healthy or not, by id."""
    return dict(plugin_host(app).loaded)


def enabled_plugin_ids(tenant_id: int, *, app: Flask | None = None) -> set[str]:
    """The plugin ids a tenant has enabled (whether loaded or not).

    Read once per request and kept for ENABLED_TTL_SECONDS per process; enable, disable and
    uninstall in this process clear the tenant's entry, so they take effect at once.
    """
    from kundo.platform.db import db
    from kundo.plugins.models import TenantPlugin

    host = plugin_host(app)
    per_request = g.setdefault("kundo_enabled_plugins", {}) if has_request_context() else {}
    if tenant_id in per_request:
        return set(per_request[tenant_id])
    now = time.monotonic()
    cached = host._enabled.get(tenant_id)
    if cached is None or cached[0] < now:
        ids = frozenset(db.session.scalars(select(TenantPlugin.plugin_id).where(
            TenantPlugin.tenant_id == tenant_id, TenantPlugin.state == "enabled")))
        cached = (now + ENABLED_TTL_SECONDS, ids)
        host._enabled[tenant_id] = cached
    per_request[tenant_id] = cached[1]
    return set(cached[1])


def plugin_workflow_contributions(
    app: Flask | None = None,
) -> tuple[list[tuple[str, WorkflowTrigger]], list[tuple[str, WorkflowAction]]]:
    """Triggers and actions of every healthy plugin (the workflow engine scopes them per tenant)."""
    host = plugin_host(app)
    triggers = [(pid, t) for pid, lp in sorted(host.healthy().items()) for t in lp.workflow_triggers]
    actions = [(pid, a) for pid, lp in sorted(host.healthy().items()) for a in lp.workflow_actions]
    return triggers, actions


def enabled_plugin_trees(app: Flask, tenant_ids: Iterable[int]) -> dict[int, tuple[MigrationTree, ...]]:
    """{tenant id: migration trees of its enabled, healthy plugins} for `kundo db upgrade`."""
    from kundo.platform.db import db
    from kundo.plugins.models import TenantPlugin

    host = plugin_host(app)
    wanted = set(tenant_ids)
    trees: dict[int, list] = {}
    rows = db.session.execute(select(TenantPlugin.tenant_id, TenantPlugin.plugin_id)
                              .where(TenantPlugin.state == "enabled")
                              .order_by(TenantPlugin.tenant_id, TenantPlugin.plugin_id))
    for tenant_id, plugin_id in rows:
        loaded = host.loaded.get(plugin_id)
        tree = loaded.migration_tree() if loaded is not None and loaded.healthy else None
        if tenant_id in wanted and tree is not None:
            trees.setdefault(tenant_id, []).append(tree)
    return {tenant_id: tuple(found) for tenant_id, found in trees.items()}


def health_summary(app: Flask | None = None) -> dict[str, str]:
    """{plugin id: "ok" | the reason it is unhealthy} for /readyz and operators."""
    loaded = sorted(plugin_host(app).loaded.items())
    return {pid: "ok" if lp.healthy else (lp.error or "unhealthy") for pid, lp in loaded}
