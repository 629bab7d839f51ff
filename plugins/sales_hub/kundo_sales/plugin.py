"""The entry point (group `kundo.plugins`, name `sales`): what the Sales Hub contributes."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from kundo.plugins.sdk import DashboardWidget, NavItem, Plugin, load_manifest

#: The manifest stays plain text; listing its texts here puts them in the catalogue,
#: so Hubs & apps shows a first-party hub's summary and description in German.
TRANSLATED = (
    _l("Pipelines, quotes and forecasts your team actually keeps up to date."),
    _l("Set up the pipelines your deals move through. Deals, quotes and forecasts build on them."),
    _l("Deals"), _l("Forecast"), _l("Pipelines"), _l("Open deals"),
    _l("Deal created"), _l("Deal moved to another stage"), _l("Deal won"), _l("Deal lost"),
    _l("Quotes"), _l("Products"), _l("Booking page"),
)


class SalesHub(Plugin):
    manifest = load_manifest({
        "id": "sales",
        "name": "Sales Hub",
        "version": "0.1.0",
        "publisher": "Kundo",
        "summary": "Pipelines, quotes and forecasts your team actually keeps up to date.",
        "description": "Set up the pipelines your deals move through. Deals, quotes and forecasts build on them.",
        "categories": ["sales"],
        "icon": "chart",
        "requires": [],
        "permissions": ["contacts:read", "contacts:write", "companies:read", "timeline:write", "mail:send"],
        "first_party": True,
    })

    def blueprints(self):
        from kundo_sales.views import build_blueprint

        return [build_blueprint()]

    def api_blueprints(self):
        from kundo_sales.api import build_api_blueprints

        return build_api_blueprints()

    def init_app(self, app) -> None:
        from kundo_sales.booking import mails

        mails.init_app(app)  # meeting confirmations and reminders (durable timers)

    def migrations_path(self) -> Path:
        return Path(__file__).parent / "migrations"

    def metadata_tables(self):
        from kundo_sales.models import all_tables

        return all_tables()

    def nav_items(self):
        return [
            NavItem("sales", "Deals", "sales.board", icon="chart", order=40),
            NavItem("sales_forecast", "Forecast", "sales.forecast", icon="chart", order=41),
            NavItem("sales_quotes", "Quotes", "sales.quotes", icon="note", order=42),
            NavItem("sales_products", "Products", "sales.products", icon="tag", order=43),
            NavItem("sales_booking", "Booking page", "sales.booking", icon="calendar", order=44),
            NavItem("sales_pipelines", "Pipelines", "sales.pipelines", icon="chart", order=800, section="settings"),
        ]

    def dashboard_widgets(self):
        from kundo_sales.views import render_widget

        return [DashboardWidget("pipelines", "Open deals", render_widget, order=40)]

    def workflow_triggers(self):
        from kundo_sales.deals.workflows import TRIGGERS

        return list(TRIGGERS)
