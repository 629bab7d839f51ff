"""Periodic jobs: sent on schedule by the worker that runs the relay, consumed by its worker threads."""

from __future__ import annotations

import time

import pytest

from kundo.platform.db import db
from kundo.platform.jobs import register_job, register_periodic
from kundo.platform.jobs.periodic import PeriodicSender, periodic_jobs
from kundo.platform.jobs.worker import BackgroundWorker
from kundo.testing.fixtures import build_app
from kundo.testing.jobs import stop_job_runner


@pytest.fixture
def periodic_app(database_url):
    """An app of its own: the jobs a test registers must not outlive it."""
    app = build_app(database_url)
    yield app
    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()


def counting_job(app, name: str) -> list[float]:
    """A job that notes when it ran (worker threads run in this process)."""
    calls: list[float] = []
    register_job(app, name, lambda: calls.append(time.monotonic()), tenant=False)
    return calls


def wait_for(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_sender_sends_at_start_then_every_interval(periodic_app):
    calls = counting_job(periodic_app, "test.sweep")
    register_periodic(periodic_app, "test.sweep", 10)
    sender = PeriodicSender(periodic_app)
    assert sender.tick(at=100.0) == ["test.sweep"]  # at once: catch up after downtime
    assert sender.tick(at=105.0) == []
    assert sender.tick(at=109.9) == []
    assert sender.tick(at=110.0) == ["test.sweep"]
    assert sender.tick(at=111.0) == []

    consumer = BackgroundWorker(periodic_app, threads=1, relay=False).start()  # consumes, sends nothing
    try:
        assert wait_for(lambda: len(calls) == 2)
        time.sleep(0.5)
        assert len(calls) == 2
    finally:
        consumer.stop()


def test_the_worker_runs_periodic_jobs_until_stopped(periodic_app):
    calls = counting_job(periodic_app, "test.heartbeat")
    register_periodic(periodic_app, "test.heartbeat", 0.3)
    worker = BackgroundWorker(periodic_app, threads=1).start()
    try:
        assert wait_for(lambda: len(calls) >= 3), calls
    finally:
        started = time.monotonic()
        worker.stop()
        assert time.monotonic() - started < 8
    gaps = [later - earlier for earlier, later in zip(calls, calls[1:], strict=False)]
    assert all(gap > 0.15 for gap in gaps), gaps  # on schedule, not in a tight loop


def test_a_worker_without_the_relay_sends_no_periodic_jobs(periodic_app):
    calls = counting_job(periodic_app, "test.quiet")
    register_periodic(periodic_app, "test.quiet", 0.2)
    worker = BackgroundWorker(periodic_app, threads=1, relay=False).start()
    try:
        time.sleep(1.0)
    finally:
        worker.stop()
    assert calls == []


def test_registration_is_checked(periodic_app):
    register_periodic(periodic_app, "test.once", 60)
    with pytest.raises(ValueError, match="already periodic"):
        register_periodic(periodic_app, "test.once", 30)
    with pytest.raises(ValueError, match="positive"):
        register_periodic(periodic_app, "test.never", 0)
    assert [(p.job, p.every_seconds) for p in periodic_jobs(periodic_app)] == [("test.once", 60.0)]
