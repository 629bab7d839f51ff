"""The meeting mails (confirmation, change, cancellation, reminder) with the ICS file, sent by durable timers.

The handlers look at the meeting as it is when they fire: a mail scheduled for a
sequence that has since changed, or a reminder for a start that has moved or a meeting
that was cancelled, is dropped — the newer timer tells the current story.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_date, format_time
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundo.platform.auth.models import User
from kundo.platform.clock import now
from kundo.platform.db import db
from kundo.platform.jobs import register_timer_handler
from kundo.platform.mail.service import Attachment, send_mail
from kundo_sales.booking.ics import ics_content_type, meeting_ics
from kundo_sales.booking.models import BookingPage, Meeting
from kundo_sales.booking.service import MAIL_TIMER, REMINDER_TIMER
from kundo_sales.signing import make_token
from kundo_sales.workspace import workspace_zone

#: Where a meeting's visitor manages it (the public blueprint's route).
MANAGE_PATH = "/apps/sales/meetings/{token}"


def init_app(app: Flask) -> None:
    register_timer_handler(app, MAIL_TIMER, send_meeting_mail)
    register_timer_handler(app, REMINDER_TIMER, send_reminder)


def manage_url(slug: str, tenant_id: int, meeting: Meeting) -> str:
    token = make_token("meeting", tenant_id, meeting.id, meeting.link_key)
    return current_app.config["KUNDO"].workspace_url(slug) + MANAGE_PATH.format(token=token)


def _host(meeting: Meeting) -> User | None:
    return db.session.get(User, meeting.host_user_id)


def _ics(session: Session, meeting: Meeting, page: BookingPage, host: User | None, cancelled: bool) -> Attachment:
    scope = session.scope
    data = meeting_ics(
        uid=f"meeting-{scope.tenant_id}-{meeting.id}@{current_app.config['KUNDO'].domain.split(':')[0]}",
        sequence=meeting.sequence, starts_at=meeting.starts_at, ends_at=meeting.ends_at,
        summary=f"{page.title} · {meeting.visitor_name}", description=meeting.note or "",
        location=page.location, organizer=(host.name if host else scope.slug, host.email if host else
                                           current_app.config["KUNDO"].mail_sender),
        attendee=(meeting.visitor_name, meeting.visitor_email), stamp=now(), cancelled=cancelled)
    return Attachment("invite.ics" if not cancelled else "cancel.ics", ics_content_type(cancelled), data)


def _when(session: Session, meeting: Meeting, locale: str) -> str:
    zone = workspace_zone(session)
    local = meeting.starts_at.astimezone(zone)
    return f"{format_date(local.date(), 'full', locale=locale)}, {format_time(local, 'short', locale=locale)} " \
        f"({zone.key})"


def send_meeting_mail(session: Session, payload: dict, timer) -> None:  # noqa: ARG001 - timer handler signature
    meeting = session.get(Meeting, payload["meeting_id"])
    if meeting is None or meeting.sequence != payload["sequence"]:
        return
    page = session.get(BookingPage, meeting.booking_page_id)
    host = _host(meeting)
    kind, to_visitor = payload["kind"], payload["to"] == "visitor"
    if not to_visitor and host is None:
        return
    locale = meeting.language if to_visitor else (host.locale or meeting.language or "en")
    cancelled = kind == "cancelled"
    with force_locale(locale):
        when = _when(session, meeting, locale)
        other = (host.name if host else "") if to_visitor else f"{meeting.visitor_name} <{meeting.visitor_email}>"
        subject = {
            "confirmed": _("Confirmed: %(title)s on %(when)s", title=page.title, when=when),
            "rescheduled": _("Moved: %(title)s, now on %(when)s", title=page.title, when=when),
            "cancelled": _("Cancelled: %(title)s on %(when)s", title=page.title, when=when),
        }[kind]
        lines = [subject, _("With: %(name)s", name=other)]
        if page.location:
            lines.append(_("Where: %(location)s", location=page.location))
        if meeting.note and not to_visitor:
            lines.append(_("Note from %(name)s: %(note)s", name=meeting.visitor_name, note=meeting.note))
        if not cancelled:
            lines.append(_("The attached calendar file adds the meeting to your calendar."))
            if to_visitor:
                scope = session.scope
                lines.append(_("Need to cancel or move it? %(link)s",
                               link=manage_url(scope.slug, scope.tenant_id, meeting)))
        send_mail(meeting.visitor_email if to_visitor else host.email, subject[:300], "\n\n".join(lines),
                  attachments=[_ics(session, meeting, page, host, cancelled)])
    db.session.commit()


def send_reminder(session: Session, payload: dict, timer) -> None:  # noqa: ARG001 - timer handler signature
    meeting = session.get(Meeting, payload["meeting_id"])
    if meeting is None or meeting.status != "confirmed":
        return
    if meeting.starts_at.astimezone(UTC) != datetime.fromisoformat(payload["starts_at"]).astimezone(UTC):
        return  # moved; the timer of the new start reminds
    page = session.get(BookingPage, meeting.booking_page_id)
    host = _host(meeting)
    recipients = [(meeting.visitor_email, meeting.language, host.name if host else "")]
    if host is not None:
        recipients.append((host.email, host.locale or "en", meeting.visitor_name))
    for address, locale, other in recipients:
        with force_locale(locale):
            when = _when(session, meeting, locale)
            subject = _("Reminder: %(title)s on %(when)s", title=page.title, when=when)
            body = "\n\n".join([subject, _("With: %(name)s", name=other)]
                               + ([_("Where: %(location)s", location=page.location)] if page.location else []))
            send_mail(address, subject[:300], body)
    db.session.commit()
