"""The product catalogue: what a quote's lines are picked from (name, SKU, net unit price, VAT rate)."""
