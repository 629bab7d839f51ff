"""The entry point (group `kundo.plugins`, name `service`): what the Service Hub contributes."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from kundo.plugins.sdk import DashboardWidget, NavItem, Plugin, load_manifest

#: The manifest stays plain text; listing its texts here puts them in the catalogue,
#: so Hubs & apps shows a first-party hub's summary and description in German.
TRANSLATED = (
    _l("Tickets and satisfaction surveys tied to the customer’s history."),
    _l("Track customer requests as tickets until they are solved, next to everything else you know."),
)


class ServiceHub(Plugin):
    manifest = load_manifest({
        "id": "service",
        "name": "Service Hub",
        "version": "0.1.0",
        "publisher": "Kundo",
        "summary": "Tickets and satisfaction surveys tied to the customer’s history.",
        "description": "Track customer requests as tickets until they are solved, next to everything else you know.",
        "categories": ["service"],
        "icon": "ticket",
        "requires": [],
        "permissions": ["contacts:read", "timeline:write"],
        "first_party": True,
    })

    def blueprints(self):
        from kundo_service.views import blueprint

        return [blueprint]

    def migrations_path(self) -> Path:
        return Path(__file__).parent / "migrations"

    def metadata_tables(self):
        from kundo_service.models import Base

        return list(Base.metadata.tables.values())

    def nav_items(self):
        return [NavItem("service", "Tickets", "service.tickets", icon="ticket", order=60)]

    def dashboard_widgets(self):
        from kundo_service.views import render_widget

        return [DashboardWidget("tickets", "Tickets", render_widget, order=60)]
