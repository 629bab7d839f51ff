"""The CRM's background work on the job system: sort indexes of custom properties, CSV imports.

Sort indexes. Creating or deleting a custom property emits `property.created` /
`property.deleted` in the same transaction. The consumer `crm.sort_indexes` only
enqueues the job `crm.sync_sort_index`: `CREATE INDEX CONCURRENTLY` cannot run in a
transaction, and a consumer runs inside the dispatch transaction. Enqueueing from the
consumer is not atomic with the consumer's ledger row, and need not be: if the send
fails the consumer raises and is retried; if the dispatch transaction is lost after the
send, the redelivered event sends again. The job is idempotent — it builds or drops the
index to match the property as it is when the job runs (`sync_sort_index`) — so a second
or late job costs a catalogue lookup, never a wrong index. A failed build is retried by
the broker, and the retry replaces the INVALID index it left.

Imports. `crm.run_import(tenant_id, run_id)` runs a started import in slices of
`IMPORT_SLICE_SECONDS` (below dramatiq's time limit, and so other jobs get a turn), then
sends itself again to continue. A worker that dies mid-slice has not acknowledged its
message, so the broker redelivers it and `continue_import` resumes after the last
committed batch; batches commit with their progress, so no row is imported twice.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import select

from kundo.platform.db import db
from kundo.platform.events import Consumer, DeliveredEvent, register_consumer
from kundo.platform.jobs import jobs_of, register_job

log = logging.getLogger(__name__)

SORT_INDEX_JOB = "crm.sync_sort_index"
SORT_INDEX_CONSUMER = "crm.sort_indexes"
#: How long one delivery of the import job works before it hands over to a fresh message.
IMPORT_SLICE_SECONDS = 120.0
#: Rows per batch (and per transaction) of a job-run import.
IMPORT_BATCH_SIZE = 5000


def init_app(app: Flask) -> None:
    from kundo.crm.imports.runner import IMPORT_JOB, enqueue_import

    register_job(app, SORT_INDEX_JOB, sync_sort_index_job)
    register_consumer(app, Consumer(SORT_INDEX_CONSUMER, schedule_sort_index,
                                    event_types=frozenset({"property.created", "property.deleted"})))
    register_job(app, IMPORT_JOB, run_import_job)
    app.extensions.setdefault("kundo.import_launcher", enqueue_import)


def schedule_sort_index(session, event: DeliveredEvent) -> None:  # noqa: ARG001 - the consumer signature
    """Consumer: a property was created or deleted; its index is built or dropped by a job (see above)."""
    payload = event.payload
    jobs_of(current_app).send(SORT_INDEX_JOB, event.tenant_id, payload["object_type"], payload["key"])


def sync_sort_index_job(tenant_id: int, object_type: str, key: str) -> None:
    from kundo.crm.lists.sort_indexes import sync_sort_index
    from kundo.platform.jobs.scopes import TenantGone, scope_of

    try:
        scope = scope_of(tenant_id)
    except TenantGone:
        return
    # CONCURRENTLY waits for open transactions on the table; this job's own must not be one of them.
    db.session.remove()
    outcome = sync_sort_index(scope, object_type, key)
    log.info("sort index of %s.%s %s", object_type, key, outcome, extra={"tenant_id": tenant_id})


def run_import_job(tenant_id: int, run_id: int) -> None:
    from kundo.crm.imports.models import ImportRun
    from kundo.crm.imports.runner import IMPORT_JOB, RunTakenOver, continue_import, workspace_members
    from kundo.crm.imports.service import FAILED, RUNNING
    from kundo.tenants.models import Tenant
    from kundo.tenants.session import TenantScope, tenant_session

    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return
    scope, locale = TenantScope.of(tenant), tenant.locale or "en"
    members = workspace_members(tenant_id)
    db.session.remove()  # no control-plane transaction left open for the length of the import
    with force_locale(locale):  # the error report's reasons are in the workspace's language
        try:
            run = continue_import(scope, run_id, members=members, batch_size=IMPORT_BATCH_SIZE,
                                  stop_after=IMPORT_SLICE_SECONDS)
        except RunTakenOver:
            log.info("import run %s is another worker's now", run_id, extra={"tenant_id": tenant_id})
            return
        except Exception:
            with tenant_session(scope) as session:
                status = session.scalar(select(ImportRun.status).where(ImportRun.id == run_id))
            if status in (FAILED, None):
                # Recorded on the run and shown in the wizard; a retry would only repeat it.
                log.exception("import run %s failed", run_id, extra={"tenant_id": tenant_id})
                return
            raise  # not recorded (the database itself failing?): the broker retries, which resumes
    if run is not None and run.status == RUNNING:
        jobs_of(current_app).send(IMPORT_JOB, tenant_id, run_id)
