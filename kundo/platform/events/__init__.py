"""Domain events: written to the tenant's outbox with the change, delivered to consumers.

`emit_event` is the one emitter. Consumers (core services, workflows, plugins, webhooks)
register a :class:`Consumer`; the relay and the dispatch job in `kundo.platform.jobs` deliver
each event at least once and the processed-event ledger makes every consumer run once.
"""

from kundo.platform.events.consumers import Consumer, DeliveredEvent, consumers_of, register_consumer
from kundo.platform.events.outbox import OutboxEvent, emit_event

__all__ = ["Consumer", "DeliveredEvent", "OutboxEvent", "consumers_of", "emit_event", "register_consumer"]
