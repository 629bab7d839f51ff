"""Sales targets per owner and month, and the hub's per-workspace settings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, DateTime, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from kundo_sales.models import Base


class Target(Base):
    """What `owner_id` should win in `month` (the first day of the month)."""

    __tablename__ = "sales_targets"
    __table_args__ = (UniqueConstraint("owner_id", "month", name="uq_sales_targets_owner_month"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger)
    month: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SalesSettings(Base):
    """One row per workspace (id 1): whether members see all deals or only their own."""

    __tablename__ = "sales_settings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deal_visibility: Mapped[str] = mapped_column(String(10), default="all", server_default="all")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
