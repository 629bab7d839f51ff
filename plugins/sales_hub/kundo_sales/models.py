"""The Sales Hub's shared declarative base: its tables exist only in workspaces that enabled the hub.

Every feature package (pipelines, deals, forecast, products, quotes, booking) declares its
tables on this one `Base`, so the hub has a single metadata for the host's table checks
and uninstall. `all_tables()` imports each feature's models before reading it.
"""

from __future__ import annotations

import importlib

from kundo.plugins.sdk import plugin_model_base

Base = plugin_model_base("sales")

#: The modules that declare tables on `Base`; add yours here.
MODEL_MODULES = [
    "kundo_sales.pipelines.models",
    "kundo_sales.deals.models",
    "kundo_sales.forecast.models",
    "kundo_sales.products.models",
    "kundo_sales.quotes.models",
    "kundo_sales.booking.models",
]


def all_tables() -> list:
    """Every table of the hub (imports the model modules first, so none is missed)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return list(Base.metadata.tables.values())
