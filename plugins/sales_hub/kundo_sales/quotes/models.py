"""Quotes, their lines and the per-year number counter of the workspace.

Totals are stored on the quote as computed by `kundo_sales.quotes.totals` whenever its
lines change, so lists and the forecast read them without recomputing.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo_sales.models import Base


class QuoteStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class QuoteCounter(Base):
    """The last number handed out per year. Incrementing it locks the row until the quote commits,
    so concurrent quotes queue up, and a rolled-back quote gives its number back (no gaps)."""

    __tablename__ = "sales_quote_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Quote(Base):
    __tablename__ = "sales_quotes"
    __table_args__ = (
        Index("ix_sales_quotes_deal", "deal_id", "created_at"),
        CheckConstraint("status IN ('draft', 'sent', 'accepted', 'declined', 'withdrawn')", name="status_known"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_percent"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_deals.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="draft", server_default="draft")
    language: Mapped[str] = mapped_column(String(5), default="de", server_default="de")
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    title: Mapped[str | None] = mapped_column(String(200))
    introduction: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[date] = mapped_column(Date)
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    #: A discount on the whole quote, in percent, applied to every tax rate's sum.
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"), server_default="0")
    net_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"), server_default="0")
    tax_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"), server_default="0")
    gross_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"), server_default="0")
    #: Accepting the quote on its public page marks the deal won.
    win_deal_on_accept: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    #: Part of every public link; changing it revokes the links sent so far.
    link_key: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_to: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(QuoteLine.position, QuoteLine.id)")

    @property
    def editable(self) -> bool:
        return self.status == QuoteStatus.DRAFT


class QuoteLine(Base):
    __tablename__ = "sales_quote_lines"
    __table_args__ = (
        Index("ix_sales_quote_lines_quote", "quote_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_percent"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percent"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_quotes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    product_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.sales_products.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit: Mapped[str | None] = mapped_column(String(30))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"), server_default="0")
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    quote: Mapped[Quote] = relationship(back_populates="lines")
