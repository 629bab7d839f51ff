"""Settings → Hubs & apps: what is installed, what can be enabled, and the consent before it."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kundo.platform.auth.session import role_required
from kundo.platform.web import NavItem
from kundo.plugins import installs
from kundo.tenants.models import Role

blueprint = Blueprint("plugins", __name__, template_folder="templates")

NAV = NavItem("apps", "Hubs & apps", "plugins.apps", icon="plug", order=890, min_role=Role.ADMIN, section="settings")

#: What each permission scope lets an app do, as the consent dialog says it.
PERMISSION_LABELS = {
    "contacts:read": _l("See contacts"),
    "contacts:write": _l("Create and change contacts"),
    "companies:read": _l("See companies"),
    "companies:write": _l("Create and change companies"),
    "timeline:read": _l("Read the timeline of contacts and companies"),
    "timeline:write": _l("Add entries to the timeline"),
    "tasks:read": _l("See tasks"),
    "tasks:write": _l("Create and change tasks"),
    "events:read": _l("Be told about changes in this workspace"),
    "mail:send": _l("Send e-mails in the name of this workspace"),
    "webhooks:call": _l("Send data to addresses outside Kundo"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions["kundo_nav"].append(NAV)

    def enabled_apps() -> set[str]:
        from kundo.plugins.host import enabled_plugin_ids

        tenant = g.get("tenant")
        return enabled_plugin_ids(tenant.id) if tenant is not None else set()

    app.jinja_env.globals["enabled_apps"] = enabled_apps
    app.jinja_env.globals["permission_label"] = lambda scope: PERMISSION_LABELS.get(scope, scope)


def _workspace_only() -> None:
    if g.get("tenant") is None:
        abort(404)


@blueprint.get("/settings/apps")
@role_required(Role.ADMIN)
def apps():
    _workspace_only()
    entries = installs.catalog(g.tenant)
    return render_template("plugins/apps.html", installed=[e for e in entries if e.install],
                           available=[e for e in entries if not e.install])


@blueprint.get("/settings/apps/<plugin_id>")
@role_required(Role.ADMIN)
def app_detail(plugin_id: str):
    _workspace_only()
    try:
        entry = installs.catalog_entry(g.tenant, plugin_id)
    except installs.PluginError:
        abort(404)
    together = []
    if entry.available and not (entry.install and entry.install.enabled):
        try:
            together = [lp for lp in installs.requirement_order(plugin_id, g.tenant) if lp.id != plugin_id]
        except installs.PluginError as error:
            flash(str(error), "error")
    scopes = list(dict.fromkeys(s for lp in [*together, entry.loaded] if lp and lp.manifest
                                for s in lp.manifest.permissions))
    return render_template("plugins/app.html", entry=entry, together=together, scopes=scopes)


def _back(plugin_id: str, message: str | None = None, category: str = "success", to_list: bool = False):
    if message:
        flash(message, category)
    return redirect(url_for("plugins.apps") if to_list else url_for("plugins.app_detail", plugin_id=plugin_id))


@blueprint.post("/settings/apps/<plugin_id>/enable")
@role_required(Role.ADMIN)
def enable(plugin_id: str):
    _workspace_only()
    try:
        row = installs.enable_plugin(g.tenant, plugin_id, user=g.user,
                                     consented_scopes=request.form.getlist("scopes"),
                                     with_requirements=request.form.get("with_requirements") == "1")
    except installs.PluginError as error:
        return _back(plugin_id, str(error), "error")
    name = installs.catalog_entry(g.tenant, row.plugin_id).manifest.name
    return _back(plugin_id, _("%(name)s is enabled for everyone in this workspace.", name=name))


@blueprint.post("/settings/apps/<plugin_id>/disable")
@role_required(Role.ADMIN)
def disable(plugin_id: str):
    _workspace_only()
    try:
        installs.disable_plugin(g.tenant, plugin_id, user=g.user)
    except installs.PluginError as error:
        return _back(plugin_id, str(error), "error")
    return _back(plugin_id, _("Disabled. Its data stays; enable it again to pick up where you left off."))


@blueprint.post("/settings/apps/<plugin_id>/update")
@role_required(Role.ADMIN)
def update(plugin_id: str):
    _workspace_only()
    try:
        row = installs.update_plugin(g.tenant, plugin_id, user=g.user, consented_scopes=request.form.getlist("scopes"))
    except installs.PluginError as error:
        return _back(plugin_id, str(error), "error")
    return _back(plugin_id, _("Updated to version %(version)s.", version=row.installed_version))


@blueprint.post("/settings/apps/<plugin_id>/uninstall")
@role_required(Role.ADMIN)
def uninstall(plugin_id: str):
    _workspace_only()
    try:
        installs.uninstall_plugin(g.tenant, plugin_id, user=g.user, confirmation=request.form.get("confirm", ""))
    except installs.PluginError as error:
        return _back(plugin_id, str(error), "error")
    return _back(plugin_id, _("Uninstalled. Its data in this workspace is deleted."), to_list=True)
