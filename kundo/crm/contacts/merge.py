"""Merging two contacts into one: nothing either knew is lost, the kept one's values win.

The merged contact's e-mails, phones, tags, company links, timeline and tasks move to
the kept one; blank fields and custom values are filled from it; the older creation
date and the earliest date of each lifecycle stage survive. Then the merged contact is
deleted and `contact.merged` lets hubs repoint their own records (deals, tickets …).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from kundo.crm.companies.models import ContactCompany
from kundo.crm.contacts.associations import finish_merge
from kundo.crm.contacts.errors import ContactNotFound, MergeError
from kundo.crm.contacts.models import ConsentStatus, Contact, ContactEmail
from kundo.crm.contacts.values import clean_phones, clean_tags, funnel_rank, phone_digits_of

FILLED_FIELDS = ("first_name", "last_name", "job_title", "owner_id", "lead_status", "source")


def lock_pair(session: Session, model, keep_id: int, merge_id: int, not_found) -> tuple:
    """Both records, row-locked in id order (two merges of the same pair cannot deadlock)."""
    if keep_id == merge_id:
        raise MergeError(_("A record cannot be merged into itself. Choose two different records."))
    rows = session.scalars(select(model).where(model.id.in_([keep_id, merge_id])).order_by(model.id)
                           .with_for_update().execution_options(populate_existing=True)).all()
    found = {row.id: row for row in rows}
    for wanted in (keep_id, merge_id):
        if wanted not in found:
            raise not_found(wanted)
    return found[keep_id], found[merge_id]


def earliest_dates(*date_maps: dict) -> dict:
    """Per stage, the earliest of the ISO timestamps in `date_maps`."""
    result: dict[str, str] = {}
    for dates in date_maps:
        for stage, moment in (dates or {}).items():
            if stage not in result or datetime.fromisoformat(moment) < datetime.fromisoformat(result[stage]):
                result[stage] = moment
    return result


def merge_contacts(session: Session, keep_id: int, merge_id: int, *, actor_id: int | None = None) -> Contact:
    """Merge contact `merge_id` into `keep_id` and delete it; returns the kept contact."""
    keep, gone = lock_pair(session, Contact, keep_id, merge_id, ContactNotFound)
    if keep.erased_at or gone.erased_at:
        raise MergeError(_("An erased contact cannot be merged: its data is gone for good."))
    summary = {"merged_id": gone.id, "merged_name": gone.name, "merged_emails": [row.email for row in gone.emails]}

    _move_emails(session, keep, gone)
    keep.phones = clean_phones([*keep.phones, *gone.phones])
    keep.phone_digits = phone_digits_of(keep.phones)
    keep.tags = clean_tags([*keep.tags, *gone.tags])
    for field in FILLED_FIELDS:
        if getattr(keep, field) in (None, ""):
            setattr(keep, field, getattr(gone, field))
    keep.custom = {**(gone.custom or {}), **(keep.custom or {})}
    if funnel_rank(gone.lifecycle_stage) > funnel_rank(keep.lifecycle_stage) or not keep.lifecycle_stage:
        keep.lifecycle_stage = gone.lifecycle_stage
    keep.lifecycle_dates = earliest_dates(keep.lifecycle_dates, gone.lifecycle_dates)
    _merge_consent(keep, gone)
    keep.created_at = min(keep.created_at, gone.created_at)
    _move_company_links(session, keep, gone)
    return finish_merge(session, "contact", keep, gone, summary, actor_id=actor_id)


def _move_emails(session: Session, keep: Contact, gone: Contact) -> None:
    keep_has_primary = any(row.is_primary for row in keep.emails)
    session.execute(update(ContactEmail).where(ContactEmail.contact_id == gone.id)
                    .values(contact_id=keep.id, is_primary=False if keep_has_primary else ContactEmail.is_primary)
                    .execution_options(synchronize_session="fetch"))
    session.expire(keep, ["emails"])
    session.expire(gone, ["emails"])


def _merge_consent(keep: Contact, gone: Contact) -> None:
    """The latest recorded decision wins: a later withdrawal overrides an earlier grant and vice versa."""
    if gone.consent_status == ConsentStatus.UNKNOWN or gone.consent_at is None:
        return
    if keep.consent_status == ConsentStatus.UNKNOWN or keep.consent_at is None or gone.consent_at > keep.consent_at:
        keep.consent_status, keep.consent_at, keep.consent_source = (
            gone.consent_status, gone.consent_at, gone.consent_source)


def _move_company_links(session: Session, keep: Contact, gone: Contact) -> None:
    links = session.scalars(select(ContactCompany).where(ContactCompany.contact_id == gone.id)).all()
    for link in links:
        session.execute(insert(ContactCompany).values(
            contact_id=keep.id, company_id=link.company_id, role=link.role, is_primary=False,
            created_at=link.created_at,
        ).on_conflict_do_nothing())
    if keep.primary_company_id is None and gone.primary_company_id is not None:
        keep.primary_company_id = gone.primary_company_id
    session.flush()
    session.execute(update(ContactCompany).where(ContactCompany.contact_id == keep.id)
                    .values(is_primary=ContactCompany.company_id == keep.primary_company_id)
                    .execution_options(synchronize_session="fetch"))
