"""Contacts: every write to a contact goes through here.

E-mail addresses are unique per workspace whatever their case (a unique index on
lower(email)); `phone_digits` mirrors `phones` for typo-tolerant phone search;
lifecycle changes remember when each stage was first reached; consent decisions are
kept in the contact's timeline as GDPR proof. Functions work in the caller's tenant
transaction, flush but never commit, and emit the domain events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundo.crm.companies import service as companies
from kundo.crm.companies.models import ContactCompany
from kundo.crm.contacts.associations import drop_associations
from kundo.crm.contacts.errors import ContactError, ContactNotFound, DuplicateEmailError
from kundo.crm.contacts.models import ConsentStatus, Contact, ContactEmail
from kundo.crm.contacts.values import (
    clean_emails,
    clean_phones,
    clean_tags,
    clean_text,
    jsonable,
    normalise_email,
    phone_digits_of,
)
from kundo.crm.contacts.values import lifecycle_stage as clean_stage
from kundo.crm.properties.service import validate_custom_values
from kundo.crm.timeline.models import ActivityType
from kundo.crm.timeline.service import log_activity
from kundo.platform.db import utcnow
from kundo.platform.events import emit_event

EMAIL_INDEX = "uq_contact_emails_lower"
TEXT_FIELDS = {"first_name": 200, "last_name": 200, "job_title": 200, "lead_status": 40, "source": 100}
UPDATABLE = frozenset({*TEXT_FIELDS, "phones", "owner_id", "lifecycle_stage", "tags", "custom", "company_id"})


def get_contact(session: Session, contact_id: int, *, lock: bool = False) -> Contact:
    contact = session.get(Contact, contact_id, with_for_update=lock or None)
    if contact is None:
        raise ContactNotFound(contact_id)
    return contact


def _contact(session: Session, contact: Contact | int) -> Contact:
    return contact if isinstance(contact, Contact) else get_contact(session, contact)


def find_contact_by_email(session: Session, email: str) -> Contact | None:
    """The contact with this address, whatever its case (uses the unique index)."""
    return session.scalar(select(Contact).join(ContactEmail)
                          .where(func.lower(ContactEmail.email) == email.strip().lower()))


def _ensure_emails_free(session: Session, addresses: Iterable[str], contact_id: int | None = None) -> None:
    lowered = [address.lower() for address in addresses]
    if not lowered:
        return
    rows = session.execute(select(ContactEmail.email, Contact).join(Contact)
                           .where(func.lower(ContactEmail.email).in_(lowered))).all()
    for email, owner in rows:
        if owner.id != contact_id:
            raise DuplicateEmailError(email, owner.id, owner.name)


def _violated_index(error: IntegrityError) -> str | None:
    return getattr(getattr(error.orig, "diag", None), "constraint_name", None)


def _insert_claiming_emails(session: Session, objects: list, addresses: list[str], contact_id=None) -> None:
    """Insert `objects` in a savepoint; an address taken meanwhile by a concurrent
    transaction becomes DuplicateEmailError (naming the winner) instead of an aborted
    transaction, which is what makes the matcher safe under concurrency."""
    try:
        with session.begin_nested():
            session.add_all(objects)
            session.flush()
    except IntegrityError as error:
        if _violated_index(error) != EMAIL_INDEX:
            raise
        _ensure_emails_free(session, addresses, contact_id)
        raise


def _consent_values(consent: dict) -> tuple[str, datetime, str | None]:
    try:
        status = ConsentStatus(consent.get("status") or "").value
    except ValueError:
        raise ContactError(_("Consent is granted, withdrawn or unknown."), field="consent.status") from None
    source = clean_text("consent.source", consent.get("source"), 2000)
    if status != ConsentStatus.UNKNOWN and not source:
        raise ContactError(_("Say how consent was given or withdrawn (form, e-mail link, phone call …): it is the "
                             "proof GDPR asks for."), field="consent.source")
    at = consent.get("at") or utcnow()
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            raise ContactError(_("Give the consent date like 2026-03-31T09:30:00+02:00."),
                               field="consent.at") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > utcnow() + timedelta(minutes=5):
        raise ContactError(_("The consent date lies in the future. Enter when it was given."), field="consent.at")
    return status, at, source


def create_contact(
    session: Session, *, first_name=None, last_name=None, emails: Iterable[str] = (), phones: Iterable[str] = (),
    job_title=None, owner_id: int | None = None, company_id: int | None = None, lifecycle_stage: str | None = None,
    lead_status=None, source=None, tags: Iterable[str] = (), consent: dict | None = None, custom: dict | None = None,
    actor_id: int | None = None, check_required: bool = True,
) -> Contact:
    """Create a contact; the first e-mail becomes the primary one.

    :param company_id: links the company as the contact's primary company.
    :param consent: {"status", "at", "source"}, recorded like `set_consent`.
    :param check_required: False for machine-made contacts (see `validate_custom_values`).
    """
    addresses = clean_emails(emails)
    texts = {field: clean_text(field, value, TEXT_FIELDS[field]) for field, value in (
        ("first_name", first_name), ("last_name", last_name), ("job_title", job_title),
        ("lead_status", lead_status), ("source", source))}
    numbers = clean_phones(phones)
    stage = clean_stage(lifecycle_stage)
    custom_values = validate_custom_values(session, "contact", custom or {}, check_required=check_required)
    consent_values = _consent_values(consent) if consent else None
    company = companies.get_company(session, company_id) if company_id is not None else None
    _ensure_emails_free(session, addresses)
    now = utcnow()
    contact = Contact(**texts, phones=numbers, phone_digits=phone_digits_of(numbers), owner_id=owner_id,
                      lifecycle_stage=stage, lifecycle_dates={stage: now.isoformat()} if stage else {},
                      tags=clean_tags(tags), custom=custom_values, consent_status=ConsentStatus.UNKNOWN.value,
                      primary_company_id=company.id if company else None)
    contact.emails = [ContactEmail(email=address, is_primary=index == 0) for index, address in enumerate(addresses)]
    _insert_claiming_emails(session, [contact], addresses)
    if company is not None:
        # A new contact needs no lock or primary bookkeeping: its one link is the primary one.
        session.add(ContactCompany(contact_id=contact.id, company_id=company.id, is_primary=True))
    if consent_values:
        _record_consent(session, contact, *consent_values, actor_id=actor_id, announce=False)
    emit_event(session, "contact.created", object_type="contact", object_id=contact.id, actor_id=actor_id,
               payload=jsonable({"email": contact.primary_email, "first_name": contact.first_name,
                                 "last_name": contact.last_name, "lifecycle_stage": stage, "source": contact.source,
                                 "owner_id": owner_id, "primary_company_id": contact.primary_company_id}))
    if stage:
        emit_event(session, "lifecycle_stage.changed", object_type="contact", object_id=contact.id,
                   actor_id=actor_id, payload={"from": None, "to": stage})
    session.flush()
    return contact


def announce_update(session: Session, contact: Contact, changes: dict, actor_id: int | None) -> None:
    """Emit contact.updated with {field: {"from", "to"}}, so workflows can react to one field."""
    if changes:
        emit_event(session, "contact.updated", object_type="contact", object_id=contact.id, actor_id=actor_id,
                   payload={"changes": {field: {"from": jsonable(old), "to": jsonable(new)}
                                        for field, (old, new) in changes.items()}})


def update_contact(session: Session, contact: Contact | int, *, actor_id: int | None = None, **changes) -> Contact:
    """Change the given fields only; `custom` merges (a null value clears that property).

    `company_id` makes that company the primary one (linking it if needed); None only
    clears the primary mark. E-mails and consent have their own functions.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_contact() cannot change: {', '.join(sorted(unknown))}")
    contact = _contact(session, contact)
    diff: dict[str, tuple] = {}

    def assign(field, new):
        old = getattr(contact, field)
        if old != new:
            setattr(contact, field, new)
            diff[field] = (old, new)

    for field in TEXT_FIELDS.keys() & changes.keys():
        assign(field, clean_text(field, changes[field], TEXT_FIELDS[field]))
    if "phones" in changes:
        assign("phones", clean_phones(changes["phones"]))
        contact.phone_digits = phone_digits_of(contact.phones)
    if "owner_id" in changes:
        assign("owner_id", changes["owner_id"])
    if "tags" in changes:
        assign("tags", clean_tags(changes["tags"]))
    if "custom" in changes:
        before = dict(contact.custom or {})
        after = validate_custom_values(session, "contact", changes["custom"] or {}, existing=before)
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                diff[f"custom.{key}"] = (before.get(key), after.get(key))
        contact.custom = after
    if "lifecycle_stage" in changes:
        _change_stage(session, contact, clean_stage(changes["lifecycle_stage"]), diff, actor_id)
    announce_update(session, contact, diff, actor_id)
    if "company_id" in changes:
        if changes["company_id"] is None:
            companies.clear_primary_company(session, contact, actor_id=actor_id)
        else:
            companies.link_contact(session, contact, changes["company_id"], primary=True, actor_id=actor_id)
    session.flush()
    return contact


