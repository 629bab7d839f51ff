"""Deals, the contacts on them, and every stage change (the stage history)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo_sales.models import Base


class DealStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class ForecastCategory(enum.StrEnum):
    """Where a rep puts a deal in the forecast; None means "pipeline" for open deals."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"


class Deal(Base):
    __tablename__ = "sales_deals"
    __table_args__ = (
        Index("ix_sales_deals_board", "pipeline_id", "stage_id", "status", "id"),
        Index("ix_sales_deals_owner", "owner_id", "status"),
        Index("ix_sales_deals_close", "expected_close_date"),
        Index("ix_sales_deals_company", "company_id"),
        # sales_0004: the board's newest cards per stage; forecast and metrics by close and creation time.
        Index("ix_sales_deals_stage_recent", "stage_id", text("stage_entered_at DESC"), text("id DESC")),
        Index("ix_sales_deals_closed", "closed_at"),
        Index("ix_sales_deals_pipeline_created", "pipeline_id", "created_at"),
        CheckConstraint("status IN ('open', 'won', 'lost')", name="status_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"), server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_pipelines.id", ondelete="RESTRICT"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_stages.id", ondelete="RESTRICT"))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    company_id: Mapped[int | None] = mapped_column(BigInteger)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    lost_reason: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(100))
    forecast_category: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: When the deal entered its current stage (stage age, rotting).
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    contacts: Mapped[list[DealContact]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", passive_deletes=True, order_by="DealContact.created_at")
    history: Mapped[list[StageChange]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(StageChange.changed_at, StageChange.id)")

    @property
    def contact_ids(self) -> list[int]:
        return [link.contact_id for link in self.contacts]


class DealContact(Base):
    """A contact on a deal. kundo.crm has no generic association for hub objects, so the hub keeps its own."""

    __tablename__ = "sales_deal_contacts"
    __table_args__ = (Index("ix_sales_deal_contacts_contact", "contact_id", "deal_id"),)

    deal_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_deals.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    deal: Mapped[Deal] = relationship(back_populates="contacts")


class StageChange(Base):
    """One entry of a deal's stage history: it entered `to_stage_id` at `changed_at`, moved by `changed_by`."""

    __tablename__ = "sales_deal_stage_history"
    __table_args__ = (
        Index("ix_sales_stage_history_deal", "deal_id", "changed_at", "id"),
        Index("ix_sales_stage_history_pipeline", "pipeline_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_deals.id", ondelete="CASCADE"))
    pipeline_id: Mapped[int] = mapped_column(BigInteger)
    from_stage_id: Mapped[int | None] = mapped_column(BigInteger)
    to_stage_id: Mapped[int] = mapped_column(BigInteger)
    changed_by: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    deal: Mapped[Deal] = relationship(back_populates="history")
