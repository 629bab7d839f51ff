"""Durable timers: work due at a time, stored as a row in the tenant's schema.

A wait of minutes or weeks (a workflow delay, a task reminder, a webhook retry) is a
`timers` row written in the same transaction as the change that asked for it — never a
broker delay, which a restart or a purge could lose. The relay's scheduler watches the
earliest due time per tenant (NOTIFY on change, a sweep after start) and sends
`run_due_timers`; a timer's handler runs in the tenant's session and the timer is marked
fired in the same transaction, so its database effects happen once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from kundo.platform.clock import now as clock_now
from kundo.platform.jobs.models import Timer
from kundo.platform.jobs.scopes import TenantGone, scope_of
from kundo.tenants.session import tenant_session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

TIMER_JOB = "kundo.run_due_timers"
HANDLERS_KEY = "kundo.timer_handlers"
MAX_ATTEMPTS = 5
BATCH = 200

TimerHandler = Callable[["Session", dict, Timer], Any]


def register_timer_handler(app: Flask, name: str, handler: TimerHandler) -> None:
    handlers: dict[str, TimerHandler] = app.extensions.setdefault(HANDLERS_KEY, {})
    if name in handlers:
        raise ValueError(f"a timer handler named {name!r} is already registered")
    handlers[name] = handler


def schedule_timer(
    session: Session, *, handler: str, due_at: datetime, payload: dict | None = None, key: str | None = None
) -> int | None:
    """Store a timer in the caller's tenant transaction; returns its id (None if `key` exists already)."""
    statement = insert(Timer).values(handler=handler, due_at=due_at, payload=payload or {}, key=key, attempts=0)
    if key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    return session.scalar(statement.returning(Timer.id))


def cancel_timers(session: Session, *, keys: list[str]) -> int:
    """Drop unfired timers by key (e.g. a task's reminder when the task is done)."""
    from sqlalchemy import delete

    result = session.execute(delete(Timer).where(Timer.key.in_(keys), Timer.fired_at.is_(None)))
    return result.rowcount


def next_due(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Timer.due_at)).where(Timer.fired_at.is_(None), Timer.failed_at.is_(None)))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def run_due_timers(tenant_id: int) -> int:
    """Fire what is due in one tenant, one timer per transaction; returns how many fired."""
    try:
        scope = scope_of(tenant_id)
    except TenantGone:
        return 0
    handlers: dict[str, TimerHandler] = current_app.extensions.get(HANDLERS_KEY, {})
    fired = 0
    for _ in range(BATCH):
        now = clock_now()
        dead: tuple[int, str, str] | None = None
        with tenant_session(scope) as session:
            timer = session.scalar(
                select(Timer).where(Timer.due_at <= now, Timer.fired_at.is_(None), Timer.failed_at.is_(None))
                .order_by(Timer.due_at, Timer.id).limit(1).with_for_update(skip_locked=True)
            )
            if timer is None:
                return fired
            try:
                with session.begin_nested():
                    handler = handlers.get(timer.handler)
                    if handler is None:
                        raise LookupError(f"no timer handler named {timer.handler!r} is registered")
                    handler(session, dict(timer.payload), timer)
                    timer.fired_at = now
                fired += 1
            except Exception as error:  # noqa: BLE001 - recorded on the timer, retried later
                log.exception("timer %s (%s) failed", timer.id, timer.handler, extra={"tenant_id": tenant_id})
                timer.attempts += 1
                timer.last_error = repr(error)[:2000]
                if timer.attempts >= MAX_ATTEMPTS:
                    timer.failed_at = now
                    dead = (timer.id, timer.handler, timer.last_error)
                else:
                    timer.due_at = now + backoff(timer.attempts)
        if dead is not None:
            from kundo.platform.jobs.deadletters import record_dead_letter

            record_dead_letter(kind="timer", actor=dead[1], args=[dead[0]], tenant_id=tenant_id, error=dead[2])
    return fired


def rearm_timer(tenant_id: int, timer_id: int) -> None:
    """Give a dead timer a fresh set of attempts, due now."""
    with tenant_session(scope_of(tenant_id)) as session:
        timer = session.get(Timer, timer_id)
        if timer is not None and timer.fired_at is None:
            timer.failed_at, timer.attempts, timer.due_at = None, 0, clock_now()