def _change_stage(session: Session, contact: Contact, stage: str | None, diff: dict, actor_id) -> None:
    old = contact.lifecycle_stage
    if old == stage:
        return
    contact.lifecycle_stage = stage
    if stage and stage not in (contact.lifecycle_dates or {}):
        # Reassigned, not mutated: JSONB columns only notice a new value.
        contact.lifecycle_dates = {**(contact.lifecycle_dates or {}), stage: utcnow().isoformat()}
    diff["lifecycle_stage"] = (old, stage)
    emit_event(session, "lifecycle_stage.changed", object_type="contact", object_id=contact.id, actor_id=actor_id,
               payload={"from": old, "to": stage})


def set_lifecycle_stage(session: Session, contact: Contact | int, stage: str | None, *,
                        actor_id: int | None = None) -> Contact:
    """Move the contact to `stage`; the date it first reached a stage is kept for reports."""
    return update_contact(session, contact, lifecycle_stage=stage, actor_id=actor_id)


def add_tags(session: Session, contact: Contact | int, tags: Iterable[str], *, actor_id=None) -> Contact:
    contact = _contact(session, contact)
    return update_contact(session, contact, tags=[*contact.tags, *tags], actor_id=actor_id)


def remove_tags(session: Session, contact: Contact | int, tags: Iterable[str], *, actor_id=None) -> Contact:
    contact = _contact(session, contact)
    dropped = {str(tag).strip().lower() for tag in tags}
    return update_contact(session, contact, tags=[tag for tag in contact.tags if tag.lower() not in dropped],
                          actor_id=actor_id)


