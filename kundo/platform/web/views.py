"""The landing page on the root domain and the dashboard inside a workspace."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.workspace import WorkspaceProfile

blueprint = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static")


@blueprint.get("/")
def index():
    if g.get("tenant") is None:
        return render_template("web/landing.html")
    return dashboard()


@login_required
def dashboard():
    session = current_tenant_db()
    profile = session.get(WorkspaceProfile, 1)
    # Cards that enabled plugins contribute; providers contain what a plugin raises.
    widgets = [card for provider in current_app.extensions.get("kundo_dashboard_providers", ())
               for card in provider(g.tenant, session)]
    return render_template("web/dashboard.html", profile=profile, welcome=request.args.get("welcome") == "1",
                           widgets=widgets)
