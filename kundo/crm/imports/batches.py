"""One batch of records: read, de-duplicate, validate, then write set-based (or only count, in a dry run).

A contact is a duplicate when its e-mail (case-insensitive) already exists, a company
when its domain does (or, without a domain, its name). Inside the file the first
row with an e-mail or domain claims it; later rows with the same one are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from flask_babel import gettext as _
from sqlalchemy import exc
from sqlalchemy.orm import Session

from kundo.crm.imports import writer
from kundo.crm.imports.rows import ReadRecord, RecordReader
from kundo.crm.properties.service import PropertyValidationError, validate_custom_values

#: What a row does: created, updated, skipped (a duplicate with on_duplicate=skip) or failed.
CREATED, UPDATED, SKIPPED, FAILED = "created", "updated", "skipped", "failed"
#: Refusals that concern rows (constraints, values), not the connection or the server.
_REFUSALS = (exc.IntegrityError, exc.DataError, psycopg.errors.IntegrityError, psycopg.errors.DataError)


@dataclass(frozen=True)
class PropertySpec:
    """A detached copy of a property definition: the run outlives the session that loaded it."""

    key: str
    label: str
    type: str
    options: list
    required: bool


@dataclass
class RowOutcome:
    """What the preview shows for one row."""

    row: int
    action: str
    values: dict
    problems: list[str]


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    #: (spreadsheet row, original cells, reasons) of every failed row.
    failures: list[tuple[int, list[str], list[str]]] = field(default_factory=list)
    #: De-duplication keys this batch claimed; the runner keeps them once the batch is committed.
    claims: dict[str, int] = field(default_factory=dict)
    outcomes: list[RowOutcome] = field(default_factory=list)


class ImportJob:
    """Everything a run needs between batches: the reader, definitions, claims and known companies."""

    def __init__(self, *, run_id: int, object_type: str, headers: list[str], mapping: dict[str, str],
                 on_duplicate: str, dry_run: bool, definitions: dict, members: dict[str, int] | None = None,
                 actor_id: int | None = None, keep_outcomes: bool = False):
        self.run_id = run_id
        self.object_type = object_type
        self.on_duplicate = on_duplicate
        self.dry_run = dry_run
        self.actor_id = actor_id
        self.keep_outcomes = keep_outcomes
        self.reader = RecordReader(object_type, headers, mapping, members=members)
        self.definitions = {key: PropertySpec(d.key, d.label, d.type, list(d.options or []), d.required)
                            for key, d in definitions.items()}
        # A matched record keeps its stored values, so required properties are only enforced on new ones.
        self.update_definitions = {key: PropertySpec(d.key, d.label, d.type, d.options, False)
                                   for key, d in self.definitions.items()}
        self.required = any(spec.required for spec in self.definitions.values())
        #: lifecycle_dates of new contacts: the stage reached when the run (or its resumption) began
        self.first_dates = writer.first_reached_dates()
        #: dedup key (lower e-mail, "d:<domain>", "n:<name>", "#<existing id>") → spreadsheet row that claimed it
        self.claimed: dict[str, int] = {}
        #: Companies found or created so far, by lower-case domain and by lower-case name
        self.company_by_domain: dict[str, int] = {}
        self.company_by_name: dict[str, int] = {}

    def forget_companies(self) -> None:
        """After a rolled-back batch: the companies it created no longer exist."""
        self.company_by_domain.clear()
        self.company_by_name.clear()

    def prepare(self, record: ReadRecord) -> ReadRecord:
        """Work on a read record that needs no database: done by the reader thread, ahead of its batch."""
        if self.object_type == "contact" and not self.dry_run and not record.errors:
            record.values["copy_tail"] = writer.contact_copy_tail(record.values, self.first_dates)
        return record

    def claim_earlier_rows(self, records, failed_rows: set[int]) -> None:
        """Rebuild the claims of rows a crashed run already handled (all but its failed rows)."""
        for number, cells in records:
            if number + 2 in failed_rows:
                continue
            record = self.reader.read(number, cells)
            key = _dedup_key(self.object_type, record)
            if key and not record.errors:
                self.claimed.setdefault(key, record.row)


def import_batch_isolating_refusals(session: Session, job: ImportJob, read: list[ReadRecord]) -> BatchResult:
    """`import_batch` in a savepoint; when the database refuses a row, find it by halving the batch.

    Every value is checked in Python first, so this is rare: a constraint Python does
    not know, or a record saved concurrently with the same e-mail or domain. A row
    that still fails alone (after a second try, whose lookup sees the concurrent
    record) goes to the report with the database's reason; the rest are imported.
    """
    return _attempt(session, job, read, {}, tries=2)


def import_batch(session: Session, job: ImportJob, read: list[ReadRecord],
                 claims: dict[str, int] | None = None) -> BatchResult:
    """Import (or, in a dry run, classify) one batch of read records inside the caller's transaction."""
    cur = writer.cursor_of(session)
    result = BatchResult(claims={} if claims is None else claims)
    existing = _existing_ids(cur, job, read)
    creates, updates = [], []
    for record in read:
        action, values, reasons = _classify(session, job, record, existing, result.claims)
        if action == FAILED:
            result.failures.append((record.row, record.cells, reasons))
        elif action == SKIPPED:
            result.skipped += 1
        else:
            (creates if action == CREATED else updates).append(values)
        if job.keep_outcomes:
            result.outcomes.append(RowOutcome(record.row, action, values, reasons))
    result.created, result.updated = len(creates), len(updates)
    if not job.dry_run:
        _write(cur, job, creates, updates)
    return result


