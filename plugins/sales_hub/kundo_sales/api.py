"""The hub's API blueprints, mounted by the host under /api/v1/apps/sales/."""

from __future__ import annotations


def build_api_blueprints() -> list:
    from kundo_sales.booking.api import build_blueprint as booking
    from kundo_sales.deals.api import build_blueprint as deals
    from kundo_sales.forecast.api import build_blueprint as forecast
    from kundo_sales.pipelines.api import build_blueprint as pipelines
    from kundo_sales.products.api import build_blueprint as products
    from kundo_sales.quotes.api import build_blueprint as quotes

    return [pipelines(), deals(), forecast(), products(), quotes(), booking()]
