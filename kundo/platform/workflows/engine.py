"""Running workflows: enrolling objects when events arrive and walking their steps.

The consumer (`on_event`) and the resume timer handler (`on_resume`) run inside the
delivery system's tenant transaction with exactly-once database effects, so the engine
keeps no queue of its own: it walks an enrollment's steps until a delay, writes a durable
timer for the delay's end and stops; the timer picks up where it left off.

Failures: an action that raises is rolled back to its savepoint, recorded in the run
history and marks *that* enrollment failed — other enrollments of the same event go on.
Failed actions are not retried automatically (most failures are refusals that would fail
again, and retrying an e-mail that half-went-out sends it twice); an admin can retry a
failed enrollment from the step that failed (`retry_enrollment`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from kundo.platform.clock import now as clock_now
from kundo.platform.events import DeliveredEvent
from kundo.platform.events.outbox import CAUSE_DEPTH
from kundo.platform.jobs import schedule_timer
from kundo.platform.workflows.actions import ActionContext, ActionSkipped, actions_for
from kundo.platform.workflows.conditions import matches
from kundo.platform.workflows.models import Workflow, WorkflowEnrollment, WorkflowRun
from kundo.platform.workflows.objects import merge_context, object_properties
from kundo.platform.workflows.steps import advance, delay_until, enter_branch, first_path, path_text, step_at

log = logging.getLogger(__name__)

CONSUMER = "workflows.trigger"
RESUME = "workflows.resume"
#: Steps one run may take before it hands over to a timer (guards against runaway definitions).
MAX_STEPS_PER_RUN = 200
CORE_OBJECTS = frozenset({"contact", "company", "task", "activity"})


def record(session: Session, enrollment: WorkflowEnrollment, *, result: str, now: datetime, path: list | None = None,
           kind: str = "enrollment", action: str | None = None, detail: dict | None = None,
           error: str | None = None) -> None:
    session.add(WorkflowRun(enrollment_id=enrollment.id, workflow_id=enrollment.workflow_id,
                            step_path=path_text(path or []), step_kind=kind, action=action, result=result,
                            detail=detail or {}, error=error, at=now))


#: Events caused by events caused by ... workflows: past this depth a chain is taken for a loop
#: (a workflow on activity.logged that adds a note, say) and no workflow starts from it.
MAX_CAUSE_DEPTH = 8


def active_trigger_types(session: Session) -> frozenset[str]:
    """The event types some active workflow of this tenant starts from."""
    return frozenset(session.scalars(select(Workflow.trigger_event).where(Workflow.status == "active").distinct()))


def on_event(session: Session, event: DeliveredEvent) -> None:
    """Enroll the event's object in every active workflow of this tenant it triggers."""
    if event.object_id is None:
        return
    depth = int((event.payload or {}).get(CAUSE_DEPTH, 0))
    if depth >= MAX_CAUSE_DEPTH:
        log.warning("event %s (%s) is %d events deep in a chain workflows caused; no workflow starts from it",
                    event.id, event.type, depth, extra={"tenant_id": event.tenant_id})
        return
    workflows = session.scalars(select(Workflow).where(
        Workflow.status == "active", Workflow.trigger_event == event.type).order_by(Workflow.id)).all()
    if not workflows:
        return
    now = clock_now()
    current = object_properties(session, event.object_type or "", event.object_id)
    if current is None and event.object_type in CORE_OBJECTS:
        return  # deleted before delivery: nothing to act on
    properties = {**(current or {}), "event": dict(event.payload or {})}
    for workflow in workflows:
        trigger = workflow.definition.get("trigger") or {}
        if not matches(trigger.get("conditions"), properties, now):
            continue
        enroll(session, workflow, event.object_type or "", event.object_id, now=now, event_id=event.id,
               event_payload=dict(event.payload or {}))


