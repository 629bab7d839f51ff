"""Activities and their links to contacts, companies, deals, tickets … (tenant schema)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, event, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundo.platform.db import TenantModel


class ActivityType(enum.StrEnum):
    NOTE = "note"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    FORM_SUBMISSION = "form_submission"
    SOCIAL_MESSAGE = "social_message"
    INVOICE = "invoice"
    TICKET_EVENT = "ticket_event"
    SYSTEM = "system"


class Activity(TenantModel):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_occurred", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    #: Type-specific data, e.g. a call's direction, duration and outcome.
    payload: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    #: Where it came from: "ui", "api", "import", "email-sync", "form:<id>", a plugin id …
    source: Mapped[str] = mapped_column(String(100), default="ui", server_default="ui")
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    links: Mapped[list[ActivityLink]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", passive_deletes=True)


class ActivityLink(TenantModel):
    """A generic association: hubs link activities to their own objects (deal, ticket, quote)."""

    __tablename__ = "activity_links"
    __table_args__ = (
        # A timeline page is one short range of this index, however many activities the
        # object has (scanned backwards for newest first).
        Index("ix_activity_links_timeline", "object_type", "object_id", "occurred_at", "activity_id"),
    )

    activity_id: Mapped[int] = mapped_column(ForeignKey("tenant.activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: A copy of the activity's occurred_at, the timeline's sort key (see the index).
    #: Filled in on insert when left empty; copy it along in INSERT … SELECT statements.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    activity: Mapped[Activity] = relationship(back_populates="links")


@event.listens_for(ActivityLink, "before_insert")
def _copy_occurred_at(mapper, connection, link: ActivityLink) -> None:  # noqa: ARG001 - SQLAlchemy signature
    """Links made through the ORM need not name the time: it is read from the activity
    in the INSERT itself, so a server-side default of the activity is seen too."""
    if link.occurred_at is None:
        link.occurred_at = (select(Activity.occurred_at).where(Activity.id == link.activity_id)
                            .scalar_subquery())
