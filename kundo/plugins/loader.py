"""Find, import and check the approved plugins — once, when the app is built.

Only names on the allow-list are imported: the first-party hubs, plus the rows of
`control.approved_plugins` (unless KUNDO_SAFE_MODE is set). stevedore's
`NamedExtensionManager` never imports an entry point whose name is not on the list, so a
distribution that happens to be installed in the environment stays inert until approved.

A plugin that fails to import, breaks a naming rule or raises while initialising is
recorded as unhealthy with the reason (operators see it in `kundo plugins list` and
`/readyz`), and Kundo starts without it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version
from pathlib import Path

from flask import Blueprint, Flask
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kundo.plugins.sdk import (
    PLUGIN_ID,
    EventHandler,
    Manifest,
    Plugin,
    WorkflowAction,
    WorkflowTrigger,
    table_prefix,
)
from kundo.tenants.migrations import MigrationTree

log = logging.getLogger("kundo.plugins")

NAMESPACE = "kundo.plugins"
#: The hubs Kundo ships; always approved, and the only plugins loaded in safe mode.
FIRST_PARTY = ("sales", "marketing", "service")
#: Path segments under /api/v1/apps/<id>/ that the host's own API uses.
RESERVED_API_PATHS = ("enable", "disable", "uninstall", "update")


class PluginRefused(Exception):
    """A plugin broke a rule of the SDK; the message says which and is shown to operators."""


@dataclass
class LoadedPlugin:
    """One approved plugin as this process knows it: healthy and contributing, or not and why."""

    id: str
    source: str  # "first_party" | "marketplace"
    plugin: Plugin | None = None
    manifest: Manifest | None = None
    healthy: bool = False
    error: str | None = None
    approved_version: str | None = None
    blueprint_names: tuple[str, ...] = ()
    api_blueprint_names: tuple[str, ...] = ()
    table_names: tuple[str, ...] = ()
    event_handlers: tuple[EventHandler, ...] = ()
    workflow_triggers: tuple[WorkflowTrigger, ...] = ()
    workflow_actions: tuple[WorkflowAction, ...] = ()
    migrations: Path | None = None
    extras: dict = field(default_factory=dict)

    @property
    def version(self) -> str | None:
        return self.manifest.version if self.manifest else self.approved_version

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.id}"

    def migration_tree(self) -> MigrationTree | None:
        """The plugin's Alembic tree, with its own version table inside the tenant schema."""
        if self.migrations is None:
            return None
        return MigrationTree(f"plugin:{self.id}", str(self.migrations), version_table=self.version_table)


def kundo_version() -> str:
    try:
        return distribution_version("kundo")
    except PackageNotFoundError:  # running from a tree that was never installed
        from kundo import __version__

        return __version__


def read_approved(app: Flask) -> dict[str, tuple[str, str]]:
    """{plugin id: (version, source)} from the control plane; empty when it cannot be read.

    Reading the allow-list is the one database access of the app factory. A database that
    is not migrated yet (first start, test set-up) or not reachable means "first-party
    hubs only" — logged, so an operator knows why an approved app is missing.
    """
    from kundo.platform.db import db

    try:
        with app.app_context(), db.engine.connect() as connection:
            rows = connection.execute(text("SELECT plugin_id, version, source FROM control.approved_plugins"))
            return {plugin_id: (version, source) for plugin_id, version, source in rows}
    except DBAPIError as error:
        log.warning("approved plugins not readable (%s); loading first-party hubs only",
                    type(error.orig or error).__name__)
        return {}


def discover(names: Iterable[str]) -> tuple[dict[str, type], dict[str, str]]:
    """Import the named entry points: ({name: plugin class}, {name: why it failed})."""
    from stevedore import NamedExtensionManager

    failures: dict[str, str] = {}

    def _failed(manager, entry_point, error):  # noqa: ARG001 - stevedore's callback signature
        log.error("plugin %s failed to import: %s", entry_point.name, error, exc_info=error)
        failures[entry_point.name] = f"import failed: {type(error).__name__}: {error}"

    def _missing(missing_names):
        for name in missing_names:
            failures.setdefault(name, "not installed: no distribution provides this kundo.plugins entry point")

    # stevedore keeps a process-wide list per namespace; an app built after `kundo plugins
    # sync` (or a test that installed a plugin) must see the environment as it is now.
    # This runs once per app, never per request.
    NamedExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)
    manager = NamedExtensionManager(
        namespace=NAMESPACE, names=sorted(set(names)), invoke_on_load=False,
        on_load_failure_callback=_failed, on_missing_entrypoints_callback=_missing,
    )
    found = {extension.name: extension.plugin for extension in manager}
    for name in found:
        failures.pop(name, None)
    return found, failures


