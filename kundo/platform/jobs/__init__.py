"""Jobs: dramatiq actors fed by the outbox relay and durable timers.

`init_app` registers the job system and the core jobs; features add theirs with
`register_job` and react to events with `kundo.platform.events.register_consumer`.
`kundo worker` (kundo.platform.jobs.worker) runs the actors and the relay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kundo.platform.jobs.periodic import register_periodic
from kundo.platform.jobs.system import JobSpec, JobSystem
from kundo.platform.jobs.timers import cancel_timers, register_timer_handler, schedule_timer

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "JobSpec", "JobSystem", "cancel_timers", "init_app", "jobs_of", "register_job", "register_periodic",
    "register_timer_handler", "schedule_timer",
]

EXTENSION_KEY = "kundo.jobs"


def jobs_of(app: Flask) -> JobSystem:
    return app.extensions[EXTENSION_KEY]


def register_job(app: Flask, name: str, function: Callable[..., Any], *, tenant: bool = True,
                 queue: str = "default", max_retries: int | None = None) -> None:
    """Make `function` a job; a tenant job's first argument is the tenant id."""
    jobs_of(app).register(JobSpec(name, function, tenant=tenant, queue=queue, max_retries=max_retries))


def init_app(app: Flask) -> None:
    from kundo.platform.jobs.dispatch import DISPATCH_JOB, dispatch_events
    from kundo.platform.jobs.timers import TIMER_JOB, run_due_timers

    app.extensions[EXTENSION_KEY] = JobSystem(app, app.config["KUNDO"])
    register_job(app, DISPATCH_JOB, dispatch_events)
    register_job(app, TIMER_JOB, run_due_timers)
