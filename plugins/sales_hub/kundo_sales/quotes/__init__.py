"""Quotes on a deal: lines, totals by tax rate, gap-free numbers, PDF, e-mail and the buyer's signed link."""
