"""The plugin host and SDK. Hubs and apps import `kundo.plugins.sdk`; Kundo's own code the names below.

Names resolve lazily (PEP 562), so importing the package loads nothing::

    from kundo.plugins import enable_plugin, loaded_plugins, enabled_plugin_ids
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "LoadedPlugin": "kundo.plugins.loader",
    "FIRST_PARTY": "kundo.plugins.loader",
    "loaded_plugins": "kundo.plugins.host",
    "enabled_plugin_ids": "kundo.plugins.host",
    "plugin_workflow_contributions": "kundo.plugins.host",
    "enabled_plugin_trees": "kundo.plugins.host",
    "health_summary": "kundo.plugins.host",
    "ENTITLEMENT_KEY": "kundo.plugins.host",
    "PluginError": "kundo.plugins.installs",
    "catalog": "kundo.plugins.installs",
    "enable_plugin": "kundo.plugins.installs",
    "disable_plugin": "kundo.plugins.installs",
    "update_plugin": "kundo.plugins.installs",
    "uninstall_plugin": "kundo.plugins.installs",
    "ApprovedPlugin": "kundo.plugins.models",
    "TenantPlugin": "kundo.plugins.models",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'kundo.plugins' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
