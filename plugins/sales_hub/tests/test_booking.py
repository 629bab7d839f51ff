"""Meeting booking: slots across DST, buffers, booking → contact + timeline + ICS mails, no double booking,
reminders after moving the clock, cancel and reschedule by signed link."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from kundo_sales.booking import service
from kundo_sales.booking.ics import ics_content_type, meeting_ics
from kundo_sales.booking.models import Meeting
from kundo_sales.booking.slots import Rules, free_slots
from kundo_sales.errors import SalesValidationError
from sqlalchemy import select

from kundo.crm import find_contact_by_email, timeline_for
from kundo.platform.mail.service import Attachment, build_message
from kundo.testing.web import HostClient

BERLIN = ZoneInfo("Europe/Berlin")
ALL_DAY = {str(d): [["00:00", "24:00"]] for d in range(1, 8)}


def rules(availability, **kw):
    values = {"duration": timedelta(minutes=30), "buffer": timedelta(0), "horizon_days": 400,
              "notice": timedelta(0), **kw}
    return Rules(availability=availability, zone=BERLIN, **values)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_slots_follow_wall_clock_time_across_dst():
    mondays = rules({"1": [["09:00", "10:00"]]})
    before = utc(2026, 3, 20, 12)
    slots = free_slots(mondays, before, [], first_day=date(2026, 3, 23), days=7)
    assert slots == [utc(2026, 3, 23, 8), utc(2026, 3, 23, 8, 30), utc(2026, 3, 30, 7), utc(2026, 3, 30, 7, 30)]
    # Spring forward (29 March 2026): 02:00–03:00 does not exist, and is not offered.
    night = rules({"7": [["01:00", "04:00"]]})
    assert free_slots(night, before, [], first_day=date(2026, 3, 29), days=0) == [
        utc(2026, 3, 29, 0), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)]
    # Fall back (25 October 2026): 02:00–03:00 happens twice; each wall time is offered once.
    assert free_slots(night, utc(2026, 10, 1), [], first_day=date(2026, 10, 25), days=0) == [
        utc(2026, 10, 24, 23), utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 2), utc(2026, 10, 25, 2, 30)]


def test_busy_times_buffer_notice_and_horizon():
    weekday = rules({"1": [["09:00", "12:00"]]}, buffer=timedelta(minutes=10), notice=timedelta(hours=2),
                    horizon_days=10)
    busy = [(utc(2026, 3, 23, 9), utc(2026, 3, 23, 9, 30))]  # 10:00–10:30 Berlin
    now = utc(2026, 3, 23, 7, 15)  # 08:15 Berlin: notice excludes 09:00 and 09:30 … and 10:00 is busy
    slots = free_slots(weekday, now, busy, days=0)
    assert [s.astimezone(BERLIN).strftime("%H:%M") for s in slots] == ["11:00", "11:30"]
    assert free_slots(weekday, now, busy, first_day=date(2026, 4, 6), days=0) == [], "beyond the horizon"


def test_ics_is_rfc5545_and_attached_as_a_calendar_part():
    data = meeting_ics(uid="meeting-1-7@kundo.test", sequence=2, starts_at=utc(2026, 5, 4, 8),
                       ends_at=utc(2026, 5, 4, 8, 30), summary="Intro · Max", description="Line 1\nLine, two",
                       location="Berlin", organizer=("Olivia", "olivia@example.com"),
                       attendee=("Max", "max@example.org"), stamp=utc(2026, 5, 1))
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"]), event["DTSTART"].dt) == (
        "meeting-1-7@kundo.test", 2, utc(2026, 5, 4, 8))
    assert str(event["DESCRIPTION"]) == "Line 1\nLine, two"
    assert b"METHOD:REQUEST" in data and b"\r\n" in data
    message = build_message("k@kundo.test", "max@example.org", "Hi", "Body",
                            [Attachment("invite.ics", ics_content_type(), data)])
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invite.ics" and part.get_content().encode() .startswith(b"BEGIN:VCALENDAR")


def _page(ws, **changes):
    with ws.session() as session:
        page = service.ensure_page(session, ws.workspace.owner_id, "Olivia Owner")
        service.update_page(session, page, {"availability": ALL_DAY, "notice_minutes": 0, "buffer_minutes": 10,
                                            "reminder_minutes": 60, "location": "https://meet.example.com/o",
                                            **changes})
        return page.slug


def _slot(ws, slug, days_ahead=2):
    with ws.session() as session:
        page = service.page_by_slug(session, slug)
        return [s for s in service.open_slots(session, page) if s > datetime.now(UTC) + timedelta(days=days_ahead)][0]


def _mails(app, recipient):
    from kundo.platform.db import db
    from kundo.platform.mail.models import OutboxMail

    with app.app_context():
        return list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == recipient)
                                       .order_by(OutboxMail.id)))


@pytest.fixture
def clock_app(database_url):
    from kundo.platform.db import db
    from kundo.testing.fixtures import build_app
    from kundo.testing.jobs import stop_job_runner

    built = build_app(database_url)
    yield built
    stop_job_runner(built)
    with built.app_context():
        db.engine.dispose()


def test_booking_makes_contact_meeting_mails_and_a_reminder(sales_workspace, clock_app):
    from kundo.testing.jobs import move_clock, run_jobs

    ws = sales_workspace()
    slug = _page(ws)
    start = _slot(ws, slug)
    visitor = HostClient(clock_app.test_client(), ws.workspace.host)
    page = visitor.get(f"/apps/sales/book/{slug}")
    assert page.status_code == 200
    value = start.strftime("%Y-%m-%dT%H:%MZ")
    assert value in page.get_data(as_text=True)
    booked = visitor.submit(f"/apps/sales/book/{slug}", {"start": value, "name": "Max Mustermann",
                                                         "email": "max@mustermann-ag.de", "note": "Pricing"})
    assert booked.status_code == 303, booked.get_data(as_text=True)[:500]
    manage_path = booked.headers["Location"].split(ws.workspace.host, 1)[1].split("?")[0]
    assert value not in visitor.get(f"/apps/sales/book/{slug}").get_data(as_text=True), "the slot is taken"

    with ws.session() as session:
        contact = find_contact_by_email(session, "max@mustermann-ag.de")
        assert (contact.first_name, contact.last_name) == ("Max", "Mustermann")
        [activity] = timeline_for(session, "contact", contact.id, types=["meeting"]).activities
        assert activity.payload["starts_at"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
        assert activity.occurred_at == start

    run_jobs(clock_app)
    [to_visitor] = _mails(clock_app, "max@mustermann-ag.de")
    [to_host] = _mails(clock_app, ws.workspace.owner_email)
    for mail in (to_visitor, to_host):
        assert mail.subject.startswith("Confirmed:") and "invite.ics (text/calendar" in mail.body_text
    # The mail signs its own link (itsdangerous stamps the second it was made): compare the signed payload.
    assert manage_path.rsplit(".", 2)[0] in to_visitor.body_text, "the visitor gets the cancel/reschedule link"

    move_clock(clock_app, start - timedelta(minutes=59) - datetime.now(UTC))
    run_jobs(clock_app)
    assert [m.subject.split(":")[0] for m in _mails(clock_app, "max@mustermann-ag.de")] == ["Confirmed", "Reminder"]
    assert [m.subject.split(":")[0] for m in _mails(clock_app, ws.workspace.owner_email)] == ["Confirmed", "Reminder"]


def test_cancel_and_reschedule_by_signed_link_free_the_slot(sales_workspace, clock_app):
    from kundo.testing.jobs import move_clock, run_jobs

    ws = sales_workspace()
    slug = _page(ws)
    start = _slot(ws, slug)
    visitor = HostClient(clock_app.test_client(), ws.workspace.host)
    booked = visitor.submit(f"/apps/sales/book/{slug}", {"start": start.strftime("%Y-%m-%dT%H:%MZ"),
                                                         "name": "Eva", "email": "eva@example.org"})
    manage = booked.headers["Location"].split(ws.workspace.host, 1)[1].split("?")[0]
    assert visitor.get(manage[:-2] + "xx").status_code == 404, "forged"
    later = _slot(ws, slug, days_ahead=3)
    moved = visitor.submit(manage, {"action": "reschedule", "start": later.strftime("%Y-%m-%dT%H:%MZ")})
    assert moved.status_code == 303
    with ws.session() as session:
        meeting = session.scalars(select(Meeting).where(Meeting.visitor_email == "eva@example.org")).one()
        assert (meeting.starts_at, meeting.sequence) == (later, 1)
        page = service.page_by_slug(session, slug)
        assert start in service.open_slots(session, page), "the old slot is free again"
    visitor.submit(manage, {"action": "cancel", "reason": "Ill"})
    with ws.session() as session:
        meeting = session.scalars(select(Meeting).where(Meeting.visitor_email == "eva@example.org")).one()
        assert (meeting.status, meeting.sequence) == ("cancelled", 2)
        assert later in service.open_slots(session, service.page_by_slug(session, slug)), "cancel frees the slot"
    run_jobs(clock_app)
    subjects = [m.subject.split(":")[0] for m in _mails(clock_app, "eva@example.org")]
    assert subjects == ["Cancelled"], "mails of superseded versions are dropped, the newest is sent"
    assert "cancel.ics (text/calendar" in _mails(clock_app, "eva@example.org")[0].body_text
    move_clock(clock_app, later - datetime.now(UTC))
    run_jobs(clock_app)
    assert len(_mails(clock_app, "eva@example.org")) == 1, "no reminder for a cancelled meeting"


def test_double_booking_is_impossible_under_concurrency(sales_workspace):
    from kundo.tenants.session import tenant_session

    ws = sales_workspace()
    slug = _page(ws, buffer_minutes=0)
    start = _slot(ws, slug)
    overlapping = start + timedelta(minutes=15)  # not a slot itself, refused on its own
    count = 6
    barrier = threading.Barrier(count)
    results = []

    def book(n):
        try:
            with ws.app.app_context(), tenant_session(ws.tenant) as session:
                barrier.wait(timeout=20)
                service.book(session, slug, start=start, name=f"Visitor {n}", email=f"v{n}@example.org")
            results.append("booked")
        except SalesValidationError:
            results.append("refused")

    threads = [threading.Thread(target=book, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["booked"] + ["refused"] * (count - 1)
    with ws.session() as session:
        with pytest.raises(SalesValidationError):
            service.book(session, slug, start=overlapping, name="Late", email="late@example.org")
        assert session.scalar(select(Meeting.id).where(Meeting.status == "confirmed").limit(2).offset(1)) is None


def test_booking_settings_page_and_api(sales_workspace, sign_in, api_token, client):
    ws = sales_workspace()
    owner = sign_in(ws.workspace)
    page = owner.get("/apps/sales/booking")
    assert page.status_code == 200 and 'data-testid="booking-link"' in page.get_data(as_text=True)
    form = {"title": "Demo call", "slug": "olivia-demo", "duration_minutes": "45", "buffer_minutes": "15",
            "horizon_days": "14", "notice_minutes": "60", "reminder_minutes": "30", "active": "1",
            "day_1_on": "1", "day_1_from": "09:00", "day_1_to": "12:00", "day_3_on": "1", "day_3_from": "14:00",
            "day_3_to": "13:00"}
    refused = owner.submit("/apps/sales/booking", form)
    assert refused.status_code == 400, "a window that ends before it starts"
    form["day_3_to"] = "18:00"
    assert owner.submit("/apps/sales/booking", form).status_code == 302
    api = HostClient(client, ws.workspace.host)
    token = api_token(ws.workspace)
    settings = api.api("GET", "/api/v1/apps/sales/booking/settings", token).get_json()
    assert settings["availability"] == {"1": [["09:00", "12:00"]], "3": [["14:00", "18:00"]]}
    assert settings["duration_minutes"] == 45 and settings["slug"] == "olivia-demo"
    bad = api.api("PUT", "/api/v1/apps/sales/booking/settings", token, json={"availability": {"8": []}})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert HostClient(client, ws.workspace.host).get("/apps/sales/book/no-such-page").status_code == 404
