"""The registry of event consumers, kept on the app (no global state).

A consumer has a stable name — the processed-event ledger is keyed by (consumer, event id),
so renaming a consumer makes it see old events again. `applies_to(tenant_id)` lets the
plugin host restrict a plugin's consumers to the tenants that enabled it; it is asked at
delivery time, so enabling or disabling takes effect without a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

EXTENSION_KEY = "kundo.event_consumers"


@dataclass(frozen=True)
class DeliveredEvent:
    """One outbox event as consumers see it."""

    id: int
    type: str
    tenant_id: int
    object_type: str | None
    object_id: int | None
    payload: Mapping[str, Any]
    actor_id: int | None
    occurred_at: datetime


@dataclass(frozen=True)
class Consumer:
    """Something that reacts to events inside the tenant's session.

    `handle(session, event)` runs in the same transaction as the ledger row, so a handler
    whose effects are database writes takes effect exactly once. Raising rolls both back
    and the delivery is retried with backoff, then dead-lettered.
    """

    name: str
    handle: Callable[[Session, DeliveredEvent], None]
    event_types: frozenset[str] | None = None  # None: every event type
    applies_to: Callable[[int], bool] | None = None  # tenant id -> bool
    plugin_id: str | None = None
    #: Asked once per delivered batch, in the tenant's session: the event types this tenant
    #: has anything for right now (None: all). A consumer with nothing to do for an event is
    #: then neither called nor written to the ledger — most tenants have no webhook, say.
    interested: Callable[[Session], frozenset[str] | None] | None = None

    def wants(self, event_type: str, tenant_id: int) -> bool:
        if self.event_types is not None and event_type not in self.event_types:
            return False
        return self.applies_to is None or bool(self.applies_to(tenant_id))


def register_consumer(app: Flask, consumer: Consumer) -> None:
    registry: dict[str, Consumer] = app.extensions.setdefault(EXTENSION_KEY, {})
    if consumer.name in registry:
        raise ValueError(f"an event consumer named {consumer.name!r} is already registered")
    registry[consumer.name] = consumer


def consumers_of(app: Flask) -> dict[str, Consumer]:
    return app.extensions.get(EXTENSION_KEY, {})
