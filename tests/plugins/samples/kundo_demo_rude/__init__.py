"""Demo Rude: names its blueprint after someone else."""

from flask import Blueprint

from kundo.plugins.sdk import Plugin, load_manifest

pages = Blueprint("other", __name__)


@pages.get("/")
def index():
    return "should never be served"


class DemoRude(Plugin):
    manifest = load_manifest({"id": "demo_rude", "name": "Demo Rude", "version": "0.1.0",
                              "publisher": "Demo Publisher", "summary": "Breaks the naming rules."})

    def blueprints(self):
        return [pages]
