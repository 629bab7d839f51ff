"""`kundo plugins new NAME`: a plugin distribution that installs, loads and passes its own test.

The generated plugin has what most need first — a page under /apps/<id>/, a table with
its Alembic migration, a sidebar entry — and a test that approves it, enables it for a
workspace through the real host and uses the page, with Kundo's pytest fixtures.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from kundo.plugins.sdk import PLUGIN_ID


class TemplateError(ValueError):
    """NAME is not usable, or the target folder exists."""


def plugin_id_for(name: str) -> str:
    plugin_id = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if not PLUGIN_ID.match(plugin_id):
        raise TemplateError(f"{name!r} does not make a plugin id: use 2-40 letters, digits and _, starting "
                            "with a letter (e.g. acme_notes)")
    if plugin_id in ("sales", "marketing", "service", "crm", "core"):
        raise TemplateError(f"{plugin_id!r} is reserved for Kundo's own hubs; pick another name")
    return plugin_id


def render_plugin(name: str, directory: Path, *, publisher: str = "Your company") -> Path:
    """Write the distribution into directory/<dist-name>; returns that folder."""
    plugin_id = plugin_id_for(name)
    dist = "kundo-" + plugin_id.replace("_", "-")
    package = f"kundo_{plugin_id}"
    target = Path(directory) / dist
    if target.exists():
        raise TemplateError(f"{target} exists already; choose another --path or remove it")
    title = " ".join(part.capitalize() for part in plugin_id.split("_"))
    values = {"id": plugin_id, "dist": dist, "package": package, "title": title,
              "cls": title.replace(" ", "") + "Plugin", "publisher": publisher.replace('"', "'")}
    for relative, text in FILES.items():
        path = target / Template(relative).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values), encoding="utf-8")
    return target


FILES = {
    "pyproject.toml": '''\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$title — an app for Kundo"
requires-python = ">=3.11"
# Kundo itself provides the runtime (Flask, SQLAlchemy, marshmallow, the SDK).
dependencies = []

[project.entry-points."kundo.plugins"]
$id = "$package.plugin:$cls"

[tool.setuptools.packages.find]
include = ["$package*"]

[tool.setuptools.package-data]
"*" = ["templates/**/*", "migrations/**/*", "*.json"]

[tool.pytest.ini_options]
addopts = "--import-mode=importlib -p no:cacheprovider"
''',
    "README.md": '''\
# $title

A Kundo app. Its page lives at `/apps/$id/` in every workspace that enabled it.

    pip install -e .
    pytest tests

Publish it on the Kundo marketplace as a wheel (`pip wheel --no-deps .`); the manifest
is `$package/kundo_plugin.json` (keep its version equal to pyproject.toml's).

Rules the host enforces: blueprints are named `$id` or `${id}_...`, tables start with
`${id}_`, workflow action keys with `$id.`. Add a table: declare it in `models.py`,
then add a migration to `$package/migrations/versions/`.
''',
    "$package/__init__.py": '''\
"""$title: a Kundo app."""
''',
    "$package/plugin.py": '''\
"""The entry point Kundo loads (group `kundo.plugins`, name `$id`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from kundo.plugins.sdk import NavItem, Plugin, load_manifest


class $cls(Plugin):
    # The manifest is package data, so the marketplace can check it without importing the code.
    # Keep its version equal to pyproject.toml's.
    manifest = load_manifest(json.loads(
        resources.files("$package").joinpath("kundo_plugin.json").read_text("utf-8")))

    def blueprints(self):
        from $package.views import blueprint

        return [blueprint]

    def migrations_path(self) -> Path:
        return Path(__file__).parent / "migrations"

    def metadata_tables(self):
        from $package.models import Base

        return list(Base.metadata.tables.values())

    def nav_items(self):
        return [NavItem("$id", "$title", "$id.index", icon="note", order=200)]
''',
    "$package/kundo_plugin.json": '''\
{
  "id": "$id",
  "name": "$title",
  "version": "0.1.0",
  "publisher": "$publisher",
  "summary": "Notes your team keeps in one place.",
  "categories": ["productivity"],
  "icon": "note",
  "permissions": []
}
''',
    "$package/models.py": '''\
"""The app's tables: they exist only in workspaces that enabled it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from kundo.plugins.sdk import plugin_model_base

Base = plugin_model_base("$id")


class Note(Base):
    __tablename__ = "${id}_notes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
''',
    "$package/views.py": '''\
"""The app's page: /apps/$id/ lists the notes and adds one."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from $package.models import Note

blueprint = Blueprint("$id", __name__, template_folder="templates")


@blueprint.route("/", methods=["GET", "POST"])
@login_required
def index():
    session = current_tenant_db()
    if request.method == "POST" and request.form.get("text", "").strip():
        session.add(Note(text=request.form["text"].strip()[:500]))
        session.commit()
        return redirect(url_for("$id.index"))
    notes = session.scalars(select(Note).order_by(Note.id.desc()).limit(100)).all()
    return render_template("$id/index.html", notes=notes)
''',
    "$package/templates/$id/index.html": '''\
{% extends "app.html" %}
{% block title %}$title{% endblock %}
{% block page_title %}$title{% endblock %}
{% block content %}
<div class="card">
  <form method="post" class="form form-inline">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <label>Note<input name="text" maxlength="500" required></label>
    <button class="btn btn-primary">Add</button>
  </form>
</div>
<div class="card">
  {% for note in notes %}<p data-note>{{ note.text }}</p>
  {% else %}<p class="muted">No notes yet.</p>{% endfor %}
</div>
{% endblock %}
''',
    "$package/migrations/versions/${id}_0001_notes.py": '''\
"""$id: notes

Runs inside the tenant's schema (search_path), so table names are unqualified.
"""
import sqlalchemy as sa
from alembic import op

revision = "${id}_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "${id}_notes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_${id}_notes")),
    )


def downgrade() -> None:
    op.drop_table("${id}_notes")
''',
    "tests/test_${id}.py": '''\
"""The app loads, enables for one workspace only, and its page works (Kundo's pytest fixtures)."""

from kundo.testing.plugins import tenant_tables


def test_enabled_workspace_uses_the_page(app_with_plugins, enable_app, make_workspace, sign_in):
    app = app_with_plugins("$id")
    from kundo.plugins import loaded_plugins

    with app.app_context():
        loaded = loaded_plugins()["$id"]
    assert loaded.healthy, loaded.error

    mine, other = make_workspace(), make_workspace()
    enable_app(app, mine, "$id")
    assert "${id}_notes" in tenant_tables(app, mine)
    assert "${id}_notes" not in tenant_tables(app, other)

    client = app.test_client()
    from kundo.testing.web import HostClient

    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    assert page.submit("/apps/$id/", {"text": "First note"}).status_code == 302
    assert "First note" in page.get("/apps/$id/").get_data(as_text=True)

    stranger = HostClient(client, other.host)
    stranger.submit("/login", {"email": other.owner_email, "password": other.password})
    assert stranger.get("/apps/$id/").status_code == 404
''',
}
