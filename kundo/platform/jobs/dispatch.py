"""Delivering published events to consumers, each exactly once.

A dispatch job carries a tenant id and a batch of event ids. Everything happens in one
tenant transaction: for each (event, consumer) not yet in the ledger, the consumer runs
inside a SAVEPOINT together with its ledger row. A consumer that raises is rolled back to
its savepoint, the others keep their work, and the job raises at the end, so the retry
runs only what is missing. A worker killed mid-batch commits nothing; the redelivered
batch does it all, once.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from kundo.platform.events.consumers import DeliveredEvent, consumers_of
from kundo.platform.events.outbox import OutboxEvent
from kundo.platform.jobs.models import ProcessedEvent
from kundo.platform.jobs.scopes import TenantGone, scope_of
from kundo.tenants.session import tenant_session

log = logging.getLogger(__name__)

DISPATCH_JOB = "kundo.dispatch_events"


class DeliveryFailed(RuntimeError):
    """Some consumers failed; the message is retried for them alone."""


def dispatch_events(tenant_id: int, event_ids: list[int]) -> int:
    """Run every interested consumer on the events; returns how many handler runs happened."""
    try:
        scope = scope_of(tenant_id)
    except TenantGone:
        log.info("events of deleted tenant %s dropped", tenant_id, extra={"tenant_id": tenant_id})
        return 0
    consumers = list(consumers_of(current_app).values())
    failures: list[str] = []
    runs = 0
    with tenant_session(scope) as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).order_by(OutboxEvent.id))
        done = set(session.execute(
            select(ProcessedEvent.consumer, ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(event_ids))
        ))
        for row in events.all():
            event = DeliveredEvent(
                id=row.id, type=row.type, tenant_id=tenant_id, object_type=row.object_type,
                object_id=row.object_id, payload=row.payload, actor_id=row.actor_id, occurred_at=row.occurred_at,
            )
            for consumer in consumers:
                if (consumer.name, event.id) in done or not consumer.wants(event.type, tenant_id):
                    continue
                try:
                    with session.begin_nested():
                        consumer.handle(session, event)
                        session.add(ProcessedEvent(consumer=consumer.name, event_id=event.id))
                    runs += 1
                except Exception as error:  # noqa: BLE001 - one consumer's failure must not stop the others
                    log.exception("consumer %s failed on event %s (%s)", consumer.name, event.id, event.type,
                                  extra={"tenant_id": tenant_id, "consumer": consumer.name,
                                         "plugin_id": consumer.plugin_id})
                    failures.append(f"{consumer.name} on event {event.id} ({event.type}): {error!r}")
    if failures:
        raise DeliveryFailed("; ".join(failures))
    return runs
