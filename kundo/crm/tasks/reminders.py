"""A task's durable timers: its reminder and its due time.

Whenever a task is written, `sync_task_timers` makes its timers match it, in the same
transaction: an open task with `reminder_at` has a reminder timer, an open task with a
due time not yet announced has a due timer; a done or deleted task has none. The time
is part of each timer's key (`task-reminder:<id>:<time>`), so a changed time schedules
a new timer and cancels the old one, and writing the same time again changes nothing.
The handlers (kundo.crm.tasks.jobs) check the task again when they fire, so a timer
left behind by a bulk change (merge, erasure) does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kundo.crm.tasks.models import Task
from kundo.platform.jobs import cancel_timers, schedule_timer

REMINDER_TIMER = "crm.task_reminder"
DUE_TIMER = "crm.task_due"


def reminder_key(task_id: int, at: datetime) -> str:
    return f"task-reminder:{task_id}:{at.isoformat()}"


def due_key(task_id: int, at: datetime) -> str:
    return f"task-due:{task_id}:{at.isoformat()}"


def timer_keys(task: Task) -> set[str]:
    """The keys the task's timers have for its current times (done or not)."""
    keys = set()
    if task.reminder_at is not None:
        keys.add(reminder_key(task.id, task.reminder_at))
    if task.due_at is not None:
        keys.add(due_key(task.id, task.due_at))
    return keys


def sync_task_timers(session: Session, task: Task, *, previous_keys: set[str] = frozenset()) -> None:
    """Schedule the task's reminder and due timers; cancel those of `previous_keys` (its
    `timer_keys` before the change) that no longer apply."""
    wanted: dict[str, tuple[str, datetime, dict]] = {}
    if task.done_at is None and task.reminder_at is not None:
        wanted[reminder_key(task.id, task.reminder_at)] = (
            REMINDER_TIMER, task.reminder_at, {"task_id": task.id, "reminder_at": task.reminder_at.isoformat()})
    if task.done_at is None and task.due_at is not None and task.due_notified_at is None:
        wanted[due_key(task.id, task.due_at)] = (
            DUE_TIMER, task.due_at, {"task_id": task.id, "due_at": task.due_at.isoformat()})
    outdated = sorted((set(previous_keys) | timer_keys(task)) - set(wanted))
    if outdated:
        cancel_timers(session, keys=outdated)  # fired ones stay, as the record of what happened
    for key, (handler, due_at, payload) in wanted.items():
        schedule_timer(session, handler=handler, due_at=due_at, payload=payload, key=key)


def cancel_task_timers(session: Session, task: Task) -> None:
    """Before a task is deleted: drop its timers that have not fired."""
    keys = sorted(timer_keys(task))
    if keys:
        cancel_timers(session, keys=keys)
