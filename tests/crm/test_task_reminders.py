"""Task reminders and task.due, on durable timers: on time, once, rescheduled, and never for done or deleted tasks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kundo.crm.tasks.service import complete_task, create_task, delete_task, get_task, update_task
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.platform.mail.models import OutboxMail
from kundo.platform.notifications.models import Notification
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.fixtures import build_app
from kundo.testing.jobs import move_clock, run_jobs, stop_job_runner


@pytest.fixture
def clock_app(database_url):
    """An app whose clock the test moves (and whose queues are its own)."""
    app = build_app(database_url, queue_prefix=f"tasks{uuid.uuid4().hex[:8]}")
    yield app
    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="Erinnerung AG")


def scope(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


def soon(**delta) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def new_task(app, workspace, **values) -> int:
    values.setdefault("owner_id", workspace.owner_id)
    with app.app_context(), tenant_session(scope(workspace)) as session:
        return create_task(session, **values).id


def change(app, workspace, task_id, action, *args) -> None:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        action(session, get_task(session, task_id), *args)


def reminders(app, workspace, user_id=None) -> list[tuple[int, str, str]]:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        rows = session.scalars(select(Notification).where(Notification.kind == "reminder").order_by(Notification.id))
        return [(row.user_id, row.title, row.link) for row in rows if user_id in (None, row.user_id)]


def due_events(app, workspace) -> list[int]:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        return list(session.scalars(select(OutboxEvent.object_id).where(OutboxEvent.type == "task.due")))


def test_the_owner_is_reminded_at_reminder_time_in_app_and_by_email(clock_app, ws):
    new_task(clock_app, ws, title="Call Anna", reminder_at=soon(hours=2), due_at=soon(days=1))
    run_jobs(clock_app)
    assert reminders(clock_app, ws) == []
    move_clock(clock_app, timedelta(hours=2, minutes=1))
    run_jobs(clock_app)
    run_jobs(clock_app)
    assert reminders(clock_app, ws) == [(ws.owner_id, "Reminder: Call Anna", "/tasks")]
    with clock_app.app_context():
        mails = list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == ws.owner_email)))
    assert [mail.subject for mail in mails] == ["Reminder: Call Anna"]
    assert "Due " in mails[0].body_text and f"http://{ws.slug}.kundo.test/tasks" in mails[0].body_text


def test_a_new_reminder_time_reschedules_and_the_old_one_is_dropped(clock_app, ws):
    task_id = new_task(clock_app, ws, title="Send the quote", reminder_at=soon(hours=1))
    change(clock_app, ws, task_id, update_task, {"reminder_at": soon(hours=3)})
    move_clock(clock_app, timedelta(hours=1, minutes=5))
    run_jobs(clock_app)
    assert reminders(clock_app, ws) == []
    move_clock(clock_app, timedelta(hours=2))
    run_jobs(clock_app)
    assert [title for _, title, _ in reminders(clock_app, ws)] == ["Reminder: Send the quote"]


def test_done_and_deleted_tasks_do_not_remind(clock_app, ws):
    done = new_task(clock_app, ws, title="Done already", reminder_at=soon(hours=1))
    deleted = new_task(clock_app, ws, title="Deleted", reminder_at=soon(hours=1))
    change(clock_app, ws, done, complete_task)
    change(clock_app, ws, deleted, delete_task)
    move_clock(clock_app, timedelta(hours=2))
    run_jobs(clock_app)
    assert reminders(clock_app, ws) == []


def test_the_reminder_goes_to_whoever_owns_the_task_then(clock_app, ws, add_member):
    colleague_id, _ = add_member(ws)
    task_id = new_task(clock_app, ws, title="Hand over", reminder_at=soon(hours=1))
    change(clock_app, ws, task_id, update_task, {"owner_id": colleague_id})
    move_clock(clock_app, timedelta(hours=1, minutes=1))
    run_jobs(clock_app)
    assert [user for user, _, _ in reminders(clock_app, ws)] == [colleague_id]


def test_task_due_is_announced_at_the_due_time_once(clock_app, ws, make_workspace):
    task_id = new_task(clock_app, ws, title="Follow up", due_at=soon(hours=5))
    other = make_workspace()
    new_task(clock_app, other, title="Theirs", due_at=soon(hours=5))
    run_jobs(clock_app)
    assert due_events(clock_app, ws) == []
    move_clock(clock_app, timedelta(hours=5, minutes=1))
    run_jobs(clock_app)
    run_jobs(clock_app)
    assert due_events(clock_app, ws) == [task_id]
    assert len(due_events(clock_app, other)) == 1  # each workspace announces its own

    # A new due time re-arms the announcement.
    change(clock_app, ws, task_id, update_task, {"due_at": soon(hours=10)})
    move_clock(clock_app, timedelta(hours=6))
    run_jobs(clock_app)
    assert due_events(clock_app, ws) == [task_id, task_id]


def test_a_completed_task_is_never_announced_as_due(clock_app, ws):
    task_id = new_task(clock_app, ws, title="Finished early", due_at=soon(hours=1))
    change(clock_app, ws, task_id, complete_task)
    move_clock(clock_app, timedelta(hours=2))
    run_jobs(clock_app)
    assert due_events(clock_app, ws) == []
