"""The one matcher: an e-mail address → its contact and company, created when new.

Forms, e-mail sync, social inboxes, invoicing and tickets all call
`match_contact_by_email`, so the same person arriving through two doors is one
contact, and their colleagues share one company.

Choices worth knowing:

* The company is found by the e-mail's exact domain. `max@mail.acme.com` does not
  match the company `acme.com`: sub-domains in addresses often belong to someone
  else (a university's faculties, a hosting platform's customers such as
  `*.onmicrosoft.com`), and without the public-suffix list `mail.acme.com` cannot
  be told from `acme.co.uk`. A wrong guess would file strangers under one company;
  a missed one is fixed by a merge.
* Free-mail domains (gmail.com, web.de, yahoo.* …) never name a company.
* `defaults` fill a contact only when it is created, like Django's get_or_create:
  an inbound e-mail must not overwrite what a person typed into the CRM.
* A company is only created for a contact, never on its own.
* Concurrency: two requests matching the same new address create one contact. The
  insert runs in a SAVEPOINT; the loser of the race hits the unique index on
  lower(email), rolls back to the savepoint and reads the winner's contact. The same
  holds for a company's domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kundo.crm.companies import service as companies
from kundo.crm.companies.domains import company_name_from_domain
from kundo.crm.companies.errors import DuplicateDomainError
from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts import service as contacts
from kundo.crm.contacts.errors import DuplicateEmailError
from kundo.crm.contacts.models import Contact
from kundo.crm.contacts.values import email_domain, normalise_email
from kundo.crm.matching.freemail import is_free_mail_domain

#: What `defaults` may set on a new contact.
DEFAULT_FIELDS = frozenset({"first_name", "last_name", "job_title", "phones", "lifecycle_stage", "lead_status",
                            "tags", "owner_id", "consent", "custom"})


@dataclass(frozen=True)
class MatchResult:
    contact: Contact | None
    company: Company | None
    contact_created: bool = False
    company_created: bool = False


def match_contact_by_email(
    session: Session, email: str, *, defaults: dict | None = None, create: bool = True, create_company: bool = True,
    source: str | None = None, actor_id: int | None = None,
) -> MatchResult:
    """Find the contact with `email` (any case), else create it; find or create its company; link both.

    :param defaults: fields for a new contact (first_name, last_name, job_title, phones, …).
    :param create: False only looks up and writes nothing: no contact, no company, no link.
    :param create_company: False links to an existing company but never creates one.
    :param source: where the contact came from ("form:12", "email-sync" …), stored on a new contact.
    :returns: contact (None if unknown and `create` is False), company (the domain's, else the
        contact's primary one, else None) and whether each was created now.
    """
    address = normalise_email(email)
    unknown = set(defaults or {}) - DEFAULT_FIELDS
    if unknown:
        raise TypeError(f"match_contact_by_email() defaults cannot set: {', '.join(sorted(unknown))}")
    contact = contacts.find_contact_by_email(session, address)
    if not create:
        company = _company_of_domain(session, address)
        if company is None and contact is not None and contact.primary_company_id is not None:
            company = companies.get_company(session, contact.primary_company_id)
        return MatchResult(contact, company)

    company, company_created = _company_of_domain(session, address), False
    if company is None and create_company and not is_free_mail_domain(email_domain(address)):
        company, company_created = _find_or_create_company(session, email_domain(address), actor_id)
    if contact is None:
        # The company comes first, so contact.created already names it as the primary company.
        contact, contact_created = _find_or_create_contact(session, address, company, defaults or {}, source,
                                                           actor_id)
    else:
        contact_created = False
        if company is not None and session.get(ContactCompany, (contact.id, company.id)) is None:
            companies.link_contact(session, contact, company, actor_id=actor_id)
    if company is None and contact.primary_company_id is not None:
        company = companies.get_company(session, contact.primary_company_id)
    return MatchResult(contact, company, contact_created, company_created)


def _company_of_domain(session: Session, address: str) -> Company | None:
    domain = email_domain(address)
    return None if is_free_mail_domain(domain) else companies.find_company_by_domain(session, domain)


def _find_or_create_contact(session: Session, address: str, company: Company | None, defaults: dict, source,
                            actor_id) -> tuple[Contact, bool]:
    try:
        contact = contacts.create_contact(session, emails=[address], source=source, actor_id=actor_id,
                                          company_id=company.id if company else None, check_required=False,
                                          **defaults)
    except DuplicateEmailError:
        # A concurrent transaction created it after our lookup and has committed.
        contact = contacts.find_contact_by_email(session, address)
        if company is not None:
            companies.link_contact(session, contact, company, actor_id=actor_id)
        return contact, False
    return contact, True


def _find_or_create_company(session: Session, domain: str, actor_id) -> tuple[Company, bool]:
    try:
        company = companies.create_company(session, name=company_name_from_domain(domain), domain=domain,
                                           actor_id=actor_id, check_required=False)
    except DuplicateDomainError:
        return companies.find_company_by_domain(session, domain), False
    return company, True