def prepare(plugin_id: str, plugin_class: object, loaded: LoadedPlugin) -> None:
    """Instantiate the plugin and check every rule the host enforces; raises PluginRefused."""
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, Plugin)):
        raise PluginRefused("the entry point must name a subclass of kundo.plugins.sdk.Plugin")
    manifest = getattr(plugin_class, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise PluginRefused("the plugin class has no manifest (set `manifest = load_manifest({...})`)")
    loaded.manifest = manifest
    if manifest.id != plugin_id or not PLUGIN_ID.match(plugin_id):
        raise PluginRefused(f"the manifest id {manifest.id!r} differs from the entry-point name {plugin_id!r}")
    if loaded.source == "marketplace" and loaded.approved_version and manifest.version != loaded.approved_version:
        raise PluginRefused(f"version {manifest.version} is installed but {loaded.approved_version} is approved; "
                            "run `kundo plugins sync`")
    try:
        if not SpecifierSet(manifest.kundo_version).contains(Version(kundo_version()), prereleases=True):
            raise PluginRefused(f"needs Kundo {manifest.kundo_version}, this is {kundo_version()}")
    except InvalidVersion as error:
        raise PluginRefused(f"Kundo's own version is unreadable: {error}") from error
    plugin = plugin_class()
    loaded.plugin = plugin
    loaded.blueprint_names = tuple(_check_blueprints(plugin_id, plugin.blueprints(), "page"))
    loaded.api_blueprint_names = tuple(_check_blueprints(plugin_id, plugin.api_blueprints(), "API"))
    loaded.table_names = tuple(_check_tables(plugin_id, plugin.metadata_tables()))
    loaded.event_handlers = tuple(_check_handlers(plugin_id, plugin.event_handlers()))
    loaded.workflow_triggers = tuple(plugin.workflow_triggers())
    loaded.workflow_actions = tuple(_check_actions(plugin_id, plugin.workflow_actions()))
    path = plugin.migrations_path()
    if path is not None:
        path = Path(path)
        if not (path / "versions").is_dir():
            raise PluginRefused(f"migrations_path {path} has no versions/ folder")
        loaded.migrations = path
    elif loaded.table_names:
        raise PluginRefused("the plugin declares tables but no migrations_path")


def owns_blueprint(plugin_id: str, name: str) -> bool:
    return name == plugin_id or name.startswith(f"{plugin_id}_")


def _check_blueprints(plugin_id: str, blueprints: Iterable[Blueprint], kind: str) -> Iterable[str]:
    from flask_smorest import Blueprint as ApiBlueprint

    expected = ApiBlueprint if kind == "API" else Blueprint
    for blueprint in blueprints:
        if not isinstance(blueprint, expected):
            raise PluginRefused(f"{kind} blueprints must be {expected.__module__}.Blueprint objects, "
                                f"got {type(blueprint).__name__}")
        if not owns_blueprint(plugin_id, blueprint.name):
            raise PluginRefused(f"{kind} blueprint {blueprint.name!r} must be named {plugin_id!r} "
                                f"or start with {plugin_id + '_'!r}")
        yield blueprint.name


def _check_tables(plugin_id: str, tables: Iterable) -> Iterable[str]:
    prefix = table_prefix(plugin_id)
    for table in tables:
        name = getattr(table, "name", None)
        if not name or not name.startswith(prefix):
            raise PluginRefused(f"table {name!r} must start with {prefix!r}")
        if getattr(table, "schema", None) not in (None, "tenant"):
            raise PluginRefused(f"table {name!r} must live in the tenant schema (use plugin_model_base)")
        yield name


def _check_handlers(plugin_id: str, handlers: Iterable[EventHandler]) -> Iterable[EventHandler]:
    seen: set[str] = set()
    for handler in handlers:
        if not isinstance(handler, EventHandler) or not callable(handler.handler):
            raise PluginRefused("event_handlers() must return EventHandler objects with a callable handler")
        name = handler_name(handler)
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", name) or name in seen:
            raise PluginRefused(f"event handler name {name!r} must be unique within {plugin_id!r} and plain")
        seen.add(name)
        yield handler


def handler_name(handler: EventHandler) -> str:
    return handler.name or getattr(handler.handler, "__name__", "handler")


def _check_actions(plugin_id: str, actions: Iterable[WorkflowAction]) -> Iterable[WorkflowAction]:
    for action in actions:
        if not action.key.startswith(f"{plugin_id}."):
            raise PluginRefused(f"workflow action key {action.key!r} must start with {plugin_id + '.'!r}")
        yield action


def check_api_routes(app: Flask, loaded: LoadedPlugin) -> None:
    """Refuse API routes that would shadow the host's own /api/v1/apps/<id>/... operations."""
    base = f"/api/v1/apps/{loaded.id}"
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in loaded.api_blueprint_names:
            continue
        rest = rule.rule[len(base):].strip("/") if rule.rule.startswith(base) else None
        if rest == "" or (rest and rest.split("/")[0] in RESERVED_API_PATHS):
            raise PluginRefused(f"API route {rule.rule} is reserved for the host (use a sub-path such as "
                                f"{base}/items)")


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500] if not isinstance(error, PluginRefused) else str(error)
