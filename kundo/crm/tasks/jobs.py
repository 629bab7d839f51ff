"""Task reminders and due announcements, run by durable timers (see kundo.crm.tasks.reminders).

Reminder: at `reminder_at` the owner (or, without one, the creator) gets an in-app
notification and — unless they turned e-mails off — an e-mail. Due: at `due_at` the timer
runs `emit_due_tasks`, which announces `task.due` for every open task due by then, each
once (`due_notified_at`), so workflows and webhooks hear about due tasks on time.
Both handlers look at the task as it is when they fire: a done, deleted or rescheduled
task is left alone.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundo.crm.tasks.models import Task
from kundo.crm.tasks.reminders import DUE_TIMER, REMINDER_TIMER
from kundo.crm.tasks.service import emit_due_tasks
from kundo.platform.auth.models import User
from kundo.platform.clock import now as clock_now
from kundo.platform.db import db
from kundo.platform.jobs import register_timer_handler
from kundo.platform.jobs.models import Timer
from kundo.platform.notifications import notify
from kundo.tenants.workspace import workspace_zone


def init_app(app: Flask) -> None:
    register_timer_handler(app, REMINDER_TIMER, remind_task_owner)
    register_timer_handler(app, DUE_TIMER, announce_due_tasks)


def remind_task_owner(session: Session, payload: dict, timer: Timer) -> None:  # noqa: ARG001
    task = session.get(Task, payload["task_id"])
    if task is None or task.done_at is not None or task.reminder_at is None:
        return
    if task.reminder_at != datetime.fromisoformat(payload["reminder_at"]):
        return  # rescheduled; the timer of the new time reminds
    recipient = task.owner_id or task.created_by
    user = db.session.get(User, recipient) if recipient else None
    if user is None:
        return
    with force_locale(user.locale or "en"):
        if task.due_at is not None:
            due = format_datetime(task.due_at, "medium", tzinfo=workspace_zone(session), locale=user.locale or "en")
            body = _("Due %(when)s.", when=due)
        else:
            body = ""
        if task.notes:
            body = f"{body}\n\n{task.notes}".strip()
        notify(session, user_id=user.id, title=_("Reminder: %(title)s", title=task.title), body=body,
               link=_task_link(task), kind="reminder", email=True)


def announce_due_tasks(session: Session, payload: dict, timer: Timer) -> None:  # noqa: ARG001
    emit_due_tasks(session, clock_now())


def _task_link(task: Task) -> str:
    """The record the task is about, else the owner's task list."""
    for link in task.links:
        if link.object_type == "contact":
            return f"/contacts/{link.object_id}#tasks"
        if link.object_type == "company":
            return f"/companies/{link.object_id}#tasks"
    return "/tasks"
