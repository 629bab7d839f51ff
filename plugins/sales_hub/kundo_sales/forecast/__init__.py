"""Forecast, targets, sales metrics and per-deal insights."""
