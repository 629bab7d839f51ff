"""API: companies, their contacts, and merges.

The collection's GET (list, filters, sorting) belongs to kundo.crm.lists; this
blueprint only adds POST on /companies, so the two share the URL.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kundo.crm.companies import service
from kundo.crm.companies.merge import merge_companies
from kundo.crm.companies.models import ContactCompany
from kundo.crm.companies.schemas import (
    CompanyContactQueryArgsSchema,
    CompanyCreateSchema,
    CompanyLinkSchema,
    CompanyPatchSchema,
    CompanySchema,
)
from kundo.crm.contacts.errors import ContactNotFound
from kundo.crm.contacts.models import Contact
from kundo.crm.contacts.problems import actor_id, check_owner, tenant_work
from kundo.crm.contacts.schemas import LinkedContactPageSchema, LinkedContactSchema, MergeSchema
from kundo.platform.api import paginate, token_required
from kundo.platform.errors import Problem

blueprint = Blueprint("api_crm_companies", __name__, url_prefix="/api/v1", description="CRM: companies")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


@blueprint.route("/companies")
class Companies(MethodView):
    @token_required("write")
    @blueprint.arguments(CompanyCreateSchema)
    @blueprint.response(201, CompanySchema)
    def post(self, data):
        """Create a company (without a name it is named after its domain)"""
        check_owner(data.get("owner_id"))
        with tenant_work() as session:
            return service.create_company(session, **data, actor_id=actor_id())


@blueprint.route(f"/companies/<{ID}:company_id>")
class CompanyById(MethodView):
    @token_required("read")
    @blueprint.response(200, CompanySchema)
    def get(self, company_id: int):
        """One company"""
        with tenant_work(commit=False) as session:
            return service.get_company(session, company_id)

    @token_required("write")
    @blueprint.arguments(CompanyPatchSchema)
    @blueprint.response(200, CompanySchema)
    def patch(self, data, company_id: int):
        """Change some of a company's fields (custom values merge; null clears one)"""
        check_owner(data.get("owner_id"))
        with tenant_work() as session:
            return service.update_company(session, service.get_company(session, company_id), **data,
                                          actor_id=actor_id())

    @token_required("write")
    @blueprint.response(204)
    def delete(self, company_id: int):
        """Delete a company; its contacts stay"""
        with tenant_work() as session:
            service.delete_company(session, company_id, actor_id=actor_id())


@blueprint.route(f"/companies/<{ID}:company_id>/contacts")
class CompanyContacts(MethodView):
    @token_required("read")
    @blueprint.arguments(CompanyContactQueryArgsSchema, location="query")
    @blueprint.response(200, LinkedContactPageSchema)
    def get(self, args, company_id: int):
        """The company's contacts, ordered by contact id, one page at a time"""
        with tenant_work(commit=False) as session:
            service.get_company(session, company_id)
            query = service.contacts_of_company_query(company_id).options(selectinload(Contact.emails))
            contacts, next_cursor = paginate(query, key_columns=[Contact.id], limit=args["limit"],
                                             cursor=args["cursor"], session=session)
            links = {link.contact_id: link for link in session.scalars(select(ContactCompany).where(
                ContactCompany.company_id == company_id, ContactCompany.contact_id.in_([c.id for c in contacts])))}
            items = [{"contact": contact, "role": links[contact.id].role, "primary": links[contact.id].is_primary}
                     for contact in contacts]
            return {"items": items, "next_cursor": next_cursor}

    @token_required("write")
    @blueprint.arguments(CompanyLinkSchema)
    @blueprint.response(200, LinkedContactSchema)
    def post(self, data, company_id: int):
        """Link a contact to the company (linking again changes only its role)"""
        with tenant_work(missing_as={ContactNotFound: "contact_id"}) as session:
            link = service.link_contact(session, data["contact_id"], company_id, role=data["role"],
                                        primary=data["primary"], actor_id=actor_id())
            return {"contact": session.get(Contact, link.contact_id), "role": link.role, "primary": link.is_primary}


@blueprint.route(f"/companies/<{ID}:company_id>/contacts/<{ID}:contact_id>")
class CompanyContactById(MethodView):
    @token_required("write")
    @blueprint.response(204)
    def delete(self, company_id: int, contact_id: int):
        """Unlink a contact from the company (another company becomes its primary one)"""
        with tenant_work() as session:
            service.get_company(session, company_id)
            if session.get(ContactCompany, (contact_id, company_id)) is None:
                raise Problem(404, _("Contact %(contact)s is not linked to this company.", contact=contact_id))
            service.unlink_contact(session, contact_id, company_id, actor_id=actor_id())


@blueprint.route(f"/companies/<{ID}:company_id>/merge")
class CompanyMerge(MethodView):
    @token_required("write")
    @blueprint.arguments(MergeSchema)
    @blueprint.response(200, CompanySchema)
    def post(self, data, company_id: int):
        """Merge another company into this one; the other is deleted, its contacts move here"""
        with tenant_work() as session:
            return merge_companies(session, company_id, data["merge_id"], actor_id=actor_id())
