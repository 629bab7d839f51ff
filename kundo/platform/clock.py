"""The time jobs and timers go by, replaceable so a test can move it forward.

Durable timers, workflow delays and reminders ask `now()`; production reads the system
clock, tests install a :class:`MovableClock` on the app and advance it by days instead of
waiting for them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, has_app_context

EXTENSION_KEY = "kundo.clock"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class MovableClock(SystemClock):
    """Runs with real time, shifted by however far it was moved."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def clock_of(app: Flask) -> SystemClock:
    return app.extensions.setdefault(EXTENSION_KEY, SystemClock())


def now() -> datetime:
    """The app's time inside an app context, the system's otherwise."""
    return clock_of(current_app).now() if has_app_context() else datetime.now(UTC)
