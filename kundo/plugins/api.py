"""API: /api/v1/apps — list, read, enable, disable, update and uninstall hubs and apps.

Admins only (the `admin` role); reading needs a `read` token, changing an `admin` one.
Refusals are problem+json with a `reason` (and `missing` / `scopes` where they help).
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.errors import Problem
from kundo.plugins import installs
from kundo.plugins.schemas import (
    AppListSchema,
    AppSchema,
    EnableSchema,
    UninstallResultSchema,
    UninstallSchema,
    UpdateSchema,
)
from kundo.tenants.models import Role

blueprint = Blueprint("api_apps", __name__, url_prefix="/api/v1", description="Hubs and apps of the workspace")

PLUGIN_ID = "string(minlength=2, maxlength=40)"


def app_view(entry: installs.CatalogEntry) -> dict:
    manifest = entry.manifest
    view = {"id": entry.id, "available": entry.available, "state": entry.state,
            "installed_version": entry.install.installed_version if entry.install else None,
            "update_available": entry.update_available,
            "consented_scopes": list(entry.install.consented_scopes or []) if entry.install else [],
            "enabled_at": entry.install.enabled_at if entry.install else None,
            "requires_missing": entry.requires_missing, "version": None, "price": None}
    if manifest is not None:
        view.update(name=manifest.name, summary=manifest.summary, description=manifest.description,
                    publisher=manifest.publisher, version=manifest.version, first_party=manifest.first_party,
                    categories=list(manifest.categories), permissions=list(manifest.permissions),
                    requires=list(manifest.requires), price=dict(manifest.price))
    else:
        view.update(name=entry.id, permissions=[], requires=[])
    return view


def _problem(error: installs.PluginError) -> Problem:
    return Problem(error.status, str(error), reason=error.reason, missing=list(error.missing) or None,
                   scopes=list(error.scopes) or None)


def _entry(plugin_id: str) -> installs.CatalogEntry:
    try:
        return installs.catalog_entry(g.tenant, plugin_id)
    except installs.PluginError as error:
        raise _problem(error) from error


@blueprint.route("/apps")
class Apps(MethodView):
    @token_required("read", role=Role.ADMIN)
    @blueprint.response(200, AppListSchema)
    def get(self):
        """Installed apps and those available to enable"""
        return {"items": [app_view(entry) for entry in installs.catalog(g.tenant)]}


@blueprint.route(f"/apps/<{PLUGIN_ID}:plugin_id>")
class App(MethodView):
    @token_required("read", role=Role.ADMIN)
    @blueprint.response(200, AppSchema)
    def get(self, plugin_id):
        """One app: its manifest and its state in this workspace"""
        return app_view(_entry(plugin_id))


def _run(plugin_id: str, change) -> dict:
    try:
        change()
    except installs.PluginError as error:
        raise _problem(error) from error
    return app_view(_entry(plugin_id))


@blueprint.route(f"/apps/<{PLUGIN_ID}:plugin_id>/enable", methods=["POST"])
@token_required("admin", role=Role.ADMIN)
@blueprint.arguments(EnableSchema)
@blueprint.response(200, AppSchema)
def enable(data, plugin_id):
    """Enable an app: runs its migrations in this workspace and records the consent"""
    return _run(plugin_id, lambda: installs.enable_plugin(
        g.tenant, plugin_id, user=g.user, consented_scopes=data["consented_scopes"],
        with_requirements=data["with_requirements"]))


@blueprint.route(f"/apps/<{PLUGIN_ID}:plugin_id>/disable", methods=["POST"])
@token_required("admin", role=Role.ADMIN)
@blueprint.response(200, AppSchema)
def disable(plugin_id):
    """Disable an app: hidden and unreachable, its data kept"""
    return _run(plugin_id, lambda: installs.disable_plugin(g.tenant, plugin_id, user=g.user))


@blueprint.route(f"/apps/<{PLUGIN_ID}:plugin_id>/update", methods=["POST"])
@token_required("admin", role=Role.ADMIN)
@blueprint.arguments(UpdateSchema)
@blueprint.response(200, AppSchema)
def update(data, plugin_id):
    """Update an app to the version Kundo runs, with its new migrations"""
    return _run(plugin_id, lambda: installs.update_plugin(g.tenant, plugin_id, user=g.user,
                                                          consented_scopes=data["consented_scopes"]))


@blueprint.route(f"/apps/<{PLUGIN_ID}:plugin_id>/uninstall", methods=["POST"])
@token_required("admin", role=Role.ADMIN)
@blueprint.arguments(UninstallSchema)
@blueprint.response(200, UninstallResultSchema)
def uninstall(data, plugin_id):
    """Uninstall an app and delete its tables in this workspace (needs the typed workspace address)"""
    try:
        dropped = installs.uninstall_plugin(g.tenant, plugin_id, user=g.user, confirmation=data["confirmation"])
    except installs.PluginError as error:
        raise _problem(error) from error
    return {"id": plugin_id, "dropped_tables": dropped}
