"""Extra panels on the deal page, contributed by other parts of the hub (e.g. quotes).

The deal page renders each panel's template in its right column with `deal` and
`panel_data` (what `context` returned) in scope. `context` is a "module:function" path,
imported when the page renders, so this list imports nothing itself::

    DealPanel("sales/quotes/_deal_panel.html", "kundo_sales.quotes.views:deal_panel_context")

where ``deal_panel_context(session, deal) -> dict``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class DealPanel:
    template: str
    context: str | None = None

    def data(self, session, deal) -> dict:
        if not self.context:
            return {}
        module, _, name = self.context.partition(":")
        return getattr(importlib.import_module(module), name)(session, deal)


#: Add a panel here (quotes: B).
DEAL_PANELS: tuple[DealPanel, ...] = (
    DealPanel("sales/quotes/_deal_panel.html", "kundo_sales.quotes.views:deal_panel_context"),
)
