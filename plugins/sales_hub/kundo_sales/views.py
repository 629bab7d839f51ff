"""The Sales Hub's page blueprint "sales": one blueprint, routes and templates from each feature package.

Each feature (pipelines, deals, forecast, …) keeps its views and templates in its own
folder and adds its routes through `register(blueprint)`; the blueprint's template
loader looks in every feature's `templates/` folder.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from babel import Locale
from flask import Blueprint
from jinja2 import ChoiceLoader, FileSystemLoader

HERE = Path(__file__).parent
#: Feature packages with a views module exposing `register(blueprint)` and a templates/ folder.
FEATURES = ["pipelines", "deals", "forecast", "products", "quotes", "booking"]


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales", __name__, template_folder="templates", static_folder="static",
                          static_url_path="/static")
    blueprint.add_app_template_filter(sales_money, "sales_amount")
    blueprint.add_app_template_filter(dict_with, "dict_with")
    blueprint.add_app_template_filter(sales_month, "sales_month")
    blueprint.add_app_template_filter(dict_without, "dict_without")
    folders = [HERE / feature / "templates" for feature in FEATURES] + [HERE / "templates"]
    blueprint.jinja_loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders if folder.is_dir()])
    for feature in FEATURES:
        importlib.import_module(f"kundo_sales.{feature}.views").register(blueprint)
    return blueprint


def dict_with(args, **changes) -> dict:
    """Query arguments with some replaced (sort and page links keep the filters)."""
    merged = {key: value for key, value in (args.items() if hasattr(args, "items") else args)}
    merged.update({key: value for key, value in changes.items()})
    return merged


def dict_without(args, *keys) -> dict:
    return {key: value for key, value in args.items() if key not in keys}


def sales_month(value) -> str:
    """A month as "March 2026" / "März 2026"."""
    from babel.dates import format_date
    from flask_babel import get_locale

    return format_date(value, "LLLL yyyy", locale=str(get_locale() or "en")) if value else ""


def sales_money(amount, currency: str = "EUR", digits: bool = False) -> str:
    """An amount in the page's locale: 12.500 € in German, €12,500 in English (cents only when asked).

    A board renders hundreds of amounts: the locale is looked up once per call and the
    whole-unit patterns are parsed once per process.
    """
    from babel.numbers import format_currency
    from flask_babel import get_locale

    if amount is None:
        return ""
    locale = get_locale() or Locale.parse("en")
    if digits:
        return format_currency(amount, currency or "EUR", locale=locale, currency_digits=True)
    pattern = _money_pattern("#,##0\xa0¤" if locale.language == "de" else "¤#,##0")
    return pattern.apply(amount, locale, currency=currency or "EUR", currency_digits=False)


@lru_cache(maxsize=4)
def _money_pattern(pattern: str):
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


def render_widget(session, tenant) -> str:
    """The dashboard card (kept here for the plugin's import path)."""
    from kundo_sales.forecast.views import render_widget as render

    return render(session, tenant)
