"""The meeting as an iCalendar (RFC 5545) file for the confirmation, change and cancellation mails.

One UID per meeting and a SEQUENCE raised on every change, so calendar programs update
or remove the entry they already have instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText


def meeting_ics(*, uid: str, sequence: int, starts_at: datetime, ends_at: datetime, summary: str,
                description: str, location: str | None, organizer: tuple[str, str], attendee: tuple[str, str],
                stamp: datetime, cancelled: bool = False) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Kundo//Sales Hub//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer_address = vCalAddress(f"mailto:{organizer[1]}")
    organizer_address.params["cn"] = vText(organizer[0])
    event["organizer"] = organizer_address
    attendee_address = vCalAddress(f"mailto:{attendee[1]}")
    attendee_address.params["cn"] = vText(attendee[0])
    attendee_address.params["role"] = vText("REQ-PARTICIPANT")
    attendee_address.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", attendee_address)
    calendar.add_component(event)
    return calendar.to_ical()


def ics_content_type(cancelled: bool = False) -> str:
    return f"text/calendar; method={'CANCEL' if cancelled else 'REQUEST'}; charset=utf-8"
