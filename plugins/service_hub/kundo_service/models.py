"""The Service Hub's tables: they exist only in workspaces that enabled the hub."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, func  # noqa: F401 - the shape differs per hub
from sqlalchemy.orm import Mapped, mapped_column

from kundo.plugins.sdk import plugin_model_base

Base = plugin_model_base("service")


class Ticket(Base):
    __tablename__ = "service_tickets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
