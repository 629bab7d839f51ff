"""Workflow definitions, their enrollments and each enrollment's run history (tenant schema).

An enrollment keeps a copy of the definition it started with, so editing a workflow never
leaves a waiting enrollment pointing at a step that moved or vanished. Two partial unique
indexes enforce the enrollment rules in the database, where concurrent deliveries cannot
race them: one live enrollment per object and workflow, and — for "once" workflows — one
enrollment per object ever.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import TenantModel

STATUSES = ("draft", "active", "paused")
#: running: between steps right now; waiting: a delay's timer is set; held: the workflow was
#: paused when the timer fired; the others are final.
ENROLLMENT_STATUSES = ("running", "waiting", "held", "completed", "goal_reached", "exited", "failed")
LIVE = ("running", "waiting", "held")


class Workflow(TenantModel):
    __tablename__ = "workflows"
    __table_args__ = (Index("ix_workflows_trigger", "trigger_event", postgresql_where="status = 'active'"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    #: Copied from definition["trigger"]["event"] so the consumer finds candidates by index.
    trigger_event: Mapped[str] = mapped_column(String(100))
    #: {"trigger": {"event", "conditions"}, "enrollment": {"mode"}, "goal": group|None, "steps": [...]}
    definition: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class WorkflowEnrollment(TenantModel):
    __tablename__ = "workflow_enrollments"
    __table_args__ = (
        Index("uq_workflow_enrollments_live", "workflow_id", "object_type", "object_id", unique=True,
              postgresql_where=text("status IN ('running', 'waiting', 'held')")),
        Index("uq_workflow_enrollments_once", "workflow_id", "object_type", "object_id", unique=True,
              postgresql_where=text("once")),
        Index("ix_workflow_enrollments_workflow", "workflow_id", "id"),
        Index("ix_workflow_enrollments_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("tenant.workflows.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int] = mapped_column(BigInteger)
    once: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    status: Mapped[str] = mapped_column(String(20), default="running", server_default="running")
    #: The definition as it was at enrollment (see the module docstring).
    definition: Mapped[dict] = mapped_column(JSONB, default=dict)
    #: Path of the next step to run, e.g. [2] or [3, "then", 0]; None once finished.
    cursor: Mapped[list | None] = mapped_column(JSONB)
    resume_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The triggering event's payload, which conditions read as event.<key>.
    event_payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WorkflowRun(TenantModel):
    """One line of an enrollment's run history: a step that ran, waited, branched or failed."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index("ix_workflow_runs_enrollment", "enrollment_id", "id"),
        Index("ix_workflow_runs_workflow", "workflow_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("tenant.workflow_enrollments.id", ondelete="CASCADE"))
    workflow_id: Mapped[int] = mapped_column(BigInteger)
    #: "2", "3.then.0" … or "" for the enrollment itself (enrolled, goal reached, exited).
    step_path: Mapped[str] = mapped_column(String(200), default="")
    step_kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(120))
    #: enrolled, done, skipped, waiting, branch, goal_reached, exited, failed, completed, held, resumed
    result: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
