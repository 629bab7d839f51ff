"""Control-plane records of the plugin host: which plugins may load, and who enabled what.

`approved_plugins` is the allow-list the loader reads once at start (first-party hubs
need no row); `kundo plugins sync` upserts it. `tenant_plugins` is one row per plugin a
workspace installed — disabling keeps the row (and the data), uninstalling deletes both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import db


class ApprovedPlugin(db.Model):
    __tablename__ = "approved_plugins"
    __table_args__ = (CheckConstraint("source IN ('first_party', 'marketplace')", name="source"),)

    plugin_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="marketplace")
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TenantPlugin(db.Model):
    __tablename__ = "tenant_plugins"
    __table_args__ = (
        CheckConstraint("state IN ('enabled', 'disabled')", name="state"),
        Index("ix_tenant_plugins_plugin_id", "plugin_id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("control.tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    plugin_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    installed_version: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="enabled")
    consented_scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    enabled_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("control.users.id", ondelete="SET NULL"))
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"
