"""A quote's arithmetic, in Decimal with commercial rounding (half up, to the cent).

Order of operations, as German invoices expect it:

1. each line: quantity × unit price, less the line's discount, rounded to the cent;
2. lines are summed per VAT rate, and the quote's overall discount is taken off each
   rate's sum (rounded per rate), so the discount lowers the tax of every rate correctly;
3. VAT is computed once per rate on the discounted sum (not per line, which would add up
   rounding differences), and gross = net + VAT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal = Decimal("0")


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal
    lines_net: Decimal  # the rate's lines before the overall discount
    discount: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    line_nets: list[Decimal]
    subtotal: Decimal  # all lines, before the overall discount
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    by_rate: list[RateTotal] = field(default_factory=list)


def line_net(line: LineInput) -> Decimal:
    gross_amount = Decimal(line.quantity) * Decimal(line.unit_price)
    return money(gross_amount * (HUNDRED - Decimal(line.discount_percent)) / HUNDRED)


def compute_totals(lines: Iterable[LineInput], discount_percent: Decimal = Decimal("0")) -> Totals:
    lines = list(lines)
    nets = [line_net(line) for line in lines]
    per_rate: dict[Decimal, Decimal] = {}
    for line, net in zip(lines, nets, strict=True):
        rate = Decimal(line.tax_rate).quantize(CENT)
        per_rate[rate] = per_rate.get(rate, Decimal("0")) + net
    rates = []
    for rate in sorted(per_rate, reverse=True):
        base = per_rate[rate]
        discount = money(base * Decimal(discount_percent) / HUNDRED)
        net = base - discount
        rates.append(RateTotal(rate, base, discount, net, money(net * rate / HUNDRED)))
    net = sum((r.net for r in rates), Decimal("0.00"))
    tax = sum((r.tax for r in rates), Decimal("0.00"))
    return Totals(
        line_nets=nets, subtotal=sum(nets, Decimal("0.00")), discount=sum((r.discount for r in rates), Decimal("0.00")),
        net=net, tax=tax, gross=net + tax, by_rate=rates,
    )
