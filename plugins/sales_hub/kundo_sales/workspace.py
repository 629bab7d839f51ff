"""What the hub's documents and pages show about the workspace: name, address, logo, time zone."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundo.tenants.workspace import DEFAULT_TIMEZONE, WorkspaceProfile, workspace_zone, zone_named

__all__ = ["Letterhead", "letterhead", "workspace_zone"]


@dataclass(frozen=True)
class Letterhead:
    company_name: str
    address: str
    logo_url: str | None
    currency: str
    timezone: ZoneInfo


def letterhead(session: Session, fallback_name: str = "") -> Letterhead:
    profile = session.scalar(select(WorkspaceProfile).where(WorkspaceProfile.id == 1))
    if profile is None:
        return Letterhead(fallback_name, "", None, "EUR", ZoneInfo(DEFAULT_TIMEZONE))
    return Letterhead(profile.company_name or fallback_name, (profile.address or "").strip(), profile.logo_url,
                      profile.currency or "EUR", zone_named(profile.timezone))



