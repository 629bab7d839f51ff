"""Free slots of a booking page: pure arithmetic on wall-clock windows, a time zone and busy intervals.

Availability is wall-clock time in the workspace's zone ("Mondays 09:00–12:00"). Each
day's window is walked in steps of the meeting's duration in local time and every start
is converted to UTC on its own, so a DST switch shifts the UTC times rather than the
local ones. A local time that does not exist (the hour skipped in spring) is left out;
an ambiguous one (the hour repeated in autumn) is taken at its first occurrence.
A slot is free when it starts after `now + notice`, lies within the horizon and does not
come closer than `buffer` to any busy interval.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("1", "2", "3", "4", "5", "6", "7")  # ISO: Monday = 1


@dataclass(frozen=True)
class Rules:
    availability: dict  # {"1": [["09:00", "12:00"], …], …}
    zone: ZoneInfo
    duration: timedelta
    buffer: timedelta
    horizon_days: int
    notice: timedelta


def parse_time(value: str) -> time:
    hours, minutes = str(value).split(":")
    if hours == "24" and minutes == "00":
        return time.max
    return time(int(hours), int(minutes))


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    """False for a wall time skipped by a DST switch (it does not survive the round trip)."""
    back = local.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def day_slots(day: date, rules: Rules) -> list[datetime]:
    """Every slot start (UTC) on one local day, busy or not."""
    starts: list[datetime] = []
    for window in rules.availability.get(str(day.isoweekday()), []):
        begin, end = parse_time(window[0]), parse_time(window[1])
        local = datetime.combine(day, begin)
        last = datetime.combine(day, end) if end != time.max else datetime.combine(day + timedelta(days=1), time())
        while local + rules.duration <= last:
            aware = local.replace(tzinfo=rules.zone, fold=0)
            if _exists(aware, rules.zone):
                start = aware.astimezone(UTC)
                if (start + rules.duration).astimezone(rules.zone).replace(tzinfo=None) <= last:
                    starts.append(start)
            local += rules.duration
    return sorted(set(starts))


def conflicts(start: datetime, end: datetime, busy: Iterable[tuple[datetime, datetime]], buffer: timedelta) -> bool:
    return any(b_start - buffer < end and b_end + buffer > start for b_start, b_end in busy)


def free_slots(rules: Rules, now: datetime, busy: Iterable[tuple[datetime, datetime]],
               *, first_day: date | None = None, days: int | None = None) -> list[datetime]:
    """Free slot starts (UTC) from `first_day` (default: today in the zone) for `days` days, within the horizon."""
    busy = list(busy)
    today = now.astimezone(rules.zone).date()
    horizon_end = today + timedelta(days=rules.horizon_days)
    day = max(first_day or today, today)
    stop = min(horizon_end, day + timedelta(days=days)) if days is not None else horizon_end
    earliest = now + rules.notice
    slots = []
    while day <= stop:
        for start in day_slots(day, rules):
            if start >= earliest and not conflicts(start, start + rules.duration, busy, rules.buffer):
                slots.append(start)
        day += timedelta(days=1)
    return slots
