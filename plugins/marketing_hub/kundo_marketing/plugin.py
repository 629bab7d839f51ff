"""The entry point (group `kundo.plugins`, name `marketing`): what the Marketing Hub contributes."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from kundo.plugins.sdk import DashboardWidget, NavItem, Plugin, load_manifest

#: The manifest stays plain text; listing its texts here puts them in the catalogue,
#: so Hubs & apps shows a first-party hub's summary and description in German.
TRANSLATED = (
    _l("Forms, lead scoring and nurturing that hand warm leads to sales."),
    _l("Build sign-up forms for your website; every submission lands on the contact's timeline."),
)


class MarketingHub(Plugin):
    manifest = load_manifest({
        "id": "marketing",
        "name": "Marketing Hub",
        "version": "0.1.0",
        "publisher": "Kundo",
        "summary": "Forms, lead scoring and nurturing that hand warm leads to sales.",
        "description": "Build sign-up forms for your website; every submission lands on the contact's timeline.",
        "categories": ["marketing"],
        "icon": "mail",
        "requires": [],
        "permissions": ["contacts:read", "contacts:write", "timeline:write"],
        "first_party": True,
    })

    def blueprints(self):
        from kundo_marketing.views import blueprint

        return [blueprint]

    def migrations_path(self) -> Path:
        return Path(__file__).parent / "migrations"

    def metadata_tables(self):
        from kundo_marketing.models import Base

        return list(Base.metadata.tables.values())

    def nav_items(self):
        return [NavItem("marketing", "Forms", "marketing.forms", icon="mail", order=50)]

    def dashboard_widgets(self):
        from kundo_marketing.views import render_widget

        return [DashboardWidget("forms", "Forms", render_widget, order=50)]
