"""CRM pages: contacts, companies, record pages, my tasks, import wizard, property settings.

Page handlers live in the feature folders (`kundo/crm/<feature>/views.py`) and are
attached to this one blueprint so URLs and templates stay in one namespace;
`load_pages` imports them once, when the app factory registers the blueprint.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime, format_time
from flask import Blueprint
from flask_babel import get_locale

from kundo.crm.pages import zone

blueprint = Blueprint("crm_views", __name__, template_folder="templates")

#: Record ids are PostgreSQL bigints; a larger number in a URL is simply not found.
ID = "int(max=9223372036854775807)"


def load_pages() -> None:
    from kundo.crm.companies import views as _companies  # noqa: F401
    from kundo.crm.contacts import views as _contacts  # noqa: F401
    from kundo.crm.gdpr import views as _gdpr  # noqa: F401
    from kundo.crm.imports import views as _imports  # noqa: F401
    from kundo.crm.lists import views as _lists  # noqa: F401
    from kundo.crm.properties import views as _properties  # noqa: F401
    from kundo.crm.tasks import views as _tasks  # noqa: F401
    from kundo.crm.timeline import views as _timeline  # noqa: F401


@blueprint.app_template_filter("crm_when")
def crm_when(value: datetime | None, format: str = "medium") -> str:  # noqa: A002 - Babel's name
    """A moment in the workspace's time zone and the reader's language."""
    if value is None:
        return ""
    locale = str(get_locale() or "en")
    if format == "medium":  # Babel's medium time has seconds, which nobody needs on a timeline
        local = value.astimezone(zone())
        return f"{format_date(local.date(), 'medium', locale=locale)}, {format_time(local, 'short', locale=locale)}"
    return format_datetime(value, format=format, tzinfo=zone(), locale=locale)


@blueprint.app_template_filter("crm_day")
def crm_day(value: datetime | date | str | None, format: str = "medium") -> str:  # noqa: A002
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(zone()).date()
    return format_date(value, format=format, locale=str(get_locale() or "en"))


@blueprint.app_template_filter("crm_local_input")
def crm_local_input(value: datetime | None) -> str:
    """The value of a `datetime-local` input, in the workspace's time zone."""
    return value.astimezone(zone()).strftime("%Y-%m-%dT%H:%M") if value else ""
