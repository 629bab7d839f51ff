"""Tables of the delivery system.

Tenant schema: the processed-event ledger (one row per consumer and event, written in the
same transaction as the consumer's effects) and durable timers (work due at a time, which
survives any restart because it is a row). Control plane: dead letters, so admins see what
failed for good, whichever broker carried it.

Triggers on the outbox and the timers table NOTIFY the relay on commit; a periodic sweep
catches anything that was committed while no relay listened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kundo.platform.db import ControlModel, TenantModel

OUTBOX_CHANNEL = "kundo_outbox"
TIMERS_CHANNEL = "kundo_timers"


class ProcessedEvent(TenantModel):
    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Timer(TenantModel):
    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "due_at", postgresql_where="fired_at IS NULL AND failed_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    handler: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Optional idempotency key: scheduling the same key twice keeps one timer.
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeadLetter(ControlModel):
    """A job that failed after every retry. `retried_at` is set when an admin sent it again."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "job" or "timer"
    actor: Mapped[str] = mapped_column(String(120))
    args: Mapped[list] = mapped_column(JSONB, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retried_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retried_by: Mapped[int | None] = mapped_column(BigInteger)


def _notify_trigger(table: str, channel: str, on: str) -> tuple[str, ...]:
    function = f"{table}_notify"
    return (
        f"CREATE FUNCTION {{schema}}.{function}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{channel}', TG_TABLE_SCHEMA); RETURN NULL; END $$",
        f"CREATE TRIGGER {function} AFTER {on} ON {{schema}}.{table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.{function}()",
    )


#: Created with the tables in every tenant schema (provisioning and migration t0007).
TENANT_DDL: tuple[str, ...] = (
    *_notify_trigger("event_outbox", OUTBOX_CHANNEL, "INSERT"),  # publishing (UPDATE) is no news
    *_notify_trigger("timers", TIMERS_CHANNEL, "INSERT OR UPDATE"),  # fired/rescheduled: next due moves
)
