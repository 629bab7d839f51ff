"""Periodic jobs: sweeps a feature wants run every few minutes without cron.

A feature calls `register_periodic(app, job_name, every_seconds)` in its `init_app` for a
job it registered with `register_job(..., tenant=False)`. The worker that runs the relay
(`kundo worker`, `kundo serve`) also runs a `PeriodicSender` thread, which sends each such
job once at start (catching up after downtime) and then every `every_seconds`.

The schedule lives in memory, not in the database: several workers each send the job, and
a restart sends it again at once. So a periodic job must be a sweep — idempotent, cheap
when there is nothing to do — never "do X exactly once per interval" (use durable timers
for that).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

#: app.extensions key: the list of `Periodic` entries of the app.
PERIODIC_KEY = "kundo.periodic_jobs"
#: The sender never sleeps longer than this, so stopping the worker is prompt.
MAX_NAP_SECONDS = 1.0


@dataclass(frozen=True)
class Periodic:
    job: str
    every_seconds: float


def register_periodic(app: Flask, job: str, every_seconds: float) -> None:
    """Send job `job` (a registered, non-tenant job taking no arguments) every `every_seconds`."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    entries = app.extensions.setdefault(PERIODIC_KEY, [])
    if any(entry.job == job for entry in entries):
        raise ValueError(f"job {job!r} is already periodic")
    entries.append(Periodic(job, float(every_seconds)))


def periodic_jobs(app: Flask) -> list[Periodic]:
    return list(app.extensions.get(PERIODIC_KEY, ()))


class PeriodicSender:
    """Sends the app's periodic jobs on schedule (monotonic time: clock changes do not matter)."""

    def __init__(self, app: Flask) -> None:
        from kundo.platform.jobs import jobs_of

        self.jobs = jobs_of(app)
        self.entries = periodic_jobs(app)
        self.next_at: dict[str, float] = {}

    def tick(self, at: float | None = None) -> list[str]:
        """Send what is due at monotonic time `at`; returns the job names sent."""
        at = time.monotonic() if at is None else at
        sent = []
        for entry in self.entries:
            if self.next_at.get(entry.job, at) > at:
                continue
            try:
                self.jobs.send(entry.job)
            except Exception:  # noqa: BLE001 - the broker may be down for a moment; try again next turn
                log.exception("could not send periodic job %s", entry.job)
                continue
            self.next_at[entry.job] = at + entry.every_seconds
            sent.append(entry.job)
        return sent

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.tick()
            now = time.monotonic()
            nap = min((due - now for due in self.next_at.values()), default=MAX_NAP_SECONDS)
            stop.wait(max(0.05, min(nap, MAX_NAP_SECONDS)))
