"""Demo Hidden: installed but never approved; importing it would be a bug of the host."""

import os

os.environ["KUNDO_DEMO_HIDDEN_IMPORTED"] = "1"

from kundo.plugins.sdk import Plugin, load_manifest  # noqa: E402


class DemoHidden(Plugin):
    manifest = load_manifest({"id": "demo_hidden", "name": "Demo Hidden", "version": "0.1.0",
                              "publisher": "Demo Publisher", "summary": "Never approved."})
