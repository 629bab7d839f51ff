"""Control-plane records of the marketplace: who publishes, and each uploaded version.

A plugin listing is not a table of its own: it is the newest approved version of a
plugin id, and the install count comes from the plugin host's `tenant_plugins`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo.platform.db import db


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Publisher(db.Model):
    """A person (or their company) who may upload plugins; one per user."""

    __tablename__ = "publishers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("control.users.id", ondelete="RESTRICT"), unique=True)
    #: What manifests must name as their `publisher`; unique so a listing cannot impersonate.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    website: Mapped[str] = mapped_column(String(300))
    support_email: Mapped[str] = mapped_column(String(320))
    #: The payment provider's account for revenue share (filled in by billing).
    payout_account_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    versions: Mapped[list[PluginVersion]] = relationship(back_populates="publisher")


class PluginVersion(db.Model):
    """One uploaded wheel of a plugin: its manifest, its stored artifact and its review."""

    __tablename__ = "plugin_versions"
    __table_args__ = (
        UniqueConstraint("plugin_id", "version"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plugin_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[str] = mapped_column(String(40))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("control.publishers.id", ondelete="RESTRICT"), index=True)
    manifest: Mapped[dict] = mapped_column(JSONB)
    #: The wheel's distribution name (what pip installs and `importlib.metadata` knows).
    distribution: Mapped[str] = mapped_column(String(100))
    changelog: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The wheel's path relative to the marketplace folder: `<plugin_id>/<wheel file name>`.
    artifact_path: Mapped[str] = mapped_column(String(300))
    #: The file list of the wheel, for the reviewer (name and size of each member).
    files: Mapped[list] = mapped_column(JSONB, default=list)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PENDING.value,
                                        server_default=ReviewStatus.PENDING.value)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("control.users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    publisher: Mapped[Publisher] = relationship(back_populates="versions")