def enroll(session: Session, workflow: Workflow, object_type: str, object_id: int, *, now: datetime,
           event_id: int | None = None, event_payload: dict | None = None,
           run_now: bool = True) -> WorkflowEnrollment | None:
    """Enroll an object unless the enrollment rule refuses (then None); run it now or via a timer."""
    once = (workflow.definition.get("enrollment") or {}).get("mode", "once") == "once"
    steps = workflow.definition.get("steps") or []
    new_id = session.scalar(
        insert(WorkflowEnrollment).values(
            workflow_id=workflow.id, object_type=object_type, object_id=object_id, once=once,
            status="running" if run_now else "waiting", definition=workflow.definition, cursor=first_path(steps),
            resume_at=None if run_now else now, event_id=event_id, event_payload=event_payload or {},
            enrolled_at=now,
        ).on_conflict_do_nothing().returning(WorkflowEnrollment.id))
    if new_id is None:
        return None
    enrollment = session.get(WorkflowEnrollment, new_id)
    record(session, enrollment, result="enrolled", now=now, detail={"event_id": event_id} if event_id else {})
    if run_now:
        run(session, enrollment, now)
    else:
        _schedule(session, enrollment, now)
    return enrollment


def _schedule(session: Session, enrollment: WorkflowEnrollment, due: datetime) -> None:
    enrollment.status, enrollment.resume_at = "waiting", due
    schedule_timer(session, handler=RESUME, due_at=due,
                   payload={"enrollment_id": enrollment.id, "cursor": enrollment.cursor})


def _finish(session: Session, enrollment: WorkflowEnrollment, status: str, now: datetime, **kwargs) -> None:
    enrollment.status, enrollment.finished_at, enrollment.resume_at = status, now, None
    if status != "failed":
        enrollment.cursor = None
    record(session, enrollment, result=status, now=now, **kwargs)


def run(session: Session, enrollment: WorkflowEnrollment, now: datetime) -> None:
    """Walk steps from the enrollment's cursor until a delay, the end, the goal or a failure.

    What the steps emit counts as caused by the enrolling event — after a delay too, when the
    run resumes from a timer rather than from the event's delivery.
    """
    previous = session.info.get(CAUSE_DEPTH)
    session.info[CAUSE_DEPTH] = int((enrollment.event_payload or {}).get(CAUSE_DEPTH, 0)) + 1
    try:
        _run(session, enrollment, now)
    finally:
        if previous is None:
            session.info.pop(CAUSE_DEPTH, None)
        else:
            session.info[CAUSE_DEPTH] = previous


def _run(session: Session, enrollment: WorkflowEnrollment, now: datetime) -> None:
    steps = enrollment.definition.get("steps") or []
    goal = enrollment.definition.get("goal")
    actions = None
    enrollment.status = "running"
    for _ in range(MAX_STEPS_PER_RUN):
        path = enrollment.cursor
        step = step_at(steps, path)
        if step is None:
            _finish(session, enrollment, "completed", now)
            return
        current = object_properties(session, enrollment.object_type, enrollment.object_id)
        if current is None and enrollment.object_type in CORE_OBJECTS:
            _finish(session, enrollment, "exited", now, detail={"reason": "The record was deleted."})
            return
        properties = {**(current or {}), "event": enrollment.event_payload or {}}
        if goal and goal.get("rules") and matches(goal, properties, now):
            _finish(session, enrollment, "goal_reached", now)
            return
        kind = step["kind"]
        if kind == "branch":
            arm = "then" if matches(step["conditions"], properties, now) else "else"
            record(session, enrollment, result="branch", now=now, path=path, kind=kind, detail={"arm": arm})
            enrollment.cursor = enter_branch(steps, path, arm)
            continue
        if kind == "delay":
            due, reason = delay_until(session, step, properties, now)
            enrollment.cursor = advance(steps, path)
            if due is None or due <= now:
                record(session, enrollment, result="done", now=now, path=path, kind=kind,
                       detail={"mode": step["mode"], "no_wait": reason or "already due"})
                continue
            record(session, enrollment, result="waiting", now=now, path=path, kind=kind,
                   detail={"mode": step["mode"], "until": due.isoformat()})
            _schedule(session, enrollment, due)
            return
        if actions is None:
            actions = actions_for(session.scope.tenant_id)
        if not _run_action(session, enrollment, step, path, actions, now):
            return
        enrollment.cursor = advance(steps, path)
    # A very long run of instant steps: continue in a fresh transaction.
    _schedule(session, enrollment, now)


