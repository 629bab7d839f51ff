"""Contacts and their e-mail addresses (tenant schema)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo.platform.db import TenantModel


class LifecycleStage(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "marketing_qualified_lead"
    SQL = "sales_qualified_lead"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    EVANGELIST = "evangelist"
    OTHER = "other"


class ConsentStatus(enum.StrEnum):
    UNKNOWN = "unknown"
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class Contact(TenantModel):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_created", "created_at", "id"),
        Index("ix_contacts_owner", "owner_id", "id"),
        Index("ix_contacts_lifecycle", "lifecycle_stage", "id"),
        Index("ix_contacts_tags", "tags", postgresql_using="gin"),
        Index("ix_contacts_custom", "custom", postgresql_using="gin", postgresql_ops={"custom": "jsonb_path_ops"}),
        Index("ix_contacts_name_trgm", text("(lower(coalesce(first_name,'') || ' ' || coalesce(last_name,''))) "
                                             "extensions.gin_trgm_ops"), postgresql_using="gin"),
        Index("ix_contacts_phone_trgm", "phone_digits", postgresql_using="gin",
              postgresql_ops={"phone_digits": "extensions.gin_trgm_ops"}),
        # List sorts (migration t0005): name as kundo.crm.lists.fields.CONTACT_NAME spells it.
        Index("ix_contacts_name_sort", text("(lower(coalesce(first_name,'') || ' ' || coalesce(last_name,'')))"),
              "id"),
        Index("ix_contacts_last_name_sort", text("lower(last_name)"), "id"),
        Index("ix_contacts_updated", "updated_at", "id"),
        Index("ix_contacts_primary_company", "primary_company_id", "id"),
        # The other standard sorts (migration t0010): lower() as kundo.crm.lists.fields sorts text.
        Index("ix_contacts_first_name_sort", text("lower(first_name)"), "id"),
        Index("ix_contacts_job_title_sort", text("lower(job_title)"), "id"),
        Index("ix_contacts_phone_sort", text("(phones[1])"), "id"),
        Index("ix_contacts_lead_status_sort", text("lower(lead_status)"), "id"),
        Index("ix_contacts_source_sort", text("lower(source)"), "id"),
        # Search finds names one typo away by exact last and first name (kundo.crm.lists.spelling).
        Index("ix_contacts_person_name", text("lower(last_name)"), text("lower(first_name)")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    phones: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list, server_default="{}")
    #: Digits of all phone numbers, space separated, for typo-tolerant phone search.
    phone_digits: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    primary_company_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.companies.id", ondelete="SET NULL"))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(40))
    #: When each lifecycle stage was first reached: {"lead": "2026-…", …}
    lifecycle_dates: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    lead_status: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default="{}")
    consent_status: Mapped[str] = mapped_column(String(20), default="unknown", server_default="unknown")
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: How consent was given or withdrawn (form, import, e-mail link, phone call …): GDPR proof.
    consent_source: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    emails: Mapped[list[ContactEmail]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(ContactEmail.is_primary.desc(), ContactEmail.id)",
    )

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (
            self.primary_email or f"#{self.id}")

    @property
    def primary_email(self) -> str | None:
        return self.emails[0].email if self.emails else None


class ContactEmail(TenantModel):
    __tablename__ = "contact_emails"
    __table_args__ = (
        Index("uq_contact_emails_lower", text("lower(email)"), unique=True),
        Index("ix_contact_emails_trgm", text("lower(email) extensions.gin_trgm_ops"), postgresql_using="gin"),
        #: Colleagues by e-mail domain, for duplicate suggestions (migration t0003).
        Index("ix_contact_emails_domain", text("split_part(lower(email), '@', 2)")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("tenant.contacts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    contact: Mapped[Contact] = relationship(back_populates="emails")
