"""Tasks and the objects they are about (tenant schema)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo.platform.db import TenantModel


class TaskType(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    TODO = "todo"
    FOLLOW_UP = "follow_up"


class Task(TenantModel):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_open_by_owner", "owner_id", "due_at", postgresql_where="done_at IS NULL"),
        # emit_due_tasks runs every few minutes in every workspace; this keeps a run with
        # nothing due at one index probe instead of a scan of all tasks.
        Index("ix_tasks_due_unannounced", "due_at", postgresql_where="done_at IS NULL AND due_notified_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(20), default="todo", server_default="todo")
    notes: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    links: Mapped[list[TaskLink]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True)


class TaskLink(TenantModel):
    __tablename__ = "task_links"
    __table_args__ = (Index("ix_task_links_object", "object_type", "object_id", "task_id"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("tenant.tasks.id", ondelete="CASCADE"), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    task: Mapped[Task] = relationship(back_populates="links")
