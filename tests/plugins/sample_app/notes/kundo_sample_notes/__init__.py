"""Sample Notes: a page and an API route over one tenant table."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy import BigInteger, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kundo.plugins.sdk import Plugin, load_manifest, plugin_model_base
from kundo.tenants.resolution import current_tenant_db

MANIFEST = load_manifest(json.loads(resources.files(__name__).joinpath("kundo_plugin.json").read_text("utf-8")))
Base = plugin_model_base(MANIFEST.id)


class Note(Base):
    __tablename__ = "sample_notes_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text: Mapped[str] = mapped_column(String(500))


pages = Blueprint("sample_notes", __name__)
api = ApiBlueprint("sample_notes_api", __name__)


@pages.get("/")
def notes_page():
    count = current_tenant_db().scalar(select(func.count()).select_from(Note))
    return f"<h1>Sample Notes {MANIFEST.version}</h1><p>{count} notes</p>"


@api.get("/notes")
def list_notes():
    """List notes."""
    return {"version": MANIFEST.version, "notes": [n.text for n in current_tenant_db().scalars(select(Note))]}


class SampleNotes(Plugin):
    manifest = MANIFEST

    def blueprints(self):
        return [pages]

    def api_blueprints(self):
        return [api]

    def migrations_path(self):
        return Path(__file__).parent / "migrations"

    def metadata_tables(self):
        return list(Base.metadata.tables.values())
