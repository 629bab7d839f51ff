"""Workflows as admins manage them: create, edit, activate, pause, resume, inspect.

Functions work in the caller's tenant transaction and never commit. A definition is
checked (`definition.check_definition`) on every write, so the engine only ever sees
valid ones. Editing a workflow changes what new enrollments do; enrollments already
under way keep the definition they started with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundo.platform.workflows.definition import DefinitionError, check_definition
from kundo.platform.workflows.engine import release_held, retry_enrollment
from kundo.platform.workflows.models import LIVE, STATUSES, Workflow, WorkflowEnrollment, WorkflowRun

__all__ = [
    "DefinitionError", "WorkflowNotFound", "WorkflowStats", "create_workflow", "delete_workflow", "enrollments_of",
    "get_enrollment", "get_workflow", "history_of", "list_workflows", "retry", "set_status", "update_workflow",
]


class WorkflowNotFound(LookupError):
    pass


@dataclass(frozen=True)
class WorkflowStats:
    enrolled: int
    live: int
    failed: int
    last_run_at: datetime | None


def _name(name: str | None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 200:
        raise DefinitionError({"name": ["Give the workflow a name of at most 200 characters."]})
    return clean


def create_workflow(session: Session, *, name: str, definition: dict, description: str | None = None,
                    status: str = "draft", created_by: int | None = None) -> Workflow:
    """Store a new workflow (draft unless `status` says active); raises DefinitionError."""
    if status not in ("draft", "active"):
        raise DefinitionError({"status": ["A new workflow is draft or active."]})
    clean = check_definition(definition, session.scope.tenant_id)
    workflow = Workflow(name=_name(name), description=(description or "").strip() or None, status=status,
                        trigger_event=clean["trigger"]["event"], definition=clean, created_by=created_by)
    session.add(workflow)
    session.flush()
    return workflow


def update_workflow(session: Session, workflow: Workflow, *, name: str | None = None,
                    description: str | None = None, definition: dict | None = None) -> Workflow:
    """Change name, description and/or definition (checked again)."""
    if name is not None:
        workflow.name = _name(name)
    if description is not None:
        workflow.description = description.strip() or None
    if definition is not None:
        clean = check_definition(definition, session.scope.tenant_id)
        workflow.definition, workflow.trigger_event = clean, clean["trigger"]["event"]
    session.flush()
    return workflow


def set_status(session: Session, workflow: Workflow, status: str, now: datetime) -> Workflow:
    """active (activate or resume: held enrollments continue), paused, or draft.

    A paused workflow enrolls nothing new; enrollments whose delay ends meanwhile wait as
    "held" and continue when it is resumed.
    """
    if status not in STATUSES:
        raise DefinitionError({"status": [f"Use one of: {', '.join(STATUSES)}."]})
    if status == "draft" and workflow.status != "draft":
        live = session.scalar(select(func.count()).select_from(WorkflowEnrollment).where(
            WorkflowEnrollment.workflow_id == workflow.id, WorkflowEnrollment.status.in_(LIVE)))
        if live:
            raise DefinitionError({"status": ["Records are enrolled; pause the workflow instead."]})
    if status == "active":
        # Re-checked: a plugin whose action or trigger it uses may have been disabled meanwhile.
        check_definition(workflow.definition, session.scope.tenant_id)
    previous, workflow.status = workflow.status, status
    if status == "active" and previous == "paused":
        release_held(session, workflow, now)
    session.flush()
    return workflow


def delete_workflow(session: Session, workflow: Workflow) -> None:
    """Delete it with its enrollments and history; their pending timers find nothing and do nothing."""
    session.delete(workflow)
    session.flush()


def get_workflow(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise WorkflowNotFound(workflow_id)
    return workflow


def list_workflows(session: Session) -> list[tuple[Workflow, WorkflowStats]]:
    """Every workflow with its enrollment figures, newest first."""
    workflows = session.scalars(select(Workflow).order_by(Workflow.id.desc())).all()
    counts = {row.workflow_id: row for row in session.execute(
        select(WorkflowEnrollment.workflow_id, func.count().label("enrolled"),
               func.count().filter(WorkflowEnrollment.status.in_(LIVE)).label("live"),
               func.count().filter(WorkflowEnrollment.status == "failed").label("failed"))
        .group_by(WorkflowEnrollment.workflow_id))}
    last = dict(session.execute(select(WorkflowRun.workflow_id, func.max(WorkflowRun.at))
                                .group_by(WorkflowRun.workflow_id)).all())
    return [(workflow, WorkflowStats(
        enrolled=counts[workflow.id].enrolled if workflow.id in counts else 0,
        live=counts[workflow.id].live if workflow.id in counts else 0,
        failed=counts[workflow.id].failed if workflow.id in counts else 0,
        last_run_at=last.get(workflow.id))) for workflow in workflows]


def stats_of(session: Session, workflow: Workflow) -> WorkflowStats:
    row = session.execute(
        select(func.count(), func.count().filter(WorkflowEnrollment.status.in_(LIVE)),
               func.count().filter(WorkflowEnrollment.status == "failed"))
        .where(WorkflowEnrollment.workflow_id == workflow.id)).one()
    last = session.scalar(select(func.max(WorkflowRun.at)).where(WorkflowRun.workflow_id == workflow.id))
    return WorkflowStats(enrolled=row[0], live=row[1], failed=row[2], last_run_at=last)


def enrollments_of(session: Session, workflow: Workflow, *, status: str | None = None,
                   before_id: int | None = None, limit: int = 50) -> list[WorkflowEnrollment]:
    """Enrollments newest first; `before_id` pages on."""
    query = select(WorkflowEnrollment).where(WorkflowEnrollment.workflow_id == workflow.id)
    if status:
        query = query.where(WorkflowEnrollment.status == status)
    if before_id:
        query = query.where(WorkflowEnrollment.id < before_id)
    return list(session.scalars(query.order_by(WorkflowEnrollment.id.desc()).limit(limit)))


def get_enrollment(session: Session, workflow: Workflow, enrollment_id: int) -> WorkflowEnrollment:
    enrollment = session.get(WorkflowEnrollment, enrollment_id)
    if enrollment is None or enrollment.workflow_id != workflow.id:
        raise WorkflowNotFound(enrollment_id)
    return enrollment


def history_of(session: Session, enrollment: WorkflowEnrollment) -> list[WorkflowRun]:
    """The enrollment's run history, oldest first."""
    return list(session.scalars(select(WorkflowRun).where(WorkflowRun.enrollment_id == enrollment.id)
                                .order_by(WorkflowRun.id)))


def recent_runs(session: Session, workflow: Workflow, limit: int = 50) -> list[WorkflowRun]:
    return list(session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id)
                                .order_by(WorkflowRun.id.desc()).limit(limit)))


def retry(session: Session, enrollment: WorkflowEnrollment, now: datetime) -> bool:
    """Retry a failed enrollment from the step that failed; False if it is not failed or the
    record has been enrolled again meanwhile (one live enrollment per record)."""
    try:
        with session.begin_nested():
            return retry_enrollment(session, enrollment, now)
    except IntegrityError:
        return False
