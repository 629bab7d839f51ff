"""Booking pages and meetings: settings, free slots, booking, cancelling and moving — the one way in.

Double booking is impossible twice over: `book` and `reschedule` lock the host's booking
page row (SELECT … FOR UPDATE) before checking the slot against the meetings already
booked, so two visitors racing for overlapping slots queue up and the second sees the
first's meeting; and a partial unique index refuses a second confirmed meeting of the
same host at the same start even for a writer that skipped the lock.

Everything a booking sets off is written in the same transaction: the matched or new
contact, the meeting on the timeline, the confirmation mails (durable timers due now, so
they go out once the booking commits and never for one that rolled back) and the reminder
timer before the meeting. Cancelling or moving cancels the reminder, frees the slot and
mails both sides again.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundo.crm import log_activity, match_contact_by_email
from kundo.platform.clock import now
from kundo.platform.events import emit_event
from kundo.platform.jobs import cancel_timers, schedule_timer
from kundo_sales.booking.models import BookingPage, Meeting
from kundo_sales.booking.slots import WEEKDAYS, Rules, free_slots, parse_time
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.signing import new_link_key
from kundo_sales.workspace import workspace_zone

MAIL_TIMER = "sales.meeting_mail"
REMINDER_TIMER = "sales.meeting_reminder"
DEFAULT_AVAILABILITY = {day: [["09:00", "17:00"]] for day in ("1", "2", "3", "4", "5")}
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,58}[a-z0-9])$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
LIMITS = {"duration_minutes": (5, 480), "buffer_minutes": (0, 240), "horizon_days": (1, 365),
          "notice_minutes": (0, 60 * 24 * 14), "reminder_minutes": (0, 60 * 24 * 7)}
PAGE_FIELDS = ("slug", "title", "description", "location", "availability", "active", *LIMITS)


# -- pages -------------------------------------------------------------------------------------------------------------

def _slugify(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue",
                                                                           "ß": "ss"}))).strip("-")[:40]
    return f"{base or 'meet'}-{secrets.token_hex(2)}"


def page_of_user(session: Session, user_id: int) -> BookingPage | None:
    return session.scalar(select(BookingPage).where(BookingPage.user_id == user_id))


def ensure_page(session: Session, user_id: int, user_name: str) -> BookingPage:
    """The member's booking page, made with weekday office hours the first time it is asked for."""
    page = page_of_user(session, user_id)
    if page is None:
        moment = now()
        page = BookingPage(user_id=user_id, slug=_slugify(user_name), title=_("Meeting with %(name)s", name=user_name),
                           availability=DEFAULT_AVAILABILITY, duration_minutes=30, buffer_minutes=10,
                           horizon_days=30, notice_minutes=120, reminder_minutes=60, active=True,
                           created_at=moment, updated_at=moment)
        session.add(page)
        session.flush()
    return page


def page_by_slug(session: Session, slug: str, *, lock: bool = False) -> BookingPage:
    query = select(BookingPage).where(BookingPage.slug == slug, BookingPage.active.is_(True))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    page = session.scalar(query)
    if page is None:
        raise SalesNotFound(_("There is no booking page at this address."))
    return page


def clean_availability(value, errors: dict) -> dict:
    """{"1": [["09:00", "12:00"], ["13:00", "17:00"]], …}; windows must be in order and not overlap."""
    if not isinstance(value, dict):
        errors.setdefault("availability", []).append(_("Give the hours per weekday, 1 (Monday) to 7 (Sunday)."))
        return {}
    clean: dict[str, list[list[str]]] = {}
    for day, windows in value.items():
        if str(day) not in WEEKDAYS or not isinstance(windows, list) or len(windows) > 6:
            errors.setdefault("availability", []).append(
                _("Give the hours per weekday, 1 (Monday) to 7 (Sunday)."))
            continue
        previous_end = None
        for window in windows:
            if (not isinstance(window, list | tuple) or len(window) != 2
                    or not all(isinstance(t, str) and TIME.match(t) for t in window)
                    or parse_time(window[0]) >= parse_time(window[1])
                    or (previous_end is not None and parse_time(window[0]) < previous_end)):
                errors.setdefault("availability", []).append(
                    _("Each window runs from an earlier to a later time (HH:MM), in order and without overlaps."))
                break
            previous_end = parse_time(window[1])
            clean.setdefault(str(day), []).append([window[0], window[1]])
    return clean


