"""The hub's API blueprints, mounted by the host under /api/v1/apps/sales/."""

from __future__ import annotations


def build_api_blueprints() -> list:
    from kundo_sales.deals.api import build_blueprint as deals
    from kundo_sales.forecast.api import build_blueprint as forecast
    from kundo_sales.pipelines.api import build_blueprint as pipelines

    return [pipelines(), deals(), forecast()]
