"""Booking pages (one per member) and the meetings visitors book on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kundo_sales.models import Base


class BookingPage(Base):
    """A member's availability. `availability` maps ISO weekdays ("1" = Monday … "7" = Sunday) to
    lists of ["HH:MM", "HH:MM"] windows in the workspace's time zone."""

    __tablename__ = "sales_booking_pages"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer_range"),
        CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    horizon_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    notice_minutes: Mapped[int] = mapped_column(Integer, default=120, server_default="120")
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    availability: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Meeting(Base):
    __tablename__ = "sales_meetings"
    __table_args__ = (
        # The same start twice for one host is refused by the database itself; overlapping
        # starts are refused under the booking page's row lock (see booking.service.book).
        Index("uq_sales_meetings_host_start", "host_user_id", "starts_at", unique=True,
              postgresql_where=text("status = 'confirmed'")),
        Index("ix_sales_meetings_host_time", "host_user_id", "starts_at", "ends_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('confirmed', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    booking_page_id: Mapped[int] = mapped_column(ForeignKey("tenant.sales_booking_pages.id", ondelete="CASCADE"))
    host_user_id: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default="confirmed", server_default="confirmed")
    visitor_name: Mapped[str] = mapped_column(String(200))
    visitor_email: Mapped[str] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    activity_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Raised on every change, so calendars replace the old invitation (ICS SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Part of the cancel/reschedule links.
    link_key: Mapped[str] = mapped_column(String(32))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
