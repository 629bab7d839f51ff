"""Demo Notes: every contribution a plugin can make, each as small as possible."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields
from sqlalchemy import BigInteger, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kundo.plugins.sdk import (
    DashboardWidget,
    EventHandler,
    NavItem,
    Plugin,
    WorkflowAction,
    WorkflowTrigger,
    load_manifest,
    plugin_model_base,
)
from kundo.tenants.resolution import current_tenant_db

Base = plugin_model_base("demo_notes")


class Item(Base):
    __tablename__ = "demo_notes_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


pages = Blueprint("demo_notes", __name__)
api = ApiBlueprint("demo_notes_api", __name__, description="Demo notes")


def _count() -> int:
    return current_tenant_db().scalar(select(func.count()).select_from(Item))


@pages.get("/")
def index():
    return f"<p data-demo-notes>{_count()} notes</p>"


@api.route("/items")
@api.response(200)
def items():
    """How many items"""
    return {"count": _count()}


def on_contact_created(session, event) -> None:
    session.add(Item(text=f"contact {event.object_id}"))


class AddParams(Schema):
    text = fields.String(required=True)


def add_item(session, *, object_type, object_id, params, context):  # noqa: ARG001
    session.add(Item(text=params["text"]))


class DemoNotes(Plugin):
    manifest = load_manifest({"id": "demo_notes", "name": "Demo Notes", "version": "0.1.0",
                              "publisher": "Demo Publisher", "summary": "Notes for the plugin-host tests.",
                              "requires": ["crm"]})

    def blueprints(self):
        return [pages]

    def api_blueprints(self):
        return [api]

    def migrations_path(self):
        return Path(__file__).parent / "migrations"

    def metadata_tables(self):
        return list(Base.metadata.tables.values())

    def nav_items(self):
        return [NavItem("demo_notes", "Demo notes", "demo_notes.index", icon="note", order=300)]

    def dashboard_widgets(self):
        return [DashboardWidget("count", "Demo notes", lambda session, tenant: "<p data-widget=demo_notes>ok</p>")]

    def event_handlers(self):
        return [EventHandler("contact.created", on_contact_created)]

    def workflow_triggers(self):
        return [WorkflowTrigger("contact.created", "A contact was created", "contact")]

    def workflow_actions(self):
        return [WorkflowAction("demo_notes.add", "Add a note", AddParams, add_item)]