def _run_action(session: Session, enrollment: WorkflowEnrollment, step: dict, path: list, actions: dict,
                now: datetime) -> bool:
    """Run one action in a savepoint; False when it failed (the enrollment is then failed)."""
    key = step["action"]
    spec = actions.get(key)
    if spec is None:
        _fail(session, enrollment, path, key, now, "This action is no longer available (its plugin was disabled?).")
        return False
    ctx = ActionContext(tenant_id=session.scope.tenant_id, workflow_id=enrollment.workflow_id,
                        enrollment_id=enrollment.id, object_type=enrollment.object_type,
                        object_id=enrollment.object_id, now=now,
                        merge=merge_context(session, enrollment.object_type, enrollment.object_id))
    try:
        with session.begin_nested():
            result, detail = spec.run(session, ctx, step.get("params") or {})
    except ActionSkipped as skipped:
        record(session, enrollment, result="skipped", now=now, path=path, kind="action", action=key,
               detail={"reason": str(skipped)})
        return True
    except Exception as error:  # noqa: BLE001 - recorded in the history; the enrollment fails, others go on
        log.warning("workflow %s enrollment %s: action %s failed: %r", enrollment.workflow_id, enrollment.id, key,
                    error, extra={"tenant_id": session.scope.tenant_id})
        _fail(session, enrollment, path, key, now, _describe(error))
        return False
    record(session, enrollment, result=result, now=now, path=path, kind="action", action=key, detail=_json(detail))
    return True


def _fail(session: Session, enrollment: WorkflowEnrollment, path: list, key: str, now: datetime, error: str) -> None:
    record(session, enrollment, result="failed", now=now, path=path, kind="action", action=key, error=error)
    enrollment.status, enrollment.finished_at, enrollment.last_error = "failed", now, error
    enrollment.resume_at = None


def _describe(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict):
        return "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in errors.items())[:2000]
    return (str(error) or error.__class__.__name__)[:2000]


def _json(detail: dict) -> dict:
    return {key: value if isinstance(value, str | int | float | bool | list | dict | None) else str(value)
            for key, value in (detail or {}).items()}


def on_resume(session: Session, payload: dict, timer) -> None:  # noqa: ARG001 - the timer row is not needed
    """A delay ended (or an enrollment was queued): continue where it stopped."""
    enrollment = session.get(WorkflowEnrollment, payload.get("enrollment_id"), with_for_update=True)
    if enrollment is None or enrollment.status != "waiting" or enrollment.cursor != payload.get("cursor"):
        return  # removed, finished, retried or rescheduled since: this timer is stale
    now = clock_now()
    workflow = session.get(Workflow, enrollment.workflow_id)
    if workflow is None:
        return
    if workflow.status != "active":
        enrollment.status, enrollment.resume_at = "held", None
        record(session, enrollment, result="held", now=now, detail={"reason": "The workflow is paused."})
        return
    run(session, enrollment, now)


def release_held(session: Session, workflow: Workflow, now: datetime) -> int:
    """After resume: held enrollments continue now (each through its own timer)."""
    held = session.scalars(select(WorkflowEnrollment).where(
        WorkflowEnrollment.workflow_id == workflow.id, WorkflowEnrollment.status == "held")).all()
    for enrollment in held:
        record(session, enrollment, result="resumed", now=now)
        _schedule(session, enrollment, now)
    return len(held)


def retry_enrollment(session: Session, enrollment: WorkflowEnrollment, now: datetime) -> bool:
    """Run a failed enrollment again from the step that failed; False if it is not failed."""
    if enrollment.status != "failed" or enrollment.cursor is None:
        return False
    enrollment.finished_at, enrollment.last_error = None, None
    record(session, enrollment, result="resumed", now=now, detail={"retry": True})
    _schedule(session, enrollment, now)
    return True


def init_app(app) -> None:
    from kundo.platform.events import Consumer, register_consumer
    from kundo.platform.jobs import register_timer_handler

    # Every event type: plugin triggers are only known per tenant at delivery time; a tenant
    # without an active workflow for the type costs one index probe (ix_workflows_trigger).
    register_consumer(app, Consumer(name=CONSUMER, handle=on_event, interested=active_trigger_types))
    register_timer_handler(app, RESUME, on_resume)
