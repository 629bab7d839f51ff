"""Walking a step tree: paths, the next step, and when a delay ends.

A path points at one step: ``[2]`` is the third top-level step, ``[3, "then", 0]`` the
first step of the fourth step's then-branch. After the last step of a branch the walk
continues after the branch step itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from kundo.platform.workflows.conditions import lookup
from kundo.platform.workflows.definition import UNITS
from kundo.tenants.workspace import workspace_zone

DEFAULT_TIME = "09:00"


def path_text(path: list) -> str:
    return ".".join(str(part) for part in path)


def container(steps: list, path: list) -> list:
    """The list of steps the last index of `path` points into."""
    current = steps
    for index in range(0, len(path) - 1, 2):
        current = current[path[index]][path[index + 1]]
    return current


def step_at(steps: list, path: list | None) -> dict | None:
    if not path:
        return None
    try:
        items = container(steps, path)
        return items[path[-1]] if 0 <= path[-1] < len(items) else None
    except (IndexError, KeyError, TypeError):
        return None


def advance(steps: list, path: list) -> list | None:
    """The path of the step after `path` (leaving finished branches), or None at the end."""
    path = list(path)
    while True:
        if path[-1] + 1 < len(container(steps, path)):
            return [*path[:-1], path[-1] + 1]
        if len(path) == 1:
            return None
        path = path[:-2]


def enter_branch(steps: list, path: list, arm: str) -> list | None:
    """The first step of the chosen arm, or the step after the branch when that arm is empty."""
    if step_at(steps, path).get(arm):
        return [*path, arm, 0]
    return advance(steps, path)


def first_path(steps: list) -> list | None:
    return [0] if steps else None


def _clock(value: str | None) -> time:
    hours, minutes = (value or DEFAULT_TIME).split(":")
    return time(int(hours), int(minutes))


def delay_until(session: Session, step: dict, properties: dict, now: datetime) -> tuple[datetime | None, str | None]:
    """(when the delay ends, None) or (None, why it does not wait)."""
    mode = step["mode"]
    if mode == "duration":
        return now + timedelta(seconds=step["amount"] * UNITS[step["unit"]]), None
    zone = workspace_zone(session)
    if mode == "next_weekday":
        at = _clock(step["time"])
        local_now = now.astimezone(zone)
        for offset in range(0, 8):
            day = local_now.date() + timedelta(days=offset)
            candidate = datetime.combine(day, at, tzinfo=zone)
            if day.weekday() in step["weekdays"] and candidate > local_now:
                return candidate.astimezone(UTC), None
        return None, "no matching weekday"  # unreachable with a validated definition
    value = lookup(properties, step["property"])
    if value in (None, ""):
        return None, f"{step['property']} is empty"
    text = str(value)
    try:
        if len(text) <= 10:
            day = datetime.fromisoformat(text[:10]).date()
            return datetime.combine(day, _clock(step.get("time")), tzinfo=zone).astimezone(UTC), None
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, f"{step['property']} is not a date"
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC), None
