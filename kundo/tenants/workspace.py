"""The workspace profile: the first table in every tenant schema.

It holds what documents and mails of the workspace show about the business (address,
logo, currency, time zone), so it lives with the tenant's data, not in the control plane.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import TenantModel


class WorkspaceProfile(TenantModel):
    __tablename__ = "workspace_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    timezone: Mapped[str] = mapped_column(
        String(64), default="Europe/Berlin", server_default="Europe/Berlin"
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
