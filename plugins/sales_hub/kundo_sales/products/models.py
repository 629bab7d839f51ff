"""Products of the catalogue. Prices are net; the VAT rate travels with the product onto a quote line."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Numeric, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kundo_sales.models import Base

#: German VAT: the standard and the reduced rate. Other rates (0 %, foreign VAT) are allowed too.
VAT_PRESETS = (Decimal("19.00"), Decimal("7.00"))


class Product(Base):
    __tablename__ = "sales_products"
    __table_args__ = (
        # One live product per SKU; an archived one keeps its SKU for old quotes without blocking a successor.
        Index("uq_sales_products_sku", text("lower(sku)"), unique=True,
              postgresql_where=text("sku IS NOT NULL AND archived_at IS NULL")),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percent"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("19.00"), server_default="19.00")
    unit: Mapped[str | None] = mapped_column(String(30))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
