"""Companies and their contacts: every write to a company or a contact ↔ company link.

A domain belongs to one company per workspace (a unique index on lower(domain)),
stored in one spelling (see `domains.normalise_domain`). A contact may work for
several companies; `contacts.primary_company_id` names the primary one and the
link's `is_primary` mirrors it. Functions work in the caller's tenant transaction,
flush but never commit, and emit the domain events.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundo.crm.companies.domains import company_name_from_domain, normalise_domain
from kundo.crm.companies.errors import CompanyError, CompanyNotFound, DuplicateDomainError
from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.associations import drop_associations
from kundo.crm.contacts.errors import ContactNotFound
from kundo.crm.contacts.models import Contact
from kundo.crm.contacts.values import jsonable
from kundo.crm.properties.service import validate_custom_values
from kundo.platform.events import emit_event

DOMAIN_INDEX = "uq_companies_domain_lower"
TEXT_FIELDS = {"name": 300, "industry": 100, "street": 300, "postal_code": 20, "city": 120, "phone": 50,
               "notes": 20_000}
UPDATABLE = frozenset({*TEXT_FIELDS, "domain", "size", "country", "owner_id", "custom"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def get_company(session: Session, company_id: int, *, lock: bool = False) -> Company:
    company = session.get(Company, company_id, with_for_update=lock or None)
    if company is None:
        raise CompanyNotFound(company_id)
    return company


def _company(session: Session, company: Company | int) -> Company:
    return company if isinstance(company, Company) else get_company(session, company)


def find_company_by_domain(session: Session, domain: str) -> Company | None:
    """The company with exactly this (normalised) domain; sub-domains are other domains."""
    return session.scalar(select(Company).where(func.lower(Company.domain) == domain.lower()))


def _clean(field: str, value):
    if field in TEXT_FIELDS:
        text = None if value is None else str(value).strip()
        if text and len(text) > TEXT_FIELDS[field]:
            raise CompanyError(_("Too long: at most %(max)s characters.", max=TEXT_FIELDS[field]), field=field)
        return text or None
    if field == "domain":
        return normalise_domain(value)
    if field == "country":
        code = (value or "").strip().upper() or None
        if code and not _COUNTRY.match(code):
            raise CompanyError(_("Use a two-letter country code such as DE or AT."), field="country")
        return code
    if field == "size":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise CompanyError(_("The number of employees is a whole number, 0 or more."), field="size")
        return value
    return value


def _ensure_domain_free(session: Session, domain: str | None, company_id: int | None = None) -> None:
    owner = find_company_by_domain(session, domain) if domain else None
    if owner is not None and owner.id != company_id:
        raise DuplicateDomainError(domain, owner.id, owner.name)


def _flush_claiming_domain(session: Session, company: Company, domain: str | None, *, add: bool) -> None:
    """Flush in a savepoint, so a domain claimed by a concurrent transaction is a
    DuplicateDomainError naming the winner, not an aborted transaction."""
    try:
        with session.begin_nested():
            if add:
                session.add(company)
            company.domain = domain
            session.flush()
    except IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != DOMAIN_INDEX:
            raise
        _ensure_domain_free(session, domain, None if add else company.id)
        raise


def create_company(
    session: Session, *, name=None, domain=None, industry=None, size=None, street=None, postal_code=None, city=None,
    country=None, phone=None, owner_id: int | None = None, custom: dict | None = None, notes=None,
    actor_id: int | None = None, check_required: bool = True,
) -> Company:
    """Create a company; without a name it is named after its domain (acme.de → Acme)."""
    values = {field: _clean(field, value) for field, value in (
        ("name", name), ("domain", domain), ("industry", industry), ("size", size), ("street", street),
        ("postal_code", postal_code), ("city", city), ("country", country), ("phone", phone), ("notes", notes))}
    if not values["name"]:
        if not values["domain"]:
            raise CompanyError(_("Give the company a name or a domain."), field="name")
        values["name"] = company_name_from_domain(values["domain"])
    domain = values.pop("domain")
    custom_values = validate_custom_values(session, "company", custom or {}, check_required=check_required)
    _ensure_domain_free(session, domain)
    company = Company(**values, owner_id=owner_id, custom=custom_values)
    _flush_claiming_domain(session, company, domain, add=True)
    emit_event(session, "company.created", object_type="company", object_id=company.id, actor_id=actor_id,
               payload={"name": company.name, "domain": domain, "owner_id": owner_id})
    session.flush()
    return company


def update_company(session: Session, company: Company | int, *, actor_id: int | None = None, **changes) -> Company:
    """Change the given fields only; `custom` merges (a null value clears that property)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_company() cannot change: {', '.join(sorted(unknown))}")
    company = _company(session, company)
    diff: dict[str, tuple] = {}
    for field in sorted(changes.keys() - {"custom"}):
        new = _clean(field, changes[field])
        if field == "name" and not new:
            raise CompanyError(_("A company needs a name."), field="name")
        old = getattr(company, field)
        if old == new:
            continue
        diff[field] = (old, new)
        if field == "domain":
            _ensure_domain_free(session, new, company.id)
            _flush_claiming_domain(session, company, new, add=False)
        else:
            setattr(company, field, new)
    if "custom" in changes:
        before = dict(company.custom or {})
        after = validate_custom_values(session, "company", changes["custom"] or {}, existing=before)
        diff.update({f"custom.{key}": (before.get(key), after.get(key))
                     for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)})
        company.custom = after
    if diff:
        emit_event(session, "company.updated", object_type="company", object_id=company.id, actor_id=actor_id,
                   payload={"changes": {field: {"from": jsonable(old), "to": jsonable(new)}
                                        for field, (old, new) in diff.items()}})
    session.flush()
    return company


