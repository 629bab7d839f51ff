"""API: pipelines (filled in below)."""

from __future__ import annotations

from flask_smorest import Blueprint


def build_blueprint() -> Blueprint:
    return Blueprint("sales_pipelines", __name__, description="Sales Hub: pipelines")
