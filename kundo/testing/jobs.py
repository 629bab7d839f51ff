"""Running the real job pipeline to completion inside a test.

`run_jobs(app)` does what a worker does — the relay publishes outboxes and due timers,
dramatiq worker threads consume from the embedded PostgreSQL broker — and returns once
nothing is queued, running or newly due. Time-based steps are tested by moving the app's
clock (`move_clock`), never by sleeping through them.
"""

from __future__ import annotations

import time
from datetime import timedelta

import dramatiq
from flask import Flask
from sqlalchemy import text

from kundo.platform.clock import EXTENSION_KEY as CLOCK_KEY
from kundo.platform.clock import MovableClock
from kundo.platform.db import db
from kundo.platform.jobs import jobs_of
from kundo.platform.jobs.broker import JOBS_SCHEMA
from kundo.platform.jobs.relay import Relay

_RUNNER_KEY = "kundo.testing.job_runner"


class JobRunner:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.relay = Relay(app)
        self.worker = dramatiq.Worker(jobs_of(app).broker, worker_threads=2, worker_timeout=100)
        self.worker.start()

    def busy(self) -> int:
        """Jobs of this app (its queue prefix, delayed retries included) still queued or running."""
        prefix = self.app.config["KUNDO"].queue_prefix
        with db.engine.connect() as connection:
            return connection.scalar(text(
                f"SELECT count(*) FROM {JOBS_SCHEMA}.queue WHERE state IN ('queued', 'consumed')"  # noqa: S608
                " AND starts_with(queue_name, :prefix)"
            ), {"prefix": f"{prefix}-"})

    def run(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        total = 0
        with self.app.app_context():
            while True:
                self.relay.sweep()
                work = self.relay.turn()
                total += work
                while self.busy():
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"jobs still running after {timeout} s")
                    time.sleep(0.02)
                if work == 0:
                    db.session.remove()
                    return total

    def stop(self) -> None:
        self.worker.stop(timeout=5_000)


def job_runner(app: Flask) -> JobRunner:
    runner = app.extensions.get(_RUNNER_KEY)
    if runner is None:
        runner = app.extensions[_RUNNER_KEY] = JobRunner(app)
    return runner


def run_jobs(app: Flask, timeout: float = 30.0) -> int:
    """Deliver every pending event and fire every due timer, including what those cause."""
    return job_runner(app).run(timeout)


def stop_job_runner(app: Flask) -> None:
    runner = app.extensions.pop(_RUNNER_KEY, None)
    if runner is not None:
        runner.stop()
    jobs_of(app).close()


def move_clock(app: Flask, delta: timedelta) -> MovableClock:
    """Move the app's clock forward (installing a movable one first)."""
    clock = app.extensions.get(CLOCK_KEY)
    if not isinstance(clock, MovableClock):
        clock = app.extensions[CLOCK_KEY] = MovableClock()
    clock.advance(delta)
    return clock
