"""Running an import: batches that each commit with their progress and error rows, and resuming.

Each batch is one transaction holding its rows, its events, its error-report lines
and the run's new `processed_rows`. A run that stops — crash, restart, `max_batches`,
`stop_after` — has therefore imported exactly the rows before `processed_rows`, has a
report for the failed ones, and `resume_import` continues after them (the file is
stored on the run until it finishes). Nothing is imported twice: a resumed run starts
at `processed_rows` and first re-claims the e-mails and domains of the rows before it.

Where runs execute: the wizard and the API call `launch_import` after committing the
started run; it enqueues the durable job `crm.run_import` (`kundo.crm.jobs`), which
calls `continue_import` — a queued run starts, a running one (its worker died and the
broker redelivered the message, or the previous slice ended) resumes. A worker that
dies mid-import never acknowledged its message, so the message comes back.
`app.extensions["kundo.import_launcher"]` can replace the launcher. `run_import` does
all steps in the foreground (CLI, benchmarks).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine

from kundo.crm.imports.batches import BatchResult, ImportJob, import_batch_isolating_refusals
from kundo.crm.imports.csvfile import DEFAULT_MAX_BYTES, iter_records
from kundo.crm.imports.models import ImportRun
from kundo.crm.imports.readahead import ReadAhead
from kundo.crm.imports.report import failed_row_numbers, report_header, report_rows
from kundo.crm.imports.service import (
    FAILED,
    QUEUED,
    RUNNING,
    ImportRunError,
    create_import,
    finish_run,
    headers_of,
    ready_to_resume,
    start_import,
)
from kundo.crm.properties.service import definitions_for
from kundo.platform.db import db, utcnow
from kundo.tenants.session import TenantScope, open_tenant_session

log = logging.getLogger("kundo.crm.imports")

DEFAULT_BATCH_SIZE = 5000
#: The job that executes runs (registered by kundo.crm.jobs).
IMPORT_JOB = "crm.run_import"

ProgressCallback = Callable[[int, int], None]


class RunTakenOver(ImportRunError):
    """The run is not this worker's to run (not queued, or another worker moved it on)."""


def execute_import(scope: TenantScope, run_id: int, *, batch_size: int = DEFAULT_BATCH_SIZE,
                   max_batches: int | None = None, on_progress: ProgressCallback | None = None,
                   members: dict[str, int] | None = None, engine: Engine | None = None,
                   stop_after: float | None = None) -> ImportRun:
    """Run a queued import (or continue a resumed one) to its end, or for `max_batches` batches.

    :param stop_after: seconds after which the run stops at the next batch boundary and
        stays running, for a job to continue it in a later slice (see `continue_import`).

    :param members: {e-mail: user id} of the workspace's members for owner columns;
        loaded from the control plane when omitted.
    :param on_progress: called with (processed_rows, total_rows) after each commit.
    Returns the run as committed last. A failure marks the run failed and re-raises.
    """
    started = time.monotonic()
    session = open_tenant_session(scope, engine)
    try:
        run = _claim(session, run_id)
    except BaseException:
        session.close()
        raise
    try:
        if run.processed_rows == 0:  # in the try: a file that cannot be read fails the run, not just this call
            run.error_report = report_header(headers_of(run), run.delimiter)
            session.commit()
        job = _job_for(session, run, members if members is not None else workspace_members(scope.tenant_id))
        processed = run.processed_rows
        records = iter_records(run.content, run.encoding, run.delimiter, start=processed)
        with ReadAhead(job.reader, records, batch_size, prepare=job.prepare) as batches:
            for count, batch in enumerate(batches, start=1):
                _hold(session, run_id, processed)
                result = _import_batch(session, job, batch)
                _record_batch(session, run, processed, len(batch), result, job.reader.width)
                session.commit()
                job.claimed.update(result.claims)
                processed += len(batch)
                if on_progress:
                    on_progress(processed, run.total_rows)
                if (max_batches is not None and count >= max_batches) or (
                        stop_after is not None and time.monotonic() - started >= stop_after):
                    return _reloaded(session, run_id)
        finish_run(run)
        session.commit()
        return _reloaded(session, run_id)
    except RunTakenOver:
        session.rollback()
        raise
    except Exception as error:
        session.rollback()
        _mark_failed(session, run_id, error)
        raise
    finally:
        session.close()


def run_import(scope: TenantScope, content: bytes, *, object_type: str = "contact", filename: str = "import.csv",
               mapping: dict | None = None, on_duplicate: str = "update", dry_run: bool = False,
               created_by: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES, **options) -> ImportRun:
    """Upload, start and execute an import in the foreground; `mapping=None` takes the suggestion.

    The CLI and the benchmarks use this; `options` go to `execute_import`.
    """
    session = open_tenant_session(scope, options.get("engine"))
    try:
        run = create_import(session, object_type=object_type, filename=filename, content=content,
                            created_by=created_by, max_bytes=max_bytes)
        start_import(session, run, mapping=run.mapping if mapping is None else mapping,
                     on_duplicate=on_duplicate, dry_run=dry_run)
        session.commit()
        run_id = run.id
    finally:
        session.close()
    return execute_import(scope, run_id, **options)


def resume_import(scope: TenantScope, run_id: int, **options) -> ImportRun:
    """Continue a run that stopped (crashed, interrupted or failed) after its last committed batch."""
    session = open_tenant_session(scope, options.get("engine"))
    try:
        run = session.get(ImportRun, run_id)
        ready_to_resume(run)
        run.status, run.error = QUEUED, None
        session.commit()
    finally:
        session.close()
    return execute_import(scope, run_id, **options)