def add_email(session: Session, contact: Contact | int, email: str, *, primary: bool = False,
              actor_id: int | None = None) -> Contact:
    """Add an address (or mark an existing one primary); the first address is always primary."""
    contact = _contact(session, contact)
    address = normalise_email(email)
    before = [row.email for row in contact.emails]
    row = next((row for row in contact.emails if row.email.lower() == address.lower()), None)
    if row is None:
        _ensure_emails_free(session, [address], contact.id)
        row = ContactEmail(contact_id=contact.id, email=address, is_primary=False)
        _insert_claiming_emails(session, [row], [address], contact.id)
        session.expire(contact, ["emails"])
    if primary or not any(other.is_primary for other in contact.emails):
        for other in contact.emails:
            other.is_primary = other.id == row.id
    session.flush()
    session.expire(contact, ["emails"])  # the collection is ordered primary first
    after = [row.email for row in contact.emails]
    announce_update(session, contact, {"emails": (before, after)} if after != before else {}, actor_id)
    return contact


def remove_email(session: Session, contact: Contact | int, email: str, *, actor_id: int | None = None) -> Contact:
    """Remove an address; if it was the primary one, the next address takes its place."""
    contact = _contact(session, contact)
    before = [row.email for row in contact.emails]
    row = next((row for row in contact.emails if row.email.lower() == (email or "").strip().lower()), None)
    if row is None:
        raise ContactError(_("%(email)s is not an address of this contact.", email=email), field="email")
    session.delete(row)
    session.flush()
    session.expire(contact, ["emails"])
    if contact.emails and not any(other.is_primary for other in contact.emails):
        contact.emails[0].is_primary = True
        session.flush()
    announce_update(session, contact, {"emails": (before, [row.email for row in contact.emails])}, actor_id)
    return contact


def set_consent(session: Session, contact: Contact | int, status: str, *, source: str | None,
                at: datetime | None = None, actor_id: int | None = None) -> Contact:
    """Record a consent decision: on the contact, and as a timeline entry that keeps the history."""
    contact = _contact(session, contact)
    values = _consent_values({"status": status, "source": source, "at": at})
    _record_consent(session, contact, *values, actor_id=actor_id)
    session.flush()
    return contact


def _record_consent(session: Session, contact: Contact, status: str, at: datetime, source: str | None, *,
                    actor_id: int | None, announce: bool = True) -> None:
    previous = contact.consent_status
    contact.consent_status, contact.consent_at, contact.consent_source = status, at, source
    subjects = {ConsentStatus.GRANTED: _("Consent granted"), ConsentStatus.WITHDRAWN: _("Consent withdrawn"),
                ConsentStatus.UNKNOWN: _("Consent reset to unknown")}
    log_activity(
        session, ActivityType.SYSTEM.value, links=[("contact", contact.id)], occurred_at=at, actor_id=actor_id,
        subject=subjects[ConsentStatus(status)], body=source, source="consent",
        payload={"kind": "consent", "status": status, "previous": previous, "at": at.isoformat(), "source": source},
    )
    if announce:
        announce_update(session, contact, {"consent_status": (previous, status)}, actor_id)


def delete_contact(session: Session, contact: Contact | int, *, actor_id: int | None = None) -> None:
    """Delete the contact, its addresses and company links, and the timeline entries only it had."""
    contact = _contact(session, contact)
    payload = {"name": contact.name, "email": contact.primary_email}
    contact_id = contact.id
    drop_associations(session, "contact", contact_id)
    session.delete(contact)
    session.flush()
    emit_event(session, "contact.deleted", object_type="contact", object_id=contact_id, actor_id=actor_id,
               payload=payload)
