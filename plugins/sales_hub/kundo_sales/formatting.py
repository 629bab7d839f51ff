"""Template filters for money and percentages in the reader's language (products, quotes)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale


def _locale() -> str:
    return str(get_locale() or "en")


def money(value, currency: str = "EUR") -> str:
    return format_currency(Decimal(value or 0), currency or "EUR", locale=_locale())


def percent(value) -> str:
    number = Decimal(value or 0)
    return format_decimal(number.normalize() if number == number.to_integral() else number, locale=_locale()) + " %"


def quantity(value) -> str:
    number = Decimal(value or 0)
    return format_decimal(number.normalize() if number == number.to_integral() else number, locale=_locale())


def register_filters(blueprint) -> None:
    blueprint.add_app_template_filter(money, "sales_money")
    blueprint.add_app_template_filter(percent, "sales_percent")
    blueprint.add_app_template_filter(quantity, "sales_quantity")
