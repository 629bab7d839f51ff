"""The forecast page (placeholder until the forecast service lands)."""

from __future__ import annotations

from flask import render_template


def forecast_page():
    return render_template("sales/forecast/forecast.html")
