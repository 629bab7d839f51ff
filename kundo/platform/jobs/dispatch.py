"""Delivering published events to consumers, each exactly once.

A dispatch job carries a tenant id and a batch of event ids. Everything happens in one
tenant transaction: for each (event, consumer) not yet in the ledger, the consumer runs
together with its ledger row. The batch first runs under one SAVEPOINT; if any consumer
raises, it is rolled back and redone with a SAVEPOINT per (event, consumer): the failing
one is rolled back alone, the others keep their work, and the job raises at the end, so
the retry runs only what is missing. A worker killed mid-batch commits nothing; the redelivered
batch does it all, once.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import insert, select

from kundo.platform.events.consumers import DeliveredEvent, consumers_of
from kundo.platform.events.outbox import CAUSE_DEPTH, OutboxEvent
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
    with tenant_session(scope) as session:
        work = _pending_work(session, tenant_id, event_ids, consumers)
        if not work:
            return 0
        try:
            # The usual case, all consumers succeed: one savepoint and one ledger INSERT for the batch.
            with session.begin_nested():
                for event, consumer in work:
                    _handle(session, consumer, event)
                _record(session, work)
            return len(work)
        except Exception:  # noqa: BLE001 - redone one by one below, where each failure is isolated
            log.info("a consumer failed in a batch of %d; delivering one by one", len(work),
                     extra={"tenant_id": tenant_id})
        for event, consumer in work:
            try:
                with session.begin_nested():
                    _handle(session, consumer, event)
                    _record(session, [(event, consumer)])
            except Exception as error:  # noqa: BLE001 - one consumer's failure must not stop the others
                log.exception("consumer %s failed on event %s (%s)", consumer.name, event.id, event.type,
                              extra={"tenant_id": tenant_id, "consumer": consumer.name,
                                     "plugin_id": consumer.plugin_id})
                failures.append(f"{consumer.name} on event {event.id} ({event.type}): {error!r}")
    if failures:
        raise DeliveryFailed("; ".join(failures))
    return len(work) - len(failures)


def _handle(session, consumer, event: DeliveredEvent) -> None:
    """Events the consumer emits are one step deeper in the chain than the one it handles."""
    session.info[CAUSE_DEPTH] = int((event.payload or {}).get(CAUSE_DEPTH, 0)) + 1
    try:
        consumer.handle(session, event)
    finally:
        session.info.pop(CAUSE_DEPTH, None)


def _pending_work(session, tenant_id: int, event_ids: list[int], consumers: list) -> list[tuple]:
    """(event, consumer) pairs that are wanted and not yet in the ledger, in event order."""
    rows = session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).order_by(OutboxEvent.id)).all()
    done = set(session.execute(
        select(ProcessedEvent.consumer, ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(event_ids))
    ))
    interest = {c.name: c.interested(session) for c in consumers if c.interested is not None}
    work = []
    for row in rows:
        event = DeliveredEvent(
            id=row.id, type=row.type, tenant_id=tenant_id, object_type=row.object_type,
            object_id=row.object_id, payload=row.payload, actor_id=row.actor_id, occurred_at=row.occurred_at,
        )
        work.extend((event, consumer) for consumer in consumers
                    if (consumer.name, event.id) not in done and consumer.wants(event.type, tenant_id)
                    and (interest.get(consumer.name) is None or event.type in interest[consumer.name]))
    return work


def _record(session, work: list[tuple]) -> None:
    session.execute(insert(ProcessedEvent), [{"consumer": c.name, "event_id": e.id} for e, c in work])
