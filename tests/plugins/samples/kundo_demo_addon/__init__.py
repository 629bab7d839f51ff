"""Demo Add-on: needs Demo Notes, reads contacts, and is paid."""

from kundo.plugins.sdk import Plugin, load_manifest


class DemoAddon(Plugin):
    manifest = load_manifest({"id": "demo_addon", "name": "Demo Add-on", "version": "0.1.0",
                              "publisher": "Demo Publisher", "summary": "Builds on Demo Notes.",
                              "requires": ["crm", "demo_notes"], "permissions": ["contacts:read"],
                              "price": {"model": "monthly", "amount_cents": 900}})
