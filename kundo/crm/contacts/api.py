"""API: contacts, their e-mails, tags, consent, duplicates and merges; the matcher for integrations.

The collection's GET (list, filters, sorting) belongs to kundo.crm.lists; this
blueprint only adds POST on /contacts, so the two share the URL.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kundo.crm.companies.errors import CompanyNotFound
from kundo.crm.companies.service import companies_of_contact
from kundo.crm.contacts import service
from kundo.crm.contacts.duplicates import find_duplicate_contacts
from kundo.crm.contacts.merge import merge_contacts
from kundo.crm.contacts.models import Contact
from kundo.crm.contacts.problems import actor_id, check_owner, tenant_work
from kundo.crm.contacts.schemas import (
    ConsentSchema,
    ContactCompanySchema,
    ContactCreateSchema,
    ContactPatchSchema,
    ContactSchema,
    DuplicateQueryArgsSchema,
    DuplicateSchema,
    EmailCreateSchema,
    MatchResultSchema,
    MatchSchema,
    MergeSchema,
    TagsChangeSchema,
)
from kundo.crm.matching.service import match_contact_by_email
from kundo.platform.api import token_required
from kundo.platform.errors import Problem

blueprint = Blueprint("api_crm_contacts", __name__, url_prefix="/api/v1", description="CRM: contacts")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


@blueprint.route("/contacts")
class Contacts(MethodView):
    @token_required("write")
    @blueprint.arguments(ContactCreateSchema)
    @blueprint.response(201, ContactSchema)
    def post(self, data):
        """Create a contact"""
        check_owner(data.get("owner_id"))
        with tenant_work(missing_as={CompanyNotFound: "company_id"}) as session:
            return service.create_contact(session, **data, actor_id=actor_id())


@blueprint.route(f"/contacts/<{ID}:contact_id>")
class ContactById(MethodView):
    @token_required("read")
    @blueprint.response(200, ContactSchema)
    def get(self, contact_id: int):
        """One contact"""
        with tenant_work(commit=False) as session:
            return service.get_contact(session, contact_id)

    @token_required("write")
    @blueprint.arguments(ContactPatchSchema)
    @blueprint.response(200, ContactSchema)
    def patch(self, data, contact_id: int):
        """Change some of a contact's fields (custom values merge; null clears one)"""
        check_owner(data.get("owner_id"))
        with tenant_work(missing_as={CompanyNotFound: "company_id"}) as session:
            return service.update_contact(session, service.get_contact(session, contact_id), **data,
                                          actor_id=actor_id())

    @token_required("write")
    @blueprint.response(204)
    def delete(self, contact_id: int):
        """Delete a contact with its e-mails, company links and the timeline entries only it had"""
        with tenant_work() as session:
            service.delete_contact(session, contact_id, actor_id=actor_id())


@blueprint.route(f"/contacts/<{ID}:contact_id>/emails")
class ContactEmails(MethodView):
    @token_required("write")
    @blueprint.arguments(EmailCreateSchema)
    @blueprint.response(200, ContactSchema)
    def post(self, data, contact_id: int):
        """Add an e-mail address, or make one the primary address"""
        with tenant_work() as session:
            return service.add_email(session, contact_id, data["email"], primary=data["primary"],
                                     actor_id=actor_id())


@blueprint.route(f"/contacts/<{ID}:contact_id>/emails/<string:email>")
class ContactEmailByAddress(MethodView):
    @token_required("write")
    @blueprint.response(200, ContactSchema)
    def delete(self, contact_id: int, email: str):
        """Remove an e-mail address (the next one becomes primary)"""
        with tenant_work() as session:
            contact = service.get_contact(session, contact_id)
            if not any(row.email.lower() == email.strip().lower() for row in contact.emails):
                raise Problem(404, _("%(email)s is not an address of this contact.", email=email))
            return service.remove_email(session, contact, email, actor_id=actor_id())


@blueprint.route(f"/contacts/<{ID}:contact_id>/tags")
class ContactTags(MethodView):
    @token_required("write")
    @blueprint.arguments(TagsChangeSchema)
    @blueprint.response(200, ContactSchema)
    def post(self, data, contact_id: int):
        """Add and remove tags (case-insensitively; PATCH `tags` replaces them all)"""
        with tenant_work() as session:
            contact = service.get_contact(session, contact_id)
            if data["add"]:
                service.add_tags(session, contact, data["add"], actor_id=actor_id())
            if data["remove"]:
                service.remove_tags(session, contact, data["remove"], actor_id=actor_id())
            return contact


@blueprint.route(f"/contacts/<{ID}:contact_id>/consent")
class ContactConsent(MethodView):
    @token_required("write")
    @blueprint.arguments(ConsentSchema)
    @blueprint.response(200, ContactSchema)
    def post(self, data, contact_id: int):
        """Record a consent decision (kept as history in the contact's timeline)"""
        with tenant_work(within="consent") as session:
            return service.set_consent(session, contact_id, data["status"], source=data["source"], at=data["at"],
                                       actor_id=actor_id())


@blueprint.route(f"/contacts/<{ID}:contact_id>/companies")
class ContactCompanies(MethodView):
    @token_required("read")
    @blueprint.response(200, ContactCompanySchema(many=True))
    def get(self, contact_id: int):
        """The contact's companies, primary first"""
        with tenant_work(commit=False) as session:
            service.get_contact(session, contact_id)
            return [{"company": company, "role": link.role, "primary": link.is_primary}
                    for company, link in companies_of_contact(session, contact_id)]


@blueprint.route(f"/contacts/<{ID}:contact_id>/merge")
class ContactMerge(MethodView):
    @token_required("write")
    @blueprint.arguments(MergeSchema)
    @blueprint.response(200, ContactSchema)
    def post(self, data, contact_id: int):
        """Merge another contact into this one; the other is deleted, nothing it knew is lost"""
        with tenant_work() as session:
            return merge_contacts(session, contact_id, data["merge_id"], actor_id=actor_id())


@blueprint.route("/contacts/duplicates")
class ContactDuplicates(MethodView):
    @token_required("read")
    @blueprint.arguments(DuplicateQueryArgsSchema, location="query")
    @blueprint.response(200, DuplicateSchema(many=True))
    def get(self, args):
        """Pairs of contacts that are probably one person, most likely first"""
        with tenant_work(commit=False) as session:
            if args.get("contact_id"):
                service.get_contact(session, args["contact_id"])
            suggestions = find_duplicate_contacts(session, contact_id=args.get("contact_id"), limit=args["limit"])
            ids = {contact_id for suggestion in suggestions for contact_id in suggestion.contact_ids}
            contacts = {contact.id: contact for contact in session.scalars(
                select(Contact).where(Contact.id.in_(ids)).options(selectinload(Contact.emails)))}
            return [{"contacts": [contacts[contact_id] for contact_id in suggestion.contact_ids],
                     "reasons": suggestion.reasons, "score": suggestion.score} for suggestion in suggestions]


@blueprint.route("/match")
class Match(MethodView):
    @token_required("write")
    @blueprint.arguments(MatchSchema)
    @blueprint.response(200, MatchResultSchema)
    def post(self, data):
        """Find the contact (and company) of an e-mail address, creating them if new — for integrations"""
        defaults = {key: data[key] for key in ("first_name", "last_name") if data.get(key)}
        with tenant_work() as session:
            result = match_contact_by_email(session, data["email"], defaults=defaults, create=data["create"],
                                            create_company=data["create_company"], source=data.get("source"),
                                            actor_id=actor_id())
        return result
