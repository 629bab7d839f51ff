"""Notifications for one member of a workspace, and whether they also want them by e-mail (tenant schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import TenantModel


class Notification(TenantModel):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user", "user_id", "id"),
        # The bell counts a member's unread ones on every page.
        Index("ix_notifications_unread", "user_id", postgresql_where="read_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: A workspace member (control-plane user id; no foreign key out of the tenant schema).
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(30), default="info", server_default="info")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: A path inside the workspace (e.g. /tasks) or an absolute https:// address.
    link: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationPreference(TenantModel):
    """A member's choice for this workspace; no row means the defaults (e-mail on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