def update_page(session: Session, page: BookingPage, changes: dict) -> BookingPage:
    unknown = set(changes) - set(PAGE_FIELDS)
    if unknown:
        raise TypeError(f"update_page() cannot change: {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for field, (low, high) in LIMITS.items():
        if field in changes:
            try:
                number = int(changes[field])
            except (TypeError, ValueError):
                number = None
            if number is None or not low <= number <= high:
                errors[field] = [_("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)]
            clean[field] = number
    if "slug" in changes:
        slug = str(changes["slug"] or "").strip().lower()
        if not SLUG.match(slug):
            errors["slug"] = [_("Use 3–60 lower-case letters, digits and dashes.")]
        elif session.scalar(select(BookingPage.id).where(BookingPage.slug == slug, BookingPage.id != page.id)):
            errors["slug"] = [_("Another booking page uses this address.")]
        clean["slug"] = slug
    if "title" in changes:
        title = " ".join(str(changes["title"] or "").split())
        if not title or len(title) > 200:
            errors["title"] = [_("Give the page a title of at most 200 characters.")]
        clean["title"] = title
    for field, limit in (("description", 2000), ("location", 500)):
        if field in changes:
            value = str(changes[field] or "").strip() or None
            if value and len(value) > limit:
                errors[field] = [_("Use at most %(limit)s characters.", limit=limit)]
            clean[field] = value
    if "availability" in changes:
        clean["availability"] = clean_availability(changes["availability"], errors)
    if "active" in changes:
        clean["active"] = bool(changes["active"])
    if errors:
        raise SalesValidationError(errors)
    for field, value in clean.items():
        setattr(page, field, value)
    page.updated_at = now()
    session.flush()
    return page


# -- slots -------------------------------------------------------------------------------------------------------------

def rules_of(session: Session, page: BookingPage) -> Rules:
    return Rules(availability=page.availability or {}, zone=workspace_zone(session),
                 duration=timedelta(minutes=page.duration_minutes), buffer=timedelta(minutes=page.buffer_minutes),
                 horizon_days=page.horizon_days, notice=timedelta(minutes=page.notice_minutes))


def busy_times(session: Session, host_user_id: int, start: datetime, end: datetime,
               exclude_id: int | None = None) -> list[tuple[datetime, datetime]]:
    query = select(Meeting.starts_at, Meeting.ends_at).where(
        Meeting.host_user_id == host_user_id, Meeting.status == "confirmed",
        Meeting.ends_at > start, Meeting.starts_at < end)
    if exclude_id is not None:
        query = query.where(Meeting.id != exclude_id)
    return [(row.starts_at, row.ends_at) for row in session.execute(query)]


def open_slots(session: Session, page: BookingPage, *, first_day: date | None = None, days: int | None = None,
               exclude_id: int | None = None) -> list[datetime]:
    rules = rules_of(session, page)
    moment = now()
    window_end = moment + timedelta(days=page.horizon_days + 2)
    busy = busy_times(session, page.user_id, moment - timedelta(days=1), window_end, exclude_id)
    return free_slots(rules, moment, busy, first_day=first_day, days=days)


def _check_slot(session: Session, page: BookingPage, start: datetime, exclude_id: int | None = None) -> datetime:
    start = start.astimezone(UTC) if start.tzinfo else start.replace(tzinfo=UTC)
    rules = rules_of(session, page)
    local_day = start.astimezone(rules.zone).date()
    if start not in free_slots(rules, now(), busy_times(session, page.user_id, start - timedelta(days=1),
                                                        start + timedelta(days=1), exclude_id),
                               first_day=local_day, days=0):
        raise SalesValidationError({"start": [_("This time is no longer free. Please pick another one.")]})
    return start


# -- booking -----------------------------------------------------------------------------------------------------------

def _visitor(name, email, note, errors: dict) -> tuple[str, str, str | None]:
    name = " ".join(str(name or "").split())
    email = str(email or "").strip()
    note = str(note or "").strip() or None
    if not name or len(name) > 200:
        errors["name"] = [_("Tell us your name.")]
    if not EMAIL.match(email) or len(email) > 320:
        errors["email"] = [_("Enter your e-mail address, e.g. name@example.com.")]
    if note and len(note) > 2000:
        errors["note"] = [_("Use at most %(limit)s characters.", limit=2000)]
    return name, email, note


def book(session: Session, slug: str, *, start: datetime, name: str, email: str, note: str | None = None,
         language: str = "en", host_name: str = "", host_email: str = "") -> Meeting:
    """Book a free slot of the page `slug` for a visitor (see the module docstring)."""
    page = page_by_slug(session, slug, lock=True)
    errors: dict[str, list[str]] = {}
    name, email, note = _visitor(name, email, note, errors)
    if errors:
        raise SalesValidationError(errors)
    start = _check_slot(session, page, start)
    moment = now()
    meeting = Meeting(booking_page_id=page.id, host_user_id=page.user_id, starts_at=start,
                      ends_at=start + timedelta(minutes=page.duration_minutes), status="confirmed",
                      visitor_name=name, visitor_email=email, note=note, language=language if language in ("de", "en")
                      else "en", link_key=new_link_key(), sequence=0, created_at=moment, updated_at=moment)
    try:
        with session.begin_nested():
            session.add(meeting)
            session.flush()
    except IntegrityError as error:
        raise SalesValidationError({"start": [_("This time is no longer free. Please pick another one.")]}) from error
    first, _space, last = name.partition(" ")
    match = match_contact_by_email(session, email, defaults={"first_name": first, "last_name": last or None},
                                   source="sales:booking")
    meeting.contact_id = match.contact.id
    attendees = [email] + ([host_email] if host_email else [])
    activity = log_activity(
        session, "meeting", links=[("contact", match.contact.id), ("meeting", meeting.id)],
        occurred_at=meeting.starts_at, actor_id=page.user_id, subject=page.title, body=note, source="sales:booking",
        payload={"starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat(),
                 "attendees": attendees, **({"location": page.location} if page.location else {})})
    meeting.activity_id = activity.id
    session.flush()
    _schedule(session, meeting, page, "confirmed")
    emit_event(session, "meeting.booked", object_type="meeting", object_id=meeting.id, payload=meeting_payload(meeting))
    return meeting


def get_meeting(session: Session, meeting_id: int, *, lock: bool = False) -> Meeting:
    meeting = session.get(Meeting, meeting_id, with_for_update=lock or None)
    if meeting is None:
        raise SalesNotFound(_("There is no meeting with id %(id)s in this workspace.", id=meeting_id))
    return meeting


def _changeable(meeting: Meeting) -> None:
    if meeting.status != "confirmed":
        raise SalesValidationError({"status": [_("This meeting was cancelled.")]})
    if meeting.starts_at <= now():
        raise SalesValidationError({"status": [_("This meeting has already started.")]})


def cancel(session: Session, meeting: Meeting, *, by: str, reason: str | None = None) -> Meeting:
    """Cancel (by "visitor" or "host"): the slot is free again, the reminder is dropped, both sides are told."""
    page = session.get(BookingPage, meeting.booking_page_id, with_for_update=True)
    _changeable(meeting)
    cancel_timers(session, keys=[_reminder_key(meeting)])
    moment = now()
    meeting.status, meeting.cancelled_at, meeting.updated_at = "cancelled", moment, moment
    meeting.sequence += 1
    reason = (str(reason or "").strip() or None)
    if meeting.contact_id:
        log_activity(session, "system", links=[("contact", meeting.contact_id), ("meeting", meeting.id)],
                     occurred_at=moment, subject=_("Meeting on %(when)s cancelled", when=_stamp(meeting, session)),
                     body=reason, source="sales:booking",
                     payload={"kind": "meeting_cancelled", "meeting_id": meeting.id, "by": by})
    session.flush()
    _schedule(session, meeting, page, "cancelled")
    emit_event(session, "meeting.cancelled", object_type="meeting", object_id=meeting.id,
               payload={**meeting_payload(meeting), "by": by})
    return meeting


def reschedule(session: Session, meeting: Meeting, start: datetime, *, by: str) -> Meeting:
    """Move to another free slot of the same page; the old slot is freed, the reminder follows."""
    page = session.get(BookingPage, meeting.booking_page_id, with_for_update=True)
    _changeable(meeting)
    start = _check_slot(session, page, start, exclude_id=meeting.id)
    old = _stamp(meeting, session)
    cancel_timers(session, keys=[_reminder_key(meeting)])
    moment = now()
    meeting.starts_at, meeting.ends_at = start, start + timedelta(minutes=page.duration_minutes)
    meeting.sequence += 1
    meeting.updated_at = moment
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise SalesValidationError({"start": [_("This time is no longer free. Please pick another one.")]}) from error
    if meeting.contact_id:
        log_activity(session, "system", links=[("contact", meeting.contact_id), ("meeting", meeting.id)],
                     occurred_at=moment,
                     subject=_("Meeting moved from %(old)s to %(new)s", old=old, new=_stamp(meeting, session)),
                     source="sales:booking", payload={"kind": "meeting_rescheduled", "meeting_id": meeting.id,
                                                      "by": by, "starts_at": meeting.starts_at.isoformat()})
    _schedule(session, meeting, page, "rescheduled")
    emit_event(session, "meeting.rescheduled", object_type="meeting", object_id=meeting.id,
               payload={**meeting_payload(meeting), "by": by})
    return meeting


def upcoming_meetings(session: Session, host_user_id: int, limit: int = 50) -> list[Meeting]:
    return list(session.scalars(select(Meeting).where(
        Meeting.host_user_id == host_user_id, Meeting.status == "confirmed", Meeting.ends_at > now())
        .order_by(Meeting.starts_at).limit(limit)))


# -- timers ------------------------------------------------------------------------------------------------------------

def _reminder_key(meeting: Meeting) -> str:
    return f"meeting-reminder:{meeting.id}:{meeting.starts_at.astimezone(UTC).isoformat()}"


def _schedule(session: Session, meeting: Meeting, page: BookingPage, kind: str) -> None:
    """Mails to both sides (due now, sent after commit) and, for a live meeting, the reminder."""
    moment = now()
    for recipient in ("visitor", "host"):
        schedule_timer(session, handler=MAIL_TIMER, due_at=moment,
                       payload={"meeting_id": meeting.id, "kind": kind, "to": recipient, "sequence": meeting.sequence},
                       key=f"meeting-mail:{meeting.id}:{meeting.sequence}:{recipient}")
    if meeting.status == "confirmed":
        remind_at = meeting.starts_at - timedelta(minutes=page.reminder_minutes)
        if page.reminder_minutes and remind_at > moment:
            schedule_timer(session, handler=REMINDER_TIMER, due_at=remind_at,
                           payload={"meeting_id": meeting.id, "starts_at": meeting.starts_at.isoformat()},
                           key=_reminder_key(meeting))


def _stamp(meeting: Meeting, session: Session) -> str:
    return meeting.starts_at.astimezone(workspace_zone(session)).strftime("%Y-%m-%d %H:%M")


def meeting_payload(meeting: Meeting) -> dict:
    return {"id": meeting.id, "host_user_id": meeting.host_user_id, "contact_id": meeting.contact_id,
            "starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat(),
            "status": meeting.status}
