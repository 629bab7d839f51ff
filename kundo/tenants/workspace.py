"""The workspace profile: the first table in every tenant schema.

It holds what documents and mails of the workspace show about the business (address,
logo, currency, time zone), so it lives with the tenant's data, not in the control plane.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kundo.platform.db import TenantModel

DEFAULT_TIMEZONE = "Europe/Berlin"


class WorkspaceProfile(TenantModel):
    __tablename__ = "workspace_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


def zone_named(name: str | None) -> ZoneInfo:
    """The zone of that name; the default for a missing or unknown one (a profile edited by hand)."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def workspace_zone(session: Session) -> ZoneInfo:
    """The workspace's time zone: "today", due dates and weekday delays are the team's, not the server's."""
    return zone_named(session.scalar(select(WorkspaceProfile.timezone).where(WorkspaceProfile.id == 1)))
