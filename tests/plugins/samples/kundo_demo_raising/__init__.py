"""Demo Raising: every per-request and per-event hook raises."""

from flask import Blueprint

from kundo.plugins.sdk import DashboardWidget, EventHandler, Plugin, load_manifest

pages = Blueprint("demo_raising", __name__)


@pages.get("/")
def index():
    return "raising plugin page"


def explode(session, event):
    raise RuntimeError("demo_raising handler exploded")


def broken_widget(session, tenant):
    session.execute(__import__("sqlalchemy").text("SELECT * FROM no_such_table"))
    return "never"


class DemoRaising(Plugin):
    manifest = load_manifest({"id": "demo_raising", "name": "Demo Raising", "version": "0.1.0",
                              "publisher": "Demo Publisher", "summary": "Raises in every hook."})

    def blueprints(self):
        return [pages]

    def nav_items(self):
        raise RuntimeError("demo_raising nav exploded")

    def dashboard_widgets(self):
        return [DashboardWidget("broken", "Broken", broken_widget)]

    def event_handlers(self):
        return [EventHandler("contact.created", explode, name="explode")]
