"""CSV import of contacts and companies: the steps a wizard, the API and the CLI walk through.

    create_import   upload: detect encoding, delimiter and headers; suggest a mapping
    preview_import  the first rows as they would be imported, with each row's problems
    start_import    confirm mapping, on_duplicate and dry_run; the run is queued
    (runner)        kundo.crm.imports.runner executes queued runs batch by batch
    get_import      status, counts and progress (processed_rows / total_rows)
    error_report_download  the failed rows with their reasons, as CSV

Every function takes the tenant session first and never commits. A dry run does
everything a real run does except writing contacts, companies and events, so its
counts (created / updated / skipped / failed) are what the real run will do.
"""

from __future__ import annotations

import itertools

from flask_babel import gettext as _
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, defer, object_session

from kundo.crm.imports.batches import ImportJob, RowOutcome, import_batch
from kundo.crm.imports.csvfile import DEFAULT_MAX_BYTES, HEADER_BYTES, detect_layout, iter_records, read_headers
from kundo.crm.imports.mapping import normalized_object_type, suggest_mapping, validate_mapping
from kundo.crm.imports.models import ImportRun
from kundo.crm.imports.report import report_download
from kundo.crm.properties.service import definitions_for
from kundo.platform.db import utcnow

PENDING, QUEUED, RUNNING, COMPLETED, FAILED = "pending", "queued", "running", "completed", "failed"
ON_DUPLICATE = ("update", "skip")
PREVIEW_ROWS = 20


class ImportRunError(ValueError):
    """The run cannot do what was asked in its current state; the message says why and what to do."""


def create_import(session: Session, *, object_type: str, filename: str, content: bytes,
                  created_by: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ImportRun:
    """Store an uploaded file as a pending run with its detected layout and a suggested mapping.

    Raises CsvFileError (file unreadable) or MappingError (unknown object type).
    """
    object_type = normalized_object_type(object_type)
    layout = detect_layout(content, max_bytes=max_bytes)
    run = ImportRun(
        object_type=object_type, filename=(filename or "import.csv")[:300], content=content,
        encoding=layout.encoding, delimiter=layout.delimiter,
        mapping=suggest_mapping(layout.headers, object_type, definitions_for(session, object_type)),
        total_rows=layout.row_count, status=PENDING, created_by=created_by,
    )
    session.add(run)
    session.flush()
    return run


def get_import(session: Session, run_id: int) -> ImportRun | None:
    """The run without its file (loaded only when a step needs it): progress polls stay cheap."""
    return session.get(ImportRun, run_id, options=[defer(ImportRun.content)])


def list_imports(session: Session, *, limit: int = 50) -> list[ImportRun]:
    """The newest runs first, without their files."""
    return list(session.scalars(
        select(ImportRun).options(defer(ImportRun.content)).order_by(ImportRun.id.desc()).limit(limit)))


def headers_of(run: ImportRun) -> list[str]:
    """The file's column headers; empty once a real run has finished and dropped the file.

    A run loaded without its file reads only the file's first bytes from the database.
    """
    if "content" in inspect(run).unloaded:
        head = object_session(run).scalar(
            select(func.substring(ImportRun.content, 1, HEADER_BYTES)).where(ImportRun.id == run.id))
    else:
        head = run.content
    if head is None:
        return []
    return read_headers(head, run.encoding, run.delimiter)


def suggested_mapping(session: Session, run: ImportRun) -> dict[str, str | None]:
    return suggest_mapping(headers_of(run), run.object_type, definitions_for(session, run.object_type))


def preview_import(session: Session, run: ImportRun, *, mapping: dict | None = None, on_duplicate: str = "skip",
                   limit: int = PREVIEW_ROWS, members: dict[str, int] | None = None) -> list[RowOutcome]:
    """The first `limit` rows as they would be imported, each with its action and problems.

    Nothing is written. Raises MappingError for a mapping that cannot be used.
    """
    _require_file(run)
    job = _job(session, run, mapping if mapping is not None else run.mapping, on_duplicate, dry_run=True,
               members=members, keep_outcomes=True)
    records = itertools.islice(iter_records(run.content, run.encoding, run.delimiter), limit)
    outcomes = import_batch(session, job, [job.reader.read(number, cells) for number, cells in records]).outcomes
    for outcome in outcomes:
        outcome.values.pop("email_key", None)
        outcome.values.pop("copy_tail", None)
    return outcomes


def start_import(session: Session, run: ImportRun, *, mapping: dict, on_duplicate: str = "skip",
                 dry_run: bool = False, members: dict[str, int] | None = None) -> ImportRun:
    """Confirm the mapping and options and queue the run; the runner takes it from there.

    A pending run can start; so can a finished dry run, for real or as another dry run.
    """
    _require_file(run)
    if run.status in (QUEUED, RUNNING):
        raise ImportRunError(_("This import is already %(status)s. Follow its progress; it cannot be started twice.",
                               status=run.status))
    if not (run.status == PENDING or (run.dry_run and run.status in (COMPLETED, FAILED))):
        raise ImportRunError(_("This import has %(status)s. Resume it, or upload the file again to start over.",
                               status=run.status))
    if on_duplicate not in ON_DUPLICATE:
        raise ImportRunError(_("on_duplicate must be “update” or “skip”."))
    mapping = validate_mapping(mapping, headers_of(run), run.object_type,
                               definitions_for(session, run.object_type))
    run.mapping, run.on_duplicate, run.dry_run = mapping, on_duplicate, bool(dry_run)
    run.status, run.error, run.error_report, run.finished_at = QUEUED, None, None, None
    run.processed_rows = run.created_count = run.updated_count = run.skipped_count = run.failed_count = 0
    return run


def ready_to_resume(run: ImportRun | None) -> None:
    """Raise ImportRunError unless `run` stopped part-way and still has its file."""
    if run is None:
        raise ImportRunError(_("There is no such import run."))
    # A queued run whose process died before it started is resumable too: claiming
    # the run (FOR UPDATE, queued → running) lets only one worker have it.
    if run.status not in (QUEUED, RUNNING, FAILED) or run.content is None:
        raise ImportRunError(_("Only a run that stopped part-way can be resumed; this one is %(status)s.",
                               status=run.status))


def finish_run(run: ImportRun) -> None:
    """Mark a run completed; a real run drops the file, a dry run keeps it for the real run."""
    run.status, run.finished_at = COMPLETED, utcnow()
    if not run.dry_run:
        run.content = None


def error_report_download(run: ImportRun) -> bytes:
    """The failed rows as CSV (UTF-8 with BOM), ready to fix in a spreadsheet and import again."""
    return report_download(run.error_report)


def _require_file(run: ImportRun) -> None:
    if run.content is None:
        raise ImportRunError(_("This import has finished and no longer holds its file. Upload the file again."))


def _job(session, run: ImportRun, mapping, on_duplicate: str, *, dry_run: bool, members, keep_outcomes=False):
    if on_duplicate not in ON_DUPLICATE:
        raise ImportRunError(_("on_duplicate must be “update” or “skip”."))
    headers = headers_of(run)
    definitions = definitions_for(session, run.object_type)
    mapping = validate_mapping(mapping, headers, run.object_type, definitions)
    return ImportJob(run_id=run.id, object_type=run.object_type, headers=headers, mapping=mapping,
                     on_duplicate=on_duplicate, dry_run=dry_run, definitions=definitions, members=members,
                     actor_id=run.created_by, keep_outcomes=keep_outcomes)
