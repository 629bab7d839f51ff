"""Per-tenant install, enable, disable, update and uninstall of plugins.

Enabling runs the plugin's Alembic migrations inside the tenant's schema, as the tenant's
role, with the plugin's own version table (`alembic_version_<id>`), then records the
install (version, who, when, consented scopes) in `control.tenant_plugins` and the audit
log. Disabling keeps the tables; uninstalling drops them after the admin typed the
workspace's address. Each function commits: the plugin's tables are committed by its
migration run already, and the record must follow at once for the gate to see it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from packaging.version import InvalidVersion, Version
from sqlalchemy import select, text

from kundo.platform.audit.service import record_audit
from kundo.platform.db import db, utcnow
from kundo.plugins.host import ENTITLEMENT_KEY, plugin_host
from kundo.plugins.loader import LoadedPlugin
from kundo.plugins.models import TenantPlugin
from kundo.tenants.migrations import upgrade_tenant
from kundo.tenants.naming import quoted
from kundo.tenants.session import TenantScope, tenant_session

log = logging.getLogger("kundo.plugins")

#: app.extensions key: callables (tenant, plugin_id) run after a plugin was disabled, or uninstalled
#: while still enabled (billing ends a paid hub's or app's subscription either way).
DISABLED_HOOKS_KEY = "kundo.plugin_disabled_hooks"

#: Requirements every workspace meets: the CRM core is not a plugin.
CORE_REQUIREMENTS = frozenset({"crm", "core"})


class PluginError(Exception):
    """A refusal a person can act on. `status` is the HTTP answer; `missing` the plugins to enable too."""

    def __init__(self, message: str, status: int = 422, *, missing: tuple[str, ...] = (),
                 scopes: tuple[str, ...] = (), reason: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.missing = missing
        self.scopes = scopes
        self.reason = reason


@dataclass
class CatalogEntry:
    """One plugin as a tenant admin sees it on Hubs & apps and in /api/v1/apps."""

    loaded: LoadedPlugin | None
    install: TenantPlugin | None
    requires_missing: list[str] = field(default_factory=list)
    required_by: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.loaded.id if self.loaded else self.install.plugin_id

    @property
    def manifest(self):
        return self.loaded.manifest if self.loaded else None

    @property
    def available(self) -> bool:
        return self.loaded is not None and self.loaded.healthy

    @property
    def state(self) -> str:
        return self.install.state if self.install else "available"

    @property
    def update_available(self) -> bool:
        return bool(self.install and self.available and _newer(self.loaded.manifest.version,
                                                                self.install.installed_version))

    @property
    def new_scopes(self) -> list[str]:
        if not (self.install and self.available):
            return []
        return [s for s in self.loaded.manifest.permissions if s not in (self.install.consented_scopes or [])]


def _newer(candidate: str, installed: str) -> bool:
    try:
        return Version(candidate) > Version(installed)
    except InvalidVersion:
        return candidate != installed


def _installs(tenant) -> dict[str, TenantPlugin]:
    rows = db.session.scalars(select(TenantPlugin).where(TenantPlugin.tenant_id == tenant.id))
    return {row.plugin_id: row for row in rows}


def catalog(tenant) -> list[CatalogEntry]:
    """Installed plugins (even ones no longer loadable) and every healthy one available to enable."""
    host = plugin_host()
    installs = _installs(tenant)
    enabled = {pid for pid, row in installs.items() if row.enabled}
    entries = []
    for pid in sorted(set(installs) | set(host.healthy())):
        loaded = host.loaded.get(pid)
        entry = CatalogEntry(loaded, installs.get(pid))
        if loaded is not None and loaded.manifest is not None:
            entry.requires_missing = [r for r in loaded.manifest.requires
                                      if r not in CORE_REQUIREMENTS and r not in enabled]
        entry.required_by = sorted(other for other in enabled if other != pid and _requires(host, other, pid))
        entries.append(entry)
    first_party_first = {"sales": 0, "marketing": 1, "service": 2}
    return sorted(entries, key=lambda e: (first_party_first.get(e.id, 9), e.id))


def catalog_entry(tenant, plugin_id: str) -> CatalogEntry:
    for entry in catalog(tenant):
        if entry.id == plugin_id:
            return entry
    raise PluginError(_("There is no app “%(id)s” here.", id=plugin_id), 404, reason="not_found")


def _requires(host, plugin_id: str, needed: str) -> bool:
    loaded = host.loaded.get(plugin_id)
    return bool(loaded and loaded.manifest and needed in loaded.manifest.requires)


def _available(plugin_id: str) -> LoadedPlugin:
    loaded = plugin_host().loaded.get(plugin_id)
    if loaded is None:
        raise PluginError(_("There is no app “%(id)s” here.", id=plugin_id), 404, reason="not_found")
    if not loaded.healthy:
        raise PluginError(_("“%(id)s” cannot be enabled right now: it failed to load. Kundo's operators "
                            "have been told.", id=plugin_id), 409, reason="unhealthy")
    return loaded


def _name(loaded: LoadedPlugin) -> str:
    return loaded.manifest.name if loaded.manifest else loaded.id


def requirement_order(plugin_id: str, tenant) -> list[LoadedPlugin]:
    """The plugin and what it needs that is not enabled yet, dependencies first."""
    enabled = {pid for pid, row in _installs(tenant).items() if row.enabled}
    order: list[LoadedPlugin] = []
    visiting: set[str] = set()

    def visit(pid: str, needed_by: str | None) -> None:
        if pid in CORE_REQUIREMENTS or pid in enabled or any(lp.id == pid for lp in order):
            return
        if pid in visiting:
            raise PluginError(_("The apps “%(a)s” and “%(b)s” need each other; neither can be enabled.",
                                a=pid, b=needed_by), 409, reason="dependency_cycle")
        visiting.add(pid)
        try:
            loaded = _available(pid)
        except PluginError as error:
            if needed_by is None:
                raise
            raise PluginError(_("“%(name)s” needs “%(dep)s”, which is not available here.",
                                name=needed_by, dep=pid), 409, reason="dependency_unavailable") from error
        for requirement in loaded.manifest.requires:
            visit(requirement, _name(loaded))
        visiting.discard(pid)
        order.append(loaded)

    visit(plugin_id, None)
    return order


def _run_migrations(tenant, loaded: LoadedPlugin) -> None:
    tree = loaded.migration_tree()
    if tree is None:
        return
    with db.engine.connect() as connection:
        upgrade_tenant(connection, TenantScope.of(tenant), [tree])


def enable_plugin(tenant, plugin_id: str, *, user, consented_scopes, with_requirements: bool = False) -> TenantPlugin:
    """Enable a plugin (and, with `with_requirements`, the plugins it needs) for one tenant.

    Refuses with PluginError when a needed plugin is not enabled (`missing` lists them, so a
    page can ask to enable both), when a permission was not consented to, or when billing
    says the tenant is not entitled to a paid plugin.
    """
    host = plugin_host()
    order = requirement_order(plugin_id, tenant)
    if not order:  # enabled already
        return _installs(tenant)[plugin_id]
    missing = tuple(lp.id for lp in order if lp.id != plugin_id)
    if missing and not with_requirements:
        names = ", ".join(f"“{_name(lp)}”" for lp in order if lp.id != plugin_id)
        raise PluginError(_("“%(name)s” needs %(deps)s. Enable them together.", name=_name(order[-1]), deps=names),
                          409, missing=missing, reason="requirements")
    consented = set(consented_scopes or ())
    needed = tuple(dict.fromkeys(scope for lp in order for scope in lp.manifest.permissions))
    lacking = tuple(scope for scope in needed if scope not in consented)
    if lacking:
        raise PluginError(_("Consent to every permission the app asks for: %(scopes)s.", scopes=", ".join(lacking)),
                          422, scopes=lacking, reason="consent")
    entitled = current_app.extensions.get(ENTITLEMENT_KEY)
    for loaded in order:
        # Asked for every plugin: billing knows what is sold (paid manifests and the hub add-ons).
        if entitled is not None:
            refusal = entitled(tenant, loaded.manifest)
            if refusal:
                raise PluginError(refusal, 402, reason="not_entitled")
    installs = _installs(tenant)
    for loaded in order:
        _run_migrations(tenant, loaded)
        row = installs.get(loaded.id) or TenantPlugin(tenant_id=tenant.id, plugin_id=loaded.id)
        row.installed_version = loaded.manifest.version  # its migrations just ran to this version's head
        row.state = "enabled"
        row.consented_scopes = sorted(set(row.consented_scopes or ()) | set(loaded.manifest.permissions))
        row.enabled_by = user.id if user is not None else None
        row.enabled_at = row.updated_at = utcnow()
        db.session.add(row)
        record_audit("plugin.enabled", tenant_id=tenant.id, actor_user_id=row.enabled_by, target=loaded.id,
                     data={"version": row.installed_version, "scopes": list(loaded.manifest.permissions),
                           "with": list(missing) if loaded.id == plugin_id else []})
    db.session.commit()
    host.forget(tenant.id)
    return _installs(tenant)[plugin_id]


def disable_plugin(tenant, plugin_id: str, *, user) -> TenantPlugin:
    """Hide the plugin in this workspace; its tables and data stay for a later enable."""
    row = _install_or_error(tenant, plugin_id)
    _refuse_if_needed(tenant, plugin_id)
    if row.state != "disabled":
        row.state = "disabled"
        row.updated_at = utcnow()
        record_audit("plugin.disabled", tenant_id=tenant.id, actor_user_id=user.id if user else None,
                     target=plugin_id, data={"version": row.installed_version})
        db.session.commit()
        for hook in current_app.extensions.get(DISABLED_HOOKS_KEY, ()):
            hook(tenant, plugin_id)  # billing cancels a paid hub's subscription at the period's end
    plugin_host().forget(tenant.id)
    return row


def update_plugin(tenant, plugin_id: str, *, user, consented_scopes=None) -> TenantPlugin:
    """Move the install to the loaded (newer) version: run its new migrations and record it.

    New permissions of the new version need consent (`consented_scopes`), as on enable.
    """
    row = _install_or_error(tenant, plugin_id)
    loaded = _available(plugin_id)
    if not _newer(loaded.manifest.version, row.installed_version):
        raise PluginError(_("“%(name)s” is up to date (version %(version)s).", name=_name(loaded),
                            version=row.installed_version), 409, reason="up_to_date")
    known = set(row.consented_scopes or ()) | set(consented_scopes or ())
    lacking = tuple(scope for scope in loaded.manifest.permissions if scope not in known)
    if lacking:
        raise PluginError(_("The new version asks for more: %(scopes)s. Consent to update.",
                            scopes=", ".join(lacking)), 422, scopes=lacking, reason="consent")
    _run_migrations(tenant, loaded)
    previous = row.installed_version
    row.installed_version = loaded.manifest.version
    row.consented_scopes = sorted(set(row.consented_scopes or ()) | set(loaded.manifest.permissions))
    row.updated_at = utcnow()
    record_audit("plugin.updated", tenant_id=tenant.id, actor_user_id=user.id if user else None, target=plugin_id,
                 data={"from": previous, "to": row.installed_version})
    db.session.commit()
    plugin_host().forget(tenant.id)
    return row


def uninstall_plugin(tenant, plugin_id: str, *, user, confirmation: str) -> list[str]:
    """Drop the plugin's tables and its install record; returns the dropped table names.

    `confirmation` must be the workspace's address (or its name), typed by the admin.
    """
    typed = (confirmation or "").strip()
    if typed not in (tenant.slug, tenant.name):
        raise PluginError(_("Type the workspace address (%(slug)s) to confirm. Nothing was deleted.",
                            slug=tenant.slug), 422, reason="confirmation")
    row = _install_or_error(tenant, plugin_id)
    _refuse_if_needed(tenant, plugin_id)
    was_enabled = row.enabled
    dropped = _drop_tables(tenant, plugin_id)
    db.session.delete(row)
    record_audit("plugin.uninstalled", tenant_id=tenant.id, actor_user_id=user.id if user else None,
                 target=plugin_id, data={"version": row.installed_version, "dropped_tables": dropped})
    db.session.commit()
    if was_enabled:  # a disabled plugin ran the hooks when it was disabled
        for hook in current_app.extensions.get(DISABLED_HOOKS_KEY, ()):
            hook(tenant, plugin_id)
    plugin_host().forget(tenant.id)
    return dropped


def _install_or_error(tenant, plugin_id: str) -> TenantPlugin:
    row = db.session.get(TenantPlugin, (tenant.id, plugin_id))
    if row is None:
        raise PluginError(_("“%(id)s” is not installed in this workspace.", id=plugin_id), 404,
                          reason="not_installed")
    return row


def _refuse_if_needed(tenant, plugin_id: str) -> None:
    host = plugin_host()
    dependents = sorted(pid for pid, row in _installs(tenant).items()
                        if row.enabled and pid != plugin_id and _requires(host, pid, plugin_id))
    if dependents:
        raise PluginError(_("%(deps)s need this app. Disable them first.",
                            deps=", ".join(f"“{d}”" for d in dependents)), 409, reason="required")


def _drop_tables(tenant, plugin_id: str) -> list[str]:
    """The plugin's tables: the ones it declares, plus any `<id>_*` table not of a longer-named plugin."""
    host = plugin_host()
    loaded = host.loaded.get(plugin_id)
    others = [pid for pid in set(host.loaded) | set(_installs(tenant))
              if pid != plugin_id and pid.startswith(f"{plugin_id}_")]
    with tenant_session(tenant) as session:
        existing = set(session.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": tenant.schema_name}).scalars())
        prefixed = {name for name in existing if name.startswith(f"{plugin_id}_")
                    and not any(name.startswith(f"{other}_") for other in others)}
        declared = set(loaded.table_names) if loaded is not None else set()
        names = sorted(prefixed | (declared & existing))
        version_table = f"alembic_version_{plugin_id}"
        for name in [*names, version_table]:
            session.execute(text(f"DROP TABLE IF EXISTS {quoted(name)} CASCADE"))
    return names
