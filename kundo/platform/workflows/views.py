"""Pages: workflow list, builder, run history (filled in below)."""

from __future__ import annotations

from flask import Blueprint

from kundo.platform.web import NavItem

blueprint = Blueprint("workflows", __name__, template_folder="templates")

WORKFLOWS_NAV = (NavItem("workflows", "Workflows", "workflows.index", icon="zap", order=40),)


@blueprint.get("/workflows")
def index():
    return "todo"