def delete_company(session: Session, company: Company | int, *, actor_id: int | None = None) -> None:
    """Delete the company; its contacts stay, and those it was primary for fall back to another link."""
    company = _company(session, company)
    company_id, payload = company.id, {"name": company.name, "domain": company.domain}
    next_link = (select(ContactCompany.company_id)
                 .where(ContactCompany.contact_id == Contact.id, ContactCompany.company_id != company_id)
                 .order_by(ContactCompany.created_at, ContactCompany.company_id).limit(1).scalar_subquery())
    moved = session.scalars(update(Contact).where(Contact.primary_company_id == company_id)
                            .values(primary_company_id=next_link).returning(Contact.id)
                            .execution_options(synchronize_session="fetch")).all()
    _sync_primary_marks(session, moved)
    drop_associations(session, "company", company_id)
    session.delete(company)
    session.flush()
    emit_event(session, "company.deleted", object_type="company", object_id=company_id, actor_id=actor_id,
               payload=payload)


def _sync_primary_marks(session: Session, contact_ids) -> None:
    """Make `is_primary` of these contacts' links agree with `contacts.primary_company_id`."""
    if not contact_ids:
        return
    primary = (select(Contact.primary_company_id).where(Contact.id == ContactCompany.contact_id)
               .scalar_subquery())
    session.execute(update(ContactCompany).where(ContactCompany.contact_id.in_(list(contact_ids)))
                    .values(is_primary=func.coalesce(ContactCompany.company_id == primary, False))
                    .execution_options(synchronize_session="fetch"))


def _locked_contact(session: Session, contact: Contact | int) -> Contact:
    """The contact, row-locked so concurrent links cannot both claim the primary mark."""
    contact_id = contact.id if isinstance(contact, Contact) else contact
    locked = session.get(Contact, contact_id, with_for_update=True, populate_existing=True)
    if locked is None:
        raise ContactNotFound(contact_id)
    return locked


def link_contact(session: Session, contact: Contact | int, company: Company | int, *, role: str | None = None,
                 primary: bool = False, actor_id: int | None = None, announce: bool = True) -> ContactCompany:
    """Link a contact to a company (again is harmless); it becomes primary if asked or the first."""
    company = _company(session, company)
    contact = _locked_contact(session, contact)
    role = (role or "").strip() or None
    if role and len(role) > 100:
        raise CompanyError(_("Too long: at most %(max)s characters.", max=100), field="role")
    statement = insert(ContactCompany).values(contact_id=contact.id, company_id=company.id, role=role)
    statement = (statement.on_conflict_do_update(index_elements=["contact_id", "company_id"], set_={"role": role})
                 if role else statement.on_conflict_do_nothing())
    session.execute(statement)
    if primary or contact.primary_company_id is None:
        _set_primary(session, contact, company.id, actor_id, announce)
    return session.get(ContactCompany, (contact.id, company.id), populate_existing=True)


def _set_primary(session: Session, contact: Contact, company_id: int | None, actor_id, announce: bool) -> None:
    old = contact.primary_company_id
    if old != company_id:
        contact.primary_company_id = company_id
        session.flush()
        if announce:
            emit_event(session, "contact.updated", object_type="contact", object_id=contact.id, actor_id=actor_id,
                       payload={"changes": {"primary_company_id": {"from": old, "to": company_id}}})
    _sync_primary_marks(session, [contact.id])


def clear_primary_company(session: Session, contact: Contact | int, *, actor_id: int | None = None) -> None:
    """Keep the links but mark none primary."""
    _set_primary(session, _locked_contact(session, contact), None, actor_id, True)


def unlink_contact(session: Session, contact: Contact | int, company: Company | int, *,
                   actor_id: int | None = None) -> None:
    """Remove the link; if it was the primary company, the oldest remaining link takes over."""
    company = _company(session, company)
    contact = _locked_contact(session, contact)
    link = session.get(ContactCompany, (contact.id, company.id))
    if link is None:
        raise CompanyError(_("This contact is not linked to this company."), field="contact_id")
    session.delete(link)
    session.flush()
    if contact.primary_company_id == company.id:
        successor = session.scalar(select(ContactCompany.company_id).where(ContactCompany.contact_id == contact.id)
                                   .order_by(ContactCompany.created_at, ContactCompany.company_id).limit(1))
        _set_primary(session, contact, successor, actor_id, True)


def companies_of_contact(session: Session, contact_id: int) -> list[tuple[Company, ContactCompany]]:
    """The contact's companies, primary first, then in the order they were linked."""
    rows = session.execute(
        select(Company, ContactCompany).join(ContactCompany, ContactCompany.company_id == Company.id)
        .where(ContactCompany.contact_id == contact_id)
        .order_by(ContactCompany.is_primary.desc(), ContactCompany.created_at, Company.id)
    )
    return [(company, link) for company, link in rows]


def contacts_of_company_query(company_id: int):
    """Contacts linked to the company, for keyset pagination by contact id."""
    return select(Contact).join(ContactCompany, ContactCompany.contact_id == Contact.id).where(
        ContactCompany.company_id == company_id)
