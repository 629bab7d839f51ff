"""Lists of contacts and companies: one filter language, one sort, keyset pages.

`list_records` is what the list API, saved views and the CSV export run. A page is
one query in index order; the primary e-mail and company name are subqueries in its
select list, which PostgreSQL evaluates for the page's rows only (after ORDER BY …
LIMIT), so a page costs the same whatever the tenant's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.fields import FieldCatalog, UnknownFieldError, catalog_for
from kundo.crm.lists.filters import FilterContext, FilterError, compile_filters, parse_filters
from kundo.crm.lists.sorting import SortError, SortSpec, cursor_signature, fetch_page, parse_sort
from kundo.tenants.workspace import WorkspaceProfile

MAX_PAGE = 1000


class ListQueryError(ValueError):
    """A list request Kundo cannot run; `field` names the request part to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ListQuery:
    """What a list shows: filters (JSON as sent), sort text and export columns."""

    object_type: str
    filters: list | None = None
    sort: str | None = None
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CompiledQuery:
    catalog: FieldCatalog
    where: ColumnElement
    sort: SortSpec
    signature: str


@dataclass(frozen=True)
class ListPage:
    items: list[dict]
    next_cursor: str | None


def filter_context(session: Session, user_id: int | None) -> FilterContext:
    """The context filters of this workspace run in: the user and the workspace's time zone."""
    profile = session.get(WorkspaceProfile, 1)
    return FilterContext(user_id=user_id, timezone=profile.timezone if profile else "UTC")


def compile_query(session: Session, query: ListQuery, context: FilterContext) -> CompiledQuery:
    """Check and compile a list query, or ListQueryError naming `filter`, `sort` or `object_type`."""
    try:
        catalog = catalog_for(session, query.object_type)
    except UnknownFieldError as error:
        raise ListQueryError(str(error), "object_type") from None
    try:
        where = compile_filters(parse_filters(query.filters), catalog, context)
    except FilterError as error:
        raise ListQueryError(str(error), "filter") from None
    try:
        sort = parse_sort(query.sort, catalog)
    except SortError as error:
        raise ListQueryError(str(error), "sort") from None
    return CompiledQuery(catalog, where, sort, cursor_signature(query.object_type, sort, query.filters))


#: What a contact list shows besides the contact's own columns.
PRIMARY_EMAIL = (
    select(ContactEmail.email).where(ContactEmail.contact_id == Contact.id)
    .order_by(ContactEmail.is_primary.desc(), ContactEmail.id).limit(1).correlate(Contact).scalar_subquery()
)
PRIMARY_COMPANY_NAME = (
    select(Company.name).where(Company.id == Contact.primary_company_id).correlate(Contact).scalar_subquery()
)


def base_query(object_type: str) -> Select:
    """Every listable row of an object type; erased (GDPR) contacts are never listed."""
    if object_type == "contact":
        return select(Contact).where(Contact.erased_at.is_(None))
    return select(Company)


def selected_ids(compiled: CompiledQuery) -> Select:
    """The ids a compiled query matches, as a subquery for set-based bulk changes."""
    model = compiled.catalog.model
    return base_query(compiled.catalog.object_type).with_only_columns(model.id).where(compiled.where)


def list_records(session: Session, query: ListQuery, *, context: FilterContext, limit: int = 50,
                 cursor: str | None = None) -> ListPage:
    """One page of contacts or companies; raises ListQueryError or CursorError."""
    compiled = compile_query(session, query, context)
    return page_of(session, compiled, limit=limit, cursor=cursor)


def page_of(session: Session, compiled: CompiledQuery, *, limit: int, cursor: str | None) -> ListPage:
    object_type = compiled.catalog.object_type
    model = compiled.catalog.model
    query = base_query(object_type).where(compiled.where)
    if object_type == "contact":
        query = query.add_columns(PRIMARY_EMAIL.label("primary_email"), PRIMARY_COMPANY_NAME.label("company_name"))
    page = fetch_page(session, query, sort=compiled.sort, id_column=model.id, limit=min(limit, MAX_PAGE),
                      cursor=cursor, signature=compiled.signature)
    if object_type == "contact":
        items = [contact_item(contact, email, company) for contact, email, company in page.rows]
    else:
        items = company_items([row[0] for row in page.rows])
    return ListPage(items, page.next_cursor)


def contact_items(session: Session, contacts: list[Contact]) -> list[dict]:
    """List rows for contacts loaded elsewhere: two look-ups for their e-mails and company names."""
    ids = [contact.id for contact in contacts]
    emails: dict[int, str] = {}
    if ids:
        # DISTINCT ON keeps the first row per contact: the primary address, else the oldest.
        found = session.execute(
            select(ContactEmail.contact_id, ContactEmail.email).where(ContactEmail.contact_id.in_(ids))
            .order_by(ContactEmail.contact_id, ContactEmail.is_primary.desc(), ContactEmail.id)
            .ext(distinct_on(ContactEmail.contact_id))
        )
        emails = dict(found.all())
    company_ids = {contact.primary_company_id for contact in contacts if contact.primary_company_id}
    companies: dict[int, str] = {}
    if company_ids:
        companies = dict(session.execute(select(Company.id, Company.name).where(Company.id.in_(company_ids))).all())
    return [contact_item(contact, emails.get(contact.id), companies.get(contact.primary_company_id))
            for contact in contacts]


def contact_item(contact: Contact, email: str | None, company_name: str | None) -> dict:
    """One contact as lists, the API and the export show it."""
    return {
        "id": contact.id,
        "name": " ".join(part for part in (contact.first_name, contact.last_name) if part),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": email,
        "phone": contact.phones[0] if contact.phones else None,
        "job_title": contact.job_title,
        "owner_id": contact.owner_id,
        "company_id": contact.primary_company_id,
        "company_name": company_name,
        "lifecycle_stage": contact.lifecycle_stage,
        "lead_status": contact.lead_status,
        "source": contact.source,
        "tags": list(contact.tags or []),
        "consent_status": contact.consent_status,
        "custom": dict(contact.custom or {}),
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def company_items(companies: list[Company]) -> list[dict]:
    return [
        {
            "id": company.id,
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "size": company.size,
            "city": company.city,
            "country": company.country,
            "phone": company.phone,
            "owner_id": company.owner_id,
            "custom": dict(company.custom or {}),
            "created_at": company.created_at,
            "updated_at": company.updated_at,
        }
        for company in companies
    ]
