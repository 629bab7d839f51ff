"""Events reach consumers once, through the real embedded broker; failures retry, then dead-letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from kundo.crm import create_contact, create_task
from kundo.crm.tasks.models import Task
from kundo.platform.db import db
from kundo.platform.events import Consumer, register_consumer
from kundo.platform.jobs import register_timer_handler, schedule_timer
from kundo.platform.jobs.deadletters import dead_letters_of, retry_dead_letter
from kundo.platform.jobs.models import DeadLetter, ProcessedEvent, Timer
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.fixtures import build_app
from kundo.testing.jobs import move_clock, run_jobs, stop_job_runner


@pytest.fixture
def jobs_app(database_url):
    """An app of its own: the consumers a test registers must not outlive it."""
    app = build_app(database_url)
    yield app
    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()


def scope(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


def follow_up_consumer(workspace, name="test.follow_up", fail_first: list | None = None):
    def handle(session, event):
        if fail_first is not None and fail_first:
            fail_first.pop()
            raise RuntimeError("flaky consumer")
        create_task(session, title=f"Follow up contact {event.object_id}", links=[("contact", event.object_id)])

    return Consumer(name=name, handle=handle, event_types=frozenset({"contact.created"}),
                    applies_to=lambda tenant_id: tenant_id == workspace.tenant_id)


def tasks_titled(app, workspace, prefix: str) -> list[str]:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        return list(session.scalars(select(Task.title).where(Task.title.startswith(prefix)).order_by(Task.id)))


def test_an_event_reaches_its_consumer_once_even_when_delivered_again(jobs_app, make_workspace):
    workspace = make_workspace()
    register_consumer(jobs_app, follow_up_consumer(workspace))
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        contact = create_contact(session, first_name="Ada", emails=["ada@example.org"])
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Follow up") == [f"Follow up contact {contact.id}"]

    # The same events dispatched again (a relay that died before its commit does that): no second task.
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        session.execute(text("UPDATE event_outbox SET published_at = NULL"))
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Follow up") == [f"Follow up contact {contact.id}"]


def test_a_failing_consumer_is_retried_alone(jobs_app, make_workspace):
    workspace = make_workspace()
    register_consumer(jobs_app, follow_up_consumer(workspace, "test.flaky", fail_first=["boom"]))
    register_consumer(jobs_app, Consumer(
        name="test.steady", event_types=frozenset({"contact.created"}),
        applies_to=lambda tenant_id: tenant_id == workspace.tenant_id,
        handle=lambda session, event: create_task(session, title=f"Steady {event.object_id}"),
    ))
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        contact = create_contact(session, first_name="Bea", emails=["bea@example.org"])
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Follow up") == [f"Follow up contact {contact.id}"]
    assert tasks_titled(jobs_app, workspace, "Steady") == [f"Steady {contact.id}"]
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        ledger = set(session.scalars(select(ProcessedEvent.consumer).where(ProcessedEvent.consumer.like("test.%"))))
    assert ledger == {"test.flaky", "test.steady"}


def test_a_consumer_that_always_fails_becomes_a_dead_letter_the_admin_can_retry(jobs_app, make_workspace):
    workspace = make_workspace()
    broken = {"on": True}

    def handle(session, event):
        if broken["on"]:
            raise RuntimeError("the CRM on the other end is down")
        create_task(session, title=f"Recovered {event.object_id}")

    register_consumer(jobs_app, Consumer(name="test.broken", handle=handle, event_types=frozenset({"contact.created"}),
                                         applies_to=lambda tenant_id: tenant_id == workspace.tenant_id))
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        contact = create_contact(session, first_name="Cem", emails=["cem@example.org"])
    run_jobs(jobs_app)
    with jobs_app.app_context():
        letters = dead_letters_of(workspace.tenant_id)
        assert len(letters) == 1
        assert letters[0].actor == "kundo.dispatch_events"
        assert "the CRM on the other end is down" in letters[0].error
        broken["on"] = False
        retry_dead_letter(workspace.tenant_id, letters[0].id, user_id=workspace.owner_id)
        assert dead_letters_of(workspace.tenant_id) == []
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Recovered") == [f"Recovered {contact.id}"]


def test_a_timer_fires_when_its_time_has_come_and_only_then(jobs_app, make_workspace):
    workspace = make_workspace()
    register_timer_handler(jobs_app, "test.remind", lambda session, payload, timer: create_task(
        session, title=f"Reminder: {payload['what']}"))
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        now = db.session.scalar(select(func.now()))
        schedule_timer(session, handler="test.remind", due_at=now + timedelta(days=3), payload={"what": "call Ada"},
                       key="remind-ada")
        # The same key again keeps one timer.
        assert schedule_timer(session, handler="test.remind", due_at=now + timedelta(days=3),
                              payload={"what": "call Ada"}, key="remind-ada") is None
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Reminder") == []
    move_clock(jobs_app, timedelta(days=3, minutes=1))
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Reminder") == ["Reminder: call Ada"]
    run_jobs(jobs_app)
    assert tasks_titled(jobs_app, workspace, "Reminder") == ["Reminder: call Ada"]


def test_a_timer_whose_handler_keeps_failing_is_dead_lettered_with_its_error(jobs_app, make_workspace):
    workspace = make_workspace()
    register_timer_handler(jobs_app, "test.explode", lambda session, payload, timer: 1 / 0)
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        timer_id = schedule_timer(session, handler="test.explode", due_at=db.session.scalar(select(func.now())))
    for _ in range(6):  # each failure moves the timer by its backoff; the clock follows
        run_jobs(jobs_app)
        move_clock(jobs_app, timedelta(hours=2))
    with jobs_app.app_context():
        with tenant_session(scope(workspace)) as session:
            timer = session.get(Timer, timer_id)
            assert timer.failed_at is not None and timer.attempts == 5
            assert "ZeroDivisionError" in timer.last_error
        letter = db.session.scalar(select(DeadLetter).where(DeadLetter.tenant_id == workspace.tenant_id))
        assert (letter.kind, letter.actor, letter.args) == ("timer", "test.explode", [timer_id])


def test_events_of_one_tenant_never_reach_another_tenants_consumer(jobs_app, make_workspace):
    mine, theirs = make_workspace(), make_workspace()
    seen: list[tuple[int, str]] = []
    register_consumer(jobs_app, Consumer(
        name="test.spy", applies_to=lambda tenant_id: tenant_id == mine.tenant_id,
        handle=lambda session, event: seen.append((event.tenant_id, session.scope.schema_name)),
    ))
    for workspace in (mine, theirs):
        with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
            create_contact(session, first_name="Eve", emails=[f"eve@{workspace.slug}.example"])
    run_jobs(jobs_app)
    assert seen and {entry for entry in seen} == {(mine.tenant_id, mine.schema_name)}


def test_a_consumer_with_nothing_to_do_for_a_tenant_is_not_called_and_leaves_no_ledger_row(jobs_app, make_workspace):
    workspace = make_workspace()
    calls: list[str] = []
    asked: list[int] = []

    def interested(session):
        asked.append(session.scope.tenant_id)
        return frozenset({"task.created"})

    register_consumer(jobs_app, Consumer(
        name="test.picky", handle=lambda session, event: calls.append(event.type), interested=interested,
        applies_to=lambda tenant_id: tenant_id == workspace.tenant_id))
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        contact = create_contact(session, first_name="Gil", emails=["gil@example.org"])
        create_task(session, title="Call Gil", links=[("contact", contact.id)])
    run_jobs(jobs_app)
    assert calls == ["task.created"]
    assert workspace.tenant_id in asked
    with jobs_app.app_context(), tenant_session(scope(workspace)) as session:
        ledger = session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == "test.picky")).all()
    assert len(ledger) == 1
