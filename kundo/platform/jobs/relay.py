"""The relay: outbox rows → dispatch jobs, due timers → timer jobs.

It LISTENs on the channels the tenant triggers NOTIFY on commit (`kundo_outbox`,
`kundo_timers`) with the schema name as payload, and sweeps every tenant at start and
every `relay_sweep_seconds` for whatever was committed while no relay listened. Several
relays may run at once: rows are claimed with `FOR UPDATE SKIP LOCKED` and a timer job
that finds nothing due does nothing.

Publishing marks rows published in the same transaction that enqueues their dispatch
message; if the enqueue fails the rows stay unpublished, and if the commit fails after
the enqueue the batch is dispatched twice — which the consumers' ledger absorbs.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import psycopg
from flask import Flask
from sqlalchemy import text

from kundo.platform.clock import clock_of
from kundo.platform.config import libpq_url
from kundo.platform.db import db
from kundo.platform.jobs.dispatch import DISPATCH_JOB
from kundo.platform.jobs.models import OUTBOX_CHANNEL, TIMERS_CHANNEL
from kundo.platform.jobs.scopes import active_scopes
from kundo.platform.jobs.timers import TIMER_JOB
from kundo.tenants.naming import quoted
from kundo.tenants.session import TenantScope, tenant_session

log = logging.getLogger(__name__)

BATCH = 100  # events per dispatch message
MAX_BATCHES_PER_TURN = 20  # then other tenants get their turn
SWEEP_CHUNK = 500  # schemas per UNION ALL query

_CLAIM = text(
    "UPDATE event_outbox SET published_at = now() WHERE id IN ("
    " SELECT id FROM event_outbox WHERE published_at IS NULL ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
    ") RETURNING id"
)


class Relay:
    def __init__(self, app: Flask) -> None:
        from kundo.platform.jobs import jobs_of

        self.app = app
        self.jobs = jobs_of(app)
        self.settings = app.config["KUNDO"]
        self.scopes: dict[str, TenantScope] = {}
        self.pending_outboxes: set[str] = set()
        self.next_timer: dict[str, datetime | None] = {}
        self.published = 0

    # -- one tenant ------------------------------------------------------------------
    def publish_outbox(self, scope: TenantScope) -> int:
        """Publish up to MAX_BATCHES_PER_TURN batches; returns how many events went out."""
        sent = 0
        for _ in range(MAX_BATCHES_PER_TURN):
            with tenant_session(scope) as session:
                ids = sorted(session.scalars(_CLAIM, {"limit": BATCH}))
                if not ids:
                    return sent
                self.jobs.send(DISPATCH_JOB, scope.tenant_id, ids)
            sent += len(ids)
        self.pending_outboxes.add(scope.schema_name)  # more may wait; come back after the others
        return sent

    def refresh_timer(self, scope: TenantScope) -> None:
        from kundo.platform.jobs.timers import next_due

        with tenant_session(scope) as session:
            self.next_timer[scope.schema_name] = next_due(session)

    # -- all tenants -----------------------------------------------------------------
    def load_scopes(self) -> None:
        self.scopes = {scope.schema_name: scope for scope in active_scopes()}
        db.session.remove()

    def sweep(self) -> None:
        """Find every tenant with unpublished events or unfired timers (one query per 500 schemas)."""
        self.load_scopes()
        schemas = list(self.scopes)
        with db.engine.connect() as connection:
            for start in range(0, len(schemas), SWEEP_CHUNK):
                chunk = schemas[start:start + SWEEP_CHUNK]
                outbox_sql = " UNION ALL ".join(
                    f"SELECT {i} FROM (SELECT 1 FROM {quoted(s)}.event_outbox WHERE published_at IS NULL LIMIT 1) p"
                    for i, s in enumerate(chunk)
                )
                for (index,) in connection.exec_driver_sql(outbox_sql):
                    self.pending_outboxes.add(chunk[index])
                timers_sql = " UNION ALL ".join(
                    f"SELECT {i}, (SELECT min(due_at) FROM {quoted(s)}.timers "
                    f"WHERE fired_at IS NULL AND failed_at IS NULL)" for i, s in enumerate(chunk)
                )
                for index, due in connection.exec_driver_sql(timers_sql):
                    self.next_timer[chunk[index]] = due
            connection.rollback()

    def scope_for(self, schema: str) -> TenantScope | None:
        if schema not in self.scopes:
            self.load_scopes()
        return self.scopes.get(schema)

    def turn(self) -> int:
        """Publish pending outboxes and send jobs for due timers; returns how much was done."""
        work = 0
        for schema in list(self.pending_outboxes):
            self.pending_outboxes.discard(schema)
            scope = self.scope_for(schema)
            if scope is not None:
                work += self.publish_outbox(scope)
        now = clock_of(self.app).now()
        for schema, due in list(self.next_timer.items()):
            if due is not None and due <= now and (scope := self.scope_for(schema)) is not None:
                self.jobs.send(TIMER_JOB, scope.tenant_id)
                self.next_timer[schema] = None  # the timer job's UPDATE notifies us of the next due time
                work += 1
        self.published += work
        return work

    def note(self, channel: str, schema: str) -> None:
        if channel == OUTBOX_CHANNEL:
            self.pending_outboxes.add(schema)
        elif channel == TIMERS_CHANNEL and (scope := self.scope_for(schema)) is not None:
            self.refresh_timer(scope)

    # -- the loop --------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Listen, sweep, publish until `stop` is set; reconnects after database errors."""
        while not stop.is_set():
            try:
                self._listen_loop(stop)
            except (psycopg.Error, OSError) as error:
                log.warning("relay lost its connection (%s); reconnecting", error)
                stop.wait(1.0)

    def _listen_loop(self, stop: threading.Event) -> None:
        with self.app.app_context(), psycopg.connect(libpq_url(self.settings.database_url), autocommit=True,
                                                    application_name="kundo-relay") as listener:
            listener.execute(f"LISTEN {OUTBOX_CHANNEL}; LISTEN {TIMERS_CHANNEL}")
            self.sweep()
            swept_at = time.monotonic()
            while not stop.is_set():
                self.turn()
                db.session.remove()
                if time.monotonic() - swept_at >= self.settings.relay_sweep_seconds:
                    self.sweep()
                    swept_at = time.monotonic()
                self._wait(listener, timeout=0.0 if self.pending_outboxes else 0.5)

    def _wait(self, listener: psycopg.Connection, timeout: float) -> None:
        """Block until the first notification (or the timeout), then take whatever else has arrived."""
        for notification in listener.notifies(timeout=timeout, stop_after=1):
            self.note(notification.channel, notification.payload)
        for notification in listener.notifies(timeout=0.0, stop_after=10_000):
            self.note(notification.channel, notification.payload)
