"""CRM pages: contacts, companies, record pages, my tasks, import wizard, property settings.

Page handlers live in the feature folders (`kundo/crm/<feature>/views.py`) and are
attached to this one blueprint so URLs and templates stay in one namespace.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from kundo.platform.auth.session import login_required

blueprint = Blueprint("crm_views", __name__, template_folder="templates")


def _placeholder(title: str):
    return render_template("crm/placeholder.html", title=title)


@blueprint.get("/contacts")
@login_required
def contacts():
    return _placeholder("Contacts")


@blueprint.get("/companies")
@login_required
def companies():
    return _placeholder("Companies")


@blueprint.get("/tasks")
@login_required
def my_tasks():
    return _placeholder("My tasks")


@blueprint.get("/import")
@login_required
def imports():
    return _placeholder("Import")


@blueprint.get("/settings/properties")
@login_required
def properties():
    return _placeholder("Properties")
