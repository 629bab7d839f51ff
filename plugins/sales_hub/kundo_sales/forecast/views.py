"""Forecast and metrics pages (filled in by the forecast feature)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import func, select

from kundo.platform.auth.session import login_required
from kundo_sales.deals.models import Deal


def register(blueprint) -> None:
    blueprint.add_url_rule("/forecast", "forecast", forecast, methods=["GET", "POST"])


@login_required
def forecast():
    from kundo_sales.forecast.pages import forecast_page

    return forecast_page()


def render_widget(session, tenant) -> str:  # noqa: ARG001 - the SDK's widget signature
    """The dashboard card: open deals, linking to the board."""
    count = session.scalar(select(func.count()).select_from(Deal).where(Deal.status == "open")) or 0
    return (f'<span class="stat-value">{count}</span>'
            f'<a class="small" href="{escape(url_for("sales.board"))}">{escape(_("Open the board"))} →</a>')
