"""The outbox: domain events land in the tenant's `event_outbox` table.

An event is written in the same transaction as the change that caused it, so a
rolled-back change never announces itself and a committed one is never lost. The
relay (`kundo.platform.jobs.relay`) hands unpublished rows to the dispatch job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from kundo.platform.db import TenantModel

#: Payload key (and session.info key) of an event's place in a chain of events causing events.
CAUSE_DEPTH = "_cause_depth"


class OutboxEvent(TenantModel):
    __tablename__ = "event_outbox"
    __table_args__ = (
        Index("ix_event_outbox_unpublished", "id", postgresql_where="published_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def emit_event(
    session: Session,
    event_type: str,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    payload: dict[str, Any] | None = None,
    actor_id: int | None = None,
) -> OutboxEvent:
    """Record a domain event in the caller's tenant transaction.

    An event emitted while a consumer handles another one carries how deep that chain is
    (`CAUSE_DEPTH` in the payload), so a workflow that keeps re-triggering itself can be cut off.
    """
    depth = session.info.get(CAUSE_DEPTH)
    if depth:
        payload = {**(payload or {}), CAUSE_DEPTH: depth}
    event = OutboxEvent(
        type=event_type, object_type=object_type, object_id=object_id,
        payload=payload or {}, actor_id=actor_id,
    )
    session.add(event)
    return event
