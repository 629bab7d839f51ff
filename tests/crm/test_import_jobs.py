"""CSV imports run as the durable job `crm.run_import`: sliced, redelivered after a worker died, never twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kundo.crm import jobs as crm_jobs
from kundo.crm.contacts.models import Contact
from kundo.crm.imports import service
from kundo.crm.imports.models import ImportRun
from kundo.crm.imports.runner import IMPORT_JOB, execute_import
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.platform.jobs import jobs_of
from kundo.platform.jobs.deadletters import dead_letters_of
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, tenant_session


@pytest.fixture
def scope(app_ctx, make_workspace) -> TenantScope:
    return TenantScope.of(db.session.get(Tenant, make_workspace().tenant_id))


def numbered_contacts(rows: int) -> bytes:
    lines = ["E-Mail;Vorname;Nachname", *(f"person{index}@example.com;Person;Nr {index}" for index in range(rows))]
    return ("\r\n".join(lines) + "\r\n").encode()


def started_run(scope, content: bytes) -> int:
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contact", filename="many.csv", content=content)
        service.start_import(session, run, mapping=run.mapping)
        return run.id


def the_run(scope, run_id: int) -> ImportRun:
    with tenant_session(scope) as session:
        return session.get(ImportRun, run_id)


def count(scope, model) -> int:
    with tenant_session(scope) as session:
        return session.scalar(select(func.count()).select_from(model))


def send(app, scope, run_id: int) -> None:
    jobs_of(app).send(IMPORT_JOB, scope.tenant_id, run_id)
    db.session.remove()


def test_a_long_import_works_in_slices_each_continuing_after_the_last_batch(app, scope, run_jobs, monkeypatch):
    monkeypatch.setattr(crm_jobs, "IMPORT_BATCH_SIZE", 10)
    monkeypatch.setattr(crm_jobs, "IMPORT_SLICE_SECONDS", 0)  # every delivery does one batch, then sends the next
    run_id = started_run(scope, numbered_contacts(25))
    send(app, scope, run_id)
    run_jobs()
    done = the_run(scope, run_id)
    assert (done.status, done.processed_rows, done.created_count, done.failed_count) == ("completed", 25, 25, 0)
    assert count(scope, Contact) == 25 and count(scope, OutboxEvent) == 25


def test_a_redelivered_job_resumes_the_run_its_dead_worker_left_without_importing_a_row_twice(app, scope, run_jobs):
    run_id = started_run(scope, numbered_contacts(30))
    # A worker that died after its first committed batch: the run says running, 10 rows are in.
    stopped = execute_import(scope, run_id, batch_size=10, max_batches=1, members={})
    assert (stopped.status, stopped.processed_rows) == ("running", 10)
    send(app, scope, run_id)  # the broker hands the dead worker's message to another worker
    run_jobs()
    done = the_run(scope, run_id)
    assert (done.status, done.processed_rows, done.created_count, done.failed_count) == ("completed", 30, 30, 0)
    assert count(scope, Contact) == 30 and count(scope, OutboxEvent) == 30
    assert done.content is None  # a finished real run drops its file

    send(app, scope, run_id)  # delivered once more after it finished: nothing happens
    run_jobs()
    assert count(scope, Contact) == 30 and the_run(scope, run_id).status == "completed"


def test_a_run_that_fails_is_recorded_on_the_run_and_not_retried_by_the_broker(app, scope, run_jobs):
    run_id = started_run(scope, numbered_contacts(5))
    with tenant_session(scope) as session:  # the stored file can no longer be read
        session.get(ImportRun, run_id).encoding = "no-such-encoding"
    send(app, scope, run_id)
    run_jobs()
    failed = the_run(scope, run_id)
    assert failed.status == "failed" and "cannot be read as no-such-encoding" in failed.error
    assert dead_letters_of(scope.tenant_id) == []  # the person resumes it from the wizard or the CLI
    assert count(scope, Contact) == 0
