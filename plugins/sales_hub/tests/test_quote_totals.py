"""Quote arithmetic: line discounts, an overall discount, VAT per rate on the discounted sums, half-up cents."""

from __future__ import annotations

from decimal import Decimal

from kundo_sales.quotes.totals import LineInput, compute_totals


def test_mixed_rates_with_line_and_total_discounts():
    totals = compute_totals([
        LineInput(Decimal("2"), Decimal("1499.00"), Decimal("19"), Decimal("10")),   # 2998.00 − 10 % = 2698.20
        LineInput(Decimal("3"), Decimal("19.99"), Decimal("7")),               # 59.97
        LineInput(Decimal("1.5"), Decimal("333.33"), Decimal("19")),           # 499.995 → 500.00 (half up)
    ], discount_percent=Decimal("5"))
    assert totals.line_nets == [Decimal("2698.20"), Decimal("59.97"), Decimal("500.00")]
    assert totals.subtotal == Decimal("3258.17")
    by_rate = {r.rate: (r.lines_net, r.discount, r.net, r.tax) for r in totals.by_rate}
    # 19 %: 3198.20 − 159.91 = 3038.29, VAT 577.2751 → 577.28; 7 %: 59.97 − 3.00 (2.9985) = 56.97, VAT 3.9879 → 3.99
    assert by_rate == {Decimal("19.00"): (Decimal("3198.20"), Decimal("159.91"), Decimal("3038.29"), Decimal("577.28")),
                       Decimal("7.00"): (Decimal("59.97"), Decimal("3.00"), Decimal("56.97"), Decimal("3.99"))}
    assert [r.rate for r in totals.by_rate] == [Decimal("19.00"), Decimal("7.00")]
    assert (totals.discount, totals.net, totals.tax, totals.gross) == (
        Decimal("162.91"), Decimal("3095.26"), Decimal("581.27"), Decimal("3676.53"))


def test_vat_is_computed_per_rate_not_per_line():
    # Five lines of 0.12 at 19 %: per line 0.0228 → 0.02 (0.10 in all); once on the sum 0.60 → 0.114 → 0.11.
    totals = compute_totals([LineInput(Decimal("1"), Decimal("0.12"), Decimal("19"))] * 5)
    assert (totals.net, totals.tax, totals.gross) == (Decimal("0.60"), Decimal("0.11"), Decimal("0.71"))


def test_zero_rate_free_discount_and_empty_quote():
    assert compute_totals([]).gross == Decimal("0.00")
    totals = compute_totals([LineInput(Decimal("1"), Decimal("100"), Decimal("0"), Decimal("100")),
                             LineInput(Decimal("4"), Decimal("2.50"), Decimal("0"))])
    assert (totals.net, totals.tax, totals.gross) == (Decimal("10.00"), Decimal("0.00"), Decimal("10.00"))