def continue_import(scope: TenantScope, run_id: int, **options) -> ImportRun | None:
    """Take a run on from wherever it stands; what the import job does each time it is delivered.

    Queued: start it. Running: its worker died (the broker redelivers a dead worker's
    message) or the previous slice stopped on time — resume after the last committed
    batch; if the first worker is in fact alive, the batch lock lets one of the two go on
    and the other stops with RunTakenOver. Anything else (completed, failed, pending,
    gone): nothing to do, returns None — a failed run is resumed by a person, who sees why.
    """
    session = open_tenant_session(scope, options.get("engine"))
    try:
        status = session.scalar(select(ImportRun.status).where(ImportRun.id == run_id))
    finally:
        session.close()
    if status == QUEUED:
        return execute_import(scope, run_id, **options)
    if status == RUNNING:
        log.info("import run %s of tenant %s continues after its last batch", run_id, scope.tenant_id)
        return resume_import(scope, run_id, **options)
    return None


def launch_import(app: Flask, tenant_id: int, run_id: int) -> None:
    """Hand a queued, committed run to the launcher: by default the durable job `crm.run_import`."""
    launcher = app.extensions.get("kundo.import_launcher", enqueue_import)
    launcher(app, tenant_id, run_id)


def enqueue_import(app: Flask, tenant_id: int, run_id: int) -> None:
    """Send the import job. Called after the run's commit (a send is not transactional): if the
    broker refuses, the request fails and the run stays queued, which `kundo crm import-resume` runs."""
    from kundo.platform.jobs import jobs_of

    jobs_of(app).send(IMPORT_JOB, tenant_id, run_id)


def workspace_members(tenant_id: int) -> dict[str, int]:
    """{lower e-mail: user id} of the workspace's members, for owner columns."""
    from kundo.platform.auth.models import User
    from kundo.tenants.models import Membership

    rows = db.session.execute(
        select(func.lower(User.email), User.id).join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id))
    return dict(rows.all())


def _claim(session, run_id: int) -> ImportRun:
    """Move a queued run to running; refuse anything else (a second worker, a finished run)."""
    run = session.scalar(select(ImportRun).where(ImportRun.id == run_id).with_for_update())
    if run is None:
        raise ImportRunError(f"There is no import run {run_id}.")
    if run.status != QUEUED:
        raise RunTakenOver(f"Import run {run_id} is {run.status}, not queued; start or resume it first.")
    run.status = RUNNING
    session.commit()
    return run


def _job_for(session, run: ImportRun, members: dict[str, int]) -> ImportJob:
    job = ImportJob(run_id=run.id, object_type=run.object_type, headers=headers_of(run), mapping=run.mapping,
                    on_duplicate=run.on_duplicate, dry_run=run.dry_run,
                    definitions=definitions_for(session, run.object_type), members=members,
                    actor_id=run.created_by)
    if run.processed_rows:
        earlier = itertools.islice(iter_records(run.content, run.encoding, run.delimiter), run.processed_rows)
        job.claim_earlier_rows(earlier, failed_row_numbers(run.error_report, run.delimiter))
    session.commit()
    return job


def _hold(session, run_id: int, processed: int) -> None:
    """Lock the run for this batch's transaction; a second worker on the same run waits here, then stops."""
    current = session.execute(select(ImportRun.processed_rows, ImportRun.status)
                              .where(ImportRun.id == run_id).with_for_update()).one()
    if tuple(current) != (processed, RUNNING):
        raise RunTakenOver(f"Import run {run_id} was moved on by another worker; this one stops.")


def _import_batch(session, job: ImportJob, batch) -> BatchResult:
    # A batch commits with its own progress, so losing the last commits in a server crash
    # loses rows and progress together; resuming redoes exactly those. No need to wait for the disk.
    session.execute(text("SET LOCAL synchronous_commit TO off"))
    return import_batch_isolating_refusals(session, job, batch)


def _record_batch(session, run: ImportRun, processed: int, size: int, result: BatchResult, width: int) -> None:
    """Progress, counts and report lines, in the batch's transaction; refuses if another worker moved on."""
    values = {
        "processed_rows": ImportRun.processed_rows + size,
        "created_count": ImportRun.created_count + result.created,
        "updated_count": ImportRun.updated_count + result.updated,
        "skipped_count": ImportRun.skipped_count + result.skipped,
        "failed_count": ImportRun.failed_count + len(result.failures),
    }
    if result.failures:
        chunk = report_rows(result.failures, width, run.delimiter)
        values["error_report"] = func.coalesce(ImportRun.error_report, "").concat(chunk)
    moved = session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.processed_rows == processed, ImportRun.status == RUNNING)
        .values(**values)
    ).rowcount
    if moved != 1:
        raise RunTakenOver(f"Import run {run.id} was changed by another worker; this one stops.")


def _reloaded(session, run_id: int) -> ImportRun:
    session.expire_all()
    return session.get(ImportRun, run_id)


def _mark_failed(session, run_id: int, error: Exception) -> None:
    try:
        session.execute(update(ImportRun).where(ImportRun.id == run_id, ImportRun.status == RUNNING)
                        .values(status=FAILED, error=str(error)[:2000], finished_at=utcnow()))
        session.commit()
    except Exception:  # the database itself may be what failed; the run then stays "running"
        session.rollback()
        log.exception("could not mark import run %s failed", run_id)
