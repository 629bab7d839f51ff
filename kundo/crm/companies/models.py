"""Companies and the contact ↔ company links (tenant schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import TenantModel


class Company(TenantModel):
    __tablename__ = "companies"
    __table_args__ = (
        Index("uq_companies_domain_lower", text("lower(domain)"), unique=True,
              postgresql_where=text("domain IS NOT NULL")),
        Index("ix_companies_created", "created_at", "id"),
        Index("ix_companies_owner", "owner_id", "id"),
        Index("ix_companies_custom", "custom", postgresql_using="gin", postgresql_ops={"custom": "jsonb_path_ops"}),
        Index("ix_companies_name_trgm", text("lower(name) extensions.gin_trgm_ops"), postgresql_using="gin"),
        Index("ix_companies_domain_trgm", text("lower(coalesce(domain,'')) extensions.gin_trgm_ops"),
              postgresql_using="gin"),
        # List sorts (migration t0005).
        Index("ix_companies_name_sort", text("lower(name)"), "id"),
        Index("ix_companies_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    street: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(50))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    custom: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class ContactCompany(TenantModel):
    """Many-to-many; `contacts.primary_company_id` names the primary one."""

    __tablename__ = "contact_companies"

    contact_id: Mapped[int] = mapped_column(ForeignKey("tenant.contacts.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant.companies.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    role: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
