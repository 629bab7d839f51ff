"""Pipelines, their stages and the stage rules that create tasks when a deal enters a stage."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo_sales.models import Base


class StageKind(enum.StrEnum):
    """Open stages are editable; every pipeline has exactly one won and one lost stage, fixed at the end."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Pipeline(Base):
    __tablename__ = "sales_pipelines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    stages: Mapped[list[Stage]] = relationship(
        back_populates="pipeline", order_by="Stage.position", cascade="all, delete-orphan", passive_deletes=True)


class Stage(Base):
    __tablename__ = "sales_stages"
    __table_args__ = (
        Index("ix_sales_stages_pipeline", "pipeline_id", "position"),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        CheckConstraint("kind IN ('open', 'won', 'lost')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_pipelines.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Win probability in percent (0–100), the weight of the forecast.
    probability: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A deal untouched in this stage for longer is "rotting" (highlighted); None = never.
    rotting_days: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="open", server_default="open")

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class StageRule(Base):
    """Entering `stage_id` creates a task for the deal's owner, due `due_in_days` later."""

    __tablename__ = "sales_stage_rules"
    __table_args__ = (Index("ix_sales_stage_rules_stage", "stage_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_pipelines.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_stages.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    task_type: Mapped[str] = mapped_column(String(20), default="todo", server_default="todo")
    due_in_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
