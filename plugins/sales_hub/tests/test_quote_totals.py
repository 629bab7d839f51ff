"""Quote arithmetic: line discounts, an overall discount, VAT per rate on the discounted sums, half-up cents."""

from __future__ import annotations

from decimal import Decimal as D

from kundo_sales.quotes.totals import LineInput, compute_totals


def test_mixed_rates_with_line_and_total_discounts():
    totals = compute_totals([
        LineInput(D("2"), D("1499.00"), D("19"), D("10")),   # 2998.00 − 10 % = 2698.20
        LineInput(D("3"), D("19.99"), D("7")),               # 59.97
        LineInput(D("1.5"), D("333.33"), D("19")),           # 499.995 → 500.00 (half up)
    ], discount_percent=D("5"))
    assert totals.line_nets == [D("2698.20"), D("59.97"), D("500.00")]
    assert totals.subtotal == D("3258.17")
    by_rate = {r.rate: (r.lines_net, r.discount, r.net, r.tax) for r in totals.by_rate}
    # 19 %: 3198.20 − 159.91 = 3038.29, VAT 577.2751 → 577.28; 7 %: 59.97 − 3.00 (2.9985) = 56.97, VAT 3.9879 → 3.99
    assert by_rate == {D("19.00"): (D("3198.20"), D("159.91"), D("3038.29"), D("577.28")),
                       D("7.00"): (D("59.97"), D("3.00"), D("56.97"), D("3.99"))}
    assert [r.rate for r in totals.by_rate] == [D("19.00"), D("7.00")]
    assert (totals.discount, totals.net, totals.tax, totals.gross) == (
        D("162.91"), D("3095.26"), D("581.27"), D("3676.53"))


def test_vat_is_computed_per_rate_not_per_line():
    # Five lines of 0.12 at 19 %: per line 0.0228 → 0.02 (0.10 in all); once on the sum 0.60 → 0.114 → 0.11.
    totals = compute_totals([LineInput(D("1"), D("0.12"), D("19"))] * 5)
    assert (totals.net, totals.tax, totals.gross) == (D("0.60"), D("0.11"), D("0.71"))


def test_zero_rate_free_discount_and_empty_quote():
    assert compute_totals([]).gross == D("0.00")
    totals = compute_totals([LineInput(D("1"), D("100"), D("0"), D("100")), LineInput(D("4"), D("2.50"), D("0"))])
    assert (totals.net, totals.tax, totals.gross) == (D("10.00"), D("0.00"), D("10.00"))
