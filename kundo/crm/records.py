"""The record pages of contacts and companies: what the three columns show.

Left the properties, centre the composer and the timeline, right the associations
and tasks. Every form on a record page posts to its own route; when the service
refuses, that route renders the whole page again through `render_record` with the
messages next to the fields and the entered values kept (HTTP 400).
"""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from kundo.crm.companies.errors import CompanyNotFound
from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.companies.service import companies_of_contact, contacts_of_company_query, get_company
from kundo.crm.contacts.duplicates import find_duplicate_contacts
from kundo.crm.contacts.errors import ContactNotFound
from kundo.crm.contacts.models import Contact, LifecycleStage
from kundo.crm.contacts.service import get_contact
from kundo.crm.lists.service import contact_items
from kundo.crm.pages import is_admin, member_names, members
from kundo.crm.properties.service import definitions_for
from kundo.crm.tasks.models import TaskType
from kundo.crm.tasks.service import tasks_for
from kundo.crm.timeline.payloads import CALL_OUTCOMES, DIRECTIONS
from kundo.crm.timeline.service import ACTIVITY_TYPES, ActivityValidationError, timeline_for
from kundo.platform.db import utcnow
from kundo.tenants.resolution import current_tenant_db

#: Timeline filter chips, in the order a sales person looks for them.
TIMELINE_FILTERS = ("note", "call", "email", "meeting", "form_submission", "system")
TIMELINE_PAGE = 25
LINK_CHOICES = 500


def timeline_types() -> list[str]:
    """The `type` chips chosen in the URL (unknown ones are ignored)."""
    return [kind for kind in request.args.getlist("type") if kind in ACTIVITY_TYPES]


def timeline_page(object_type: str, object_id: int, *, before=None):
    types = timeline_types()
    try:
        return timeline_for(current_tenant_db(), object_type, object_id, types=types or None, before=before,
                            limit=TIMELINE_PAGE, include_company=object_type == "company")
    except ActivityValidationError:
        abort(400)


def load_contact(contact_id: int) -> Contact:
    try:
        return get_contact(current_tenant_db(), contact_id)
    except ContactNotFound:
        abort(404)


def load_company(company_id: int) -> Company:
    try:
        return get_company(current_tenant_db(), company_id)
    except CompanyNotFound:
        abort(404)


def _shared(object_type: str, object_id: int) -> dict:
    session = current_tenant_db()
    return {
        "definitions": definitions_for(session, object_type),
        "timeline": timeline_page(object_type, object_id),
        "timeline_types": timeline_types(),
        "timeline_filters": TIMELINE_FILTERS,
        "tasks": tasks_for(session, object_type, object_id),
        "members": members(),
        "owners": member_names(),
        "is_admin": is_admin(),
        "task_types": [kind.value for kind in TaskType],
        "call_outcomes": CALL_OUTCOMES,
        "call_directions": DIRECTIONS,
        "stages": list(LifecycleStage),
        "now_utc": utcnow(),
    }


def contact_context(contact: Contact) -> dict:
    session = current_tenant_db()
    linked = companies_of_contact(session, contact.id)
    linked_ids = [company.id for company, _link in linked]
    choices = select(Company.id, Company.name).order_by(Company.name, Company.id).limit(LINK_CHOICES)
    if linked_ids:
        choices = choices.where(Company.id.not_in(linked_ids))
    duplicates = [] if contact.erased_at else find_duplicate_contacts(session, contact_id=contact.id, limit=10)
    return {"contact": contact, "companies": linked, "company_choices": session.execute(choices).all(),
            "duplicate_count": len(duplicates), **_shared("contact", contact.id)}


def company_context(company: Company) -> dict:
    session = current_tenant_db()
    rows = list(session.scalars(contacts_of_company_query(company.id).where(Contact.erased_at.is_(None))
                                .order_by(Contact.first_name, Contact.last_name, Contact.id).limit(200)))
    roles = dict(session.execute(select(ContactCompany.contact_id, ContactCompany.role).where(
        ContactCompany.company_id == company.id, ContactCompany.contact_id.in_([row.id for row in rows]))).all())
    people = contact_items(session, rows)
    for person in people:
        person["role"] = roles.get(person["id"])
        person["primary"] = person["company_id"] == company.id
    return {"company": company, "people": people, **_shared("company", company.id)}


def render_record(object_type: str, record, *, errors: dict | None = None, status: int = 200, tab: str = "note"):
    """The record page; `errors` and the posted form re-fill the form that was refused."""
    context = contact_context(record) if object_type == "contact" else company_context(record)
    template = "crm/contacts/record.html" if object_type == "contact" else "crm/companies/record.html"
    form = request.form if request.method == "POST" else {}
    plural = "contacts" if object_type == "contact" else "companies"
    return render_template(template, errors=errors or {}, form=form, composer_tab=tab, object_type=object_type,
                           record=record, plural=plural, **context), status