def _attempt(session: Session, job: ImportJob, read: list[ReadRecord], claims: dict, tries: int) -> BatchResult:
    before = dict(claims)
    try:
        with session.begin_nested():
            return import_batch(session, job, read, claims)
    except _REFUSALS as error:
        claims.clear()
        claims.update(before)
        job.forget_companies()  # they may name companies of the rolled-back attempt
        if len(read) > 1:
            middle = len(read) // 2
            return _merged(_attempt(session, job, read[:middle], claims, tries),
                           _attempt(session, job, read[middle:], claims, tries))
        if tries > 1:
            return _attempt(session, job, read, claims, tries - 1)
        record = read[0]
        return BatchResult(failures=[(record.row, record.cells, [_refusal_reason(error)])], claims=claims,
                           outcomes=[RowOutcome(record.row, FAILED, record.values, [_refusal_reason(error)])]
                           if job.keep_outcomes else [])


def _merged(first: BatchResult, second: BatchResult) -> BatchResult:
    return BatchResult(created=first.created + second.created, updated=first.updated + second.updated,
                       skipped=first.skipped + second.skipped, failures=first.failures + second.failures,
                       claims=first.claims, outcomes=first.outcomes + second.outcomes)


def _refusal_reason(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    diagnosis = getattr(original, "diag", None)
    reason = (getattr(diagnosis, "message_primary", None) or str(original)).strip().splitlines()[0]
    return _("The database refused this row: %(reason)s.", reason=reason.rstrip("."))


def _dedup_key(object_type: str, record: ReadRecord) -> str | None:
    values = record.values
    if object_type == "contact":
        return values.get("email_key")
    if values.get("domain"):
        return f"d:{values['domain'].lower()}"
    return f"n:{values['name'].lower()}" if values.get("name") else None


def _existing_ids(cur, job: ImportJob, read: list[ReadRecord]) -> dict[str, int]:
    """dedup key → id of the stored record it matches."""
    valid = [record for record in read if not record.errors]
    if job.object_type == "contact":
        return writer.contacts_by_email(cur, {record.values["email_key"] for record in valid
                                              if "email_key" in record.values})
    domains = {record.values["domain"].lower() for record in valid if record.values.get("domain")}
    names = {record.values["name"].lower() for record in valid if not record.values.get("domain")}
    by_domain, by_name = writer.companies_by_domain_or_name(cur, domains, names)
    return {**{f"d:{domain}": company_id for domain, company_id in by_domain.items()},
            **{f"n:{name}": company_id for name, company_id in by_name.items() if name in names}}


def _classify(session, job: ImportJob, record: ReadRecord, existing: dict[str, int], claims: dict[str, int]):
    """(action, values to write, reasons) for one record; claims its key unless it fails."""
    if record.errors:
        return FAILED, record.values, record.errors
    key = _dedup_key(job.object_type, record)
    earlier = job.claimed.get(key) or claims.get(key) if key else None
    if earlier:
        return FAILED, record.values, [_duplicate_reason(job.object_type, record, earlier)]
    existing_id = existing.get(key) if key else None
    if existing_id is not None:
        if job.on_duplicate == "skip":
            claims[key] = record.row
            return SKIPPED, record.values, []
        earlier = job.claimed.get(f"#{existing_id}") or claims.get(f"#{existing_id}")
        if earlier:
            return FAILED, record.values, [_("Row %(row)s of this file already updates the same record.",
                                             row=earlier)]
    custom = {}
    if record.custom or (job.required and existing_id is None):
        definitions = job.definitions if existing_id is None else job.update_definitions
        try:
            custom = validate_custom_values(session, job.object_type, record.custom, definitions=definitions)
        except PropertyValidationError as error:
            return FAILED, record.values, job.reader.custom_reasons(error.errors)
    if key:
        claims[key] = record.row
    values = {**record.values, "custom": custom}
    if existing_id is None:
        return CREATED, values, []
    claims[f"#{existing_id}"] = record.row
    values["id"] = existing_id
    return UPDATED, values, []


def _duplicate_reason(object_type: str, record: ReadRecord, earlier: int) -> str:
    if object_type == "contact":
        return _("The e-mail %(email)s is already in row %(row)s of this file; only that row is imported.",
                 email=record.values["email"], row=earlier)
    if record.values.get("domain"):
        return _("The domain %(domain)s is already in row %(row)s of this file; only that row is imported.",
                 domain=record.values["domain"], row=earlier)
    return _("The company “%(name)s” is already in row %(row)s of this file; only that row is imported.",
             name=record.values["name"], row=earlier)


def _write(cur, job: ImportJob, creates: list[dict], updates: list[dict]) -> None:
    options = {"run_id": job.run_id, "actor_id": job.actor_id}
    if job.object_type == "contact":
        _attach_companies(cur, job, creates + updates)
        for row, new_id in zip(creates, writer.allocate_ids(cur, "contacts", len(creates)), strict=True):
            row["id"] = new_id
        writer.insert_contacts(cur, creates, first_dates=job.first_dates, **options)
        writer.update_contacts(cur, updates, **options)
    else:
        for row, new_id in zip(creates, writer.allocate_ids(cur, "companies", len(creates)), strict=True):
            row["id"] = new_id
        writer.insert_companies(cur, creates, **options)
        writer.update_companies(cur, updates, **options)


def _attach_companies(cur, job: ImportJob, rows: list[dict]) -> None:
    """Set `company_id` on contact rows with a company: matched by domain, then name, else created."""
    wanted = [row for row in rows if row.get("company")]
    if not wanted:
        return
    by_domain, by_name = job.company_by_domain, job.company_by_name
    domains = {row["company"]["domain"] for row in wanted if row["company"].get("domain")} - by_domain.keys()
    names = {row["company"]["name"].lower() for row in wanted} - by_name.keys()
    found_domains, found_names = writer.companies_by_domain_or_name(cur, domains, names)
    by_domain.update(found_domains)
    by_name.update((name, company_id) for name, company_id in found_names.items() if name in names)
    new_by_domain: dict[str, dict] = {}
    new_by_name: dict[str, dict] = {}
    for row in wanted:
        company = row["company"]
        domain, name = company.get("domain"), company["name"].lower()
        company_id = (by_domain.get(domain) if domain else None) or by_name.get(name)
        if company_id is not None:
            row["company_id"] = company_id
            continue
        new = (new_by_domain.get(domain) if domain else None) or new_by_name.get(name)
        if new is None:
            new = dict(company)
            if domain:
                new_by_domain[domain] = new
            new_by_name.setdefault(name, new)
        row["new_company"] = new
    fresh = list({id(company): company for company in (*new_by_domain.values(), *new_by_name.values())}.values())
    for company, new_id in zip(fresh, writer.allocate_ids(cur, "companies", len(fresh)), strict=True):
        company["id"] = new_id
    writer.insert_companies(cur, fresh, run_id=job.run_id, actor_id=job.actor_id)
    by_domain.update((domain, company["id"]) for domain, company in new_by_domain.items())
    by_name.update((name, company["id"]) for name, company in new_by_name.items())
    for row in wanted:
        new = row.pop("new_company", None)
        if new is not None:
            row["company_id"] = new["id"]
