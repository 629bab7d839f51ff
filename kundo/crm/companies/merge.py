"""Merging two companies into one: the kept one's values win, nothing the other knew is lost.

Contacts, their primary marks, the timeline and tasks move to the kept company; blank
fields, custom values and the domain are filled from the merged one; notes are
joined. Then the merged company is deleted and `company.merged` is emitted.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from kundo.crm.companies.errors import CompanyNotFound
from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.associations import finish_merge
from kundo.crm.contacts.merge import lock_pair
from kundo.crm.contacts.models import Contact

FILLED_FIELDS = ("industry", "size", "street", "postal_code", "city", "country", "phone", "owner_id")


def merge_companies(session: Session, keep_id: int, merge_id: int, *, actor_id: int | None = None) -> Company:
    """Merge company `merge_id` into `keep_id` and delete it; returns the kept company."""
    keep, gone = lock_pair(session, Company, keep_id, merge_id, CompanyNotFound)
    summary = {"merged_id": gone.id, "merged_name": gone.name, "merged_domain": gone.domain}

    _move_contacts(session, keep, gone)
    for field in FILLED_FIELDS:
        if getattr(keep, field) in (None, ""):
            setattr(keep, field, getattr(gone, field))
    if gone.notes and gone.notes != keep.notes:
        keep.notes = f"{keep.notes}\n\n{gone.notes}" if keep.notes else gone.notes
    keep.custom = {**(gone.custom or {}), **(keep.custom or {})}
    keep.created_at = min(keep.created_at, gone.created_at)
    if not keep.domain and gone.domain:
        domain, gone.domain = gone.domain, None
        session.flush()  # free the unique domain before the kept company takes it
        keep.domain = domain
    return finish_merge(session, "company", keep, gone, summary, actor_id=actor_id)


def _move_contacts(session: Session, keep: Company, gone: Company) -> None:
    """Links move (a contact linked to both keeps one link); primary marks follow the company."""
    session.execute(
        insert(ContactCompany).from_select(
            ["contact_id", "company_id", "role", "is_primary", "created_at"],
            select(ContactCompany.contact_id, literal(keep.id, BigInteger), ContactCompany.role,
                   ContactCompany.is_primary, ContactCompany.created_at).where(ContactCompany.company_id == gone.id),
        ).on_conflict_do_nothing()
    )
    session.execute(update(Contact).where(Contact.primary_company_id == gone.id)
                    .values(primary_company_id=keep.id).execution_options(synchronize_session="fetch"))
    session.execute(
        update(ContactCompany).where(ContactCompany.company_id == keep.id)
        .where(ContactCompany.contact_id.in_(select(Contact.id).where(Contact.primary_company_id == keep.id)))
        .values(is_primary=True).execution_options(synchronize_session="fetch")
    )
