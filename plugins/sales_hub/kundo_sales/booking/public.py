"""The visitor's pages: free slots of a member's booking page, booking one, and managing it by signed link.

No sign-in. Booking is rate-limited per address and every form carries a CSRF token.
The manage link (in the confirmation mail) is signed; it cancels or moves the meeting
until it starts.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from babel.dates import format_date, format_time
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kundo.platform.auth.models import User
from kundo.platform.clock import now
from kundo.platform.db import db
from kundo.platform.security import limiter
from kundo.tenants.resolution import current_tenant, current_tenant_db
from kundo_sales.booking import service
from kundo_sales.booking.mails import manage_url
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.signing import LinkExpired, LinkInvalid, read_token
from kundo_sales.workspace import workspace_zone

LINK_MAX_AGE_DAYS = 400
DAYS_SHOWN = 6


def register(blueprint) -> None:
    blueprint.add_url_rule("/book/<slug>", "book", book_page, methods=["GET", "POST"])
    blueprint.add_url_rule("/meetings/<token>", "manage_meeting", manage, methods=["GET", "POST"])


def _limit() -> str:
    return current_app.config.get("KUNDO_SALES_BOOKING_LIMIT", "10 per minute")


def _grouped(session, slots: list[datetime]) -> OrderedDict:
    zone, locale = workspace_zone(session), str(get_locale() or "en")
    days: OrderedDict = OrderedDict()
    for start in slots:
        local = start.astimezone(zone)
        key = format_date(local.date(), "EEEE, d MMMM", locale=locale)
        days.setdefault(key, []).append((start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ"),
                                         format_time(local, "short", locale=locale)))
    return days


def _start(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _first_day(session):
    try:
        return datetime.strptime(request.args.get("from", ""), "%Y-%m-%d").date()
    except ValueError:
        return None


@limiter.limit(_limit, methods=["POST"], error_message=lambda: _("Too many tries. Wait a minute."))
def book_page(slug: str):
    session = current_tenant_db()
    try:
        page = service.page_by_slug(session, slug)
    except SalesNotFound:
        abort(404)
    host = db.session.get(User, page.user_id)
    errors: dict[str, str] = {}
    form = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("start", "name", "email", "note")}
        start = _start(form["start"])
        if start is None:
            errors["start"] = _("Pick a time.")
        else:
            try:
                meeting = service.book(session, slug, start=start, name=form["name"], email=form["email"],
                                       note=form["note"], language=str(get_locale() or "en"),
                                       host_name=host.name if host else "", host_email=host.email if host else "")
            except SalesValidationError as error:
                session.rollback()
                errors = {field: " ".join(messages) for field, messages in error.errors.items()}
            else:
                session.commit()
                return redirect(manage_url(current_tenant().slug, current_tenant().id, meeting) + "?booked=1", 303)
        page = service.page_by_slug(session, slug)
    first_day = _first_day(session)
    slots = service.open_slots(session, page, first_day=first_day, days=DAYS_SHOWN)
    zone = workspace_zone(session)
    start_day = first_day or now().astimezone(zone).date()
    return render_template("sales/booking/public.html", page=page, host=host, days=_grouped(session, slots),
                           errors=errors, form=form, zone=zone,
                           next_from=(start_day + timedelta(days=DAYS_SHOWN + 1)).isoformat()), \
        400 if errors else 200


def _meeting_of(token: str):
    tenant = current_tenant()
    try:
        meeting_id, key = read_token("meeting", token, tenant_id=tenant.id,
                                     max_age_seconds=LINK_MAX_AGE_DAYS * 86400)
    except LinkExpired:
        abort(410, description=_("This link has expired."))
    except LinkInvalid:
        abort(404)
    session = current_tenant_db()
    try:
        meeting = service.get_meeting(session, meeting_id)
    except SalesNotFound:
        abort(404)
    if meeting.link_key != key:
        abort(404)
    return session, meeting


@limiter.limit(_limit, methods=["POST"], error_message=lambda: _("Too many tries. Wait a minute."))
def manage(token: str):
    session, meeting = _meeting_of(token)
    page = session.get(service.BookingPage, meeting.booking_page_id)
    if request.method == "POST":
        action = request.form.get("action")
        try:
            service.get_meeting(session, meeting.id, lock=True)
            if action == "cancel":
                service.cancel(session, meeting, by="visitor", reason=request.form.get("reason"))
                message = _("Your meeting is cancelled. We have let %(name)s know.", name=_host_name(meeting))
            elif action == "reschedule":
                start = _start(request.form.get("start", ""))
                if start is None:
                    raise SalesValidationError({"start": [_("Pick a time.")]})
                service.reschedule(session, meeting, start, by="visitor")
                message = _("Your meeting is moved. A new invitation is on its way.")
            else:
                abort(400)
        except SalesValidationError as error:
            session.rollback()
            flash(" ".join(m for messages in error.errors.values() for m in messages), "error")
        else:
            session.commit()
            flash(message, "success")
        return redirect(url_for("sales.manage_meeting", token=token), 303)
    zone = workspace_zone(session)
    slots = []
    if meeting.status == "confirmed" and page is not None:
        slots = service.open_slots(session, page, days=DAYS_SHOWN, exclude_id=meeting.id)
    locale = str(get_locale() or "en")
    local = meeting.starts_at.astimezone(zone)
    return render_template("sales/booking/manage.html", meeting=meeting, page=page, token=token,
                           host_name=_host_name(meeting), days=_grouped(session, slots), zone=zone,
                           when=format_date(local.date(), "full", locale=locale) + ", "
                           + format_time(local, "short", locale=locale),
                           booked=request.args.get("booked") == "1")


def _host_name(meeting) -> str:
    host = db.session.get(User, meeting.host_user_id)
    return host.name if host else ""
