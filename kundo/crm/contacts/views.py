"""Pages: a new contact, the contact's record page and its forms (properties, e-mails,
consent, companies), merging a duplicate and deleting."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from kundo.crm.companies.errors import CompanyError, CompanyNotFound
from kundo.crm.companies.models import Company
from kundo.crm.companies.service import link_contact, unlink_contact
from kundo.crm.contacts import service
from kundo.crm.contacts.duplicates import find_duplicate_contacts
from kundo.crm.contacts.errors import ContactError, ContactNotFound, MergeError
from kundo.crm.contacts.merge import merge_contacts
from kundo.crm.contacts.models import Contact, LifecycleStage
from kundo.crm.lists.service import contact_items
from kundo.crm.pages import FORM_REFUSALS, custom_values, field_errors, local_datetime, member_id, members, split_list
from kundo.crm.properties.service import definitions_for
from kundo.crm.records import load_contact, render_record
from kundo.crm.views import ID, blueprint
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db

REASONS = {
    "same_name_same_company": _l("Same name, same company"),
    "similar_name_same_company": _l("Similar name, same company"),
    "similar_name_same_email_domain": _l("Similar name, same e-mail domain"),
    "same_phone": _l("Same phone number"),
}


def _company_id(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


@blueprint.route("/contacts/new", methods=["GET", "POST"])
@login_required
def new_contact():
    session = current_tenant_db()
    definitions = definitions_for(session, "contact")
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            contact = service.create_contact(
                session, first_name=form.get("first_name"), last_name=form.get("last_name"),
                emails=split_list(form.get("email")), phones=split_list(form.get("phone")),
                job_title=form.get("job_title"), owner_id=member_id(form.get("owner_id")),
                company_id=_company_id(form.get("company_id")), lifecycle_stage=form.get("lifecycle_stage") or None,
                custom=custom_values(definitions), actor_id=g.user.id,
            )
        except (*FORM_REFUSALS, CompanyNotFound) as error:
            session.rollback()
            errors = field_errors(error) if not isinstance(error, CompanyNotFound) else {"company_id": str(error)}
        else:
            session.commit()
            flash(_("Contact %(name)s created.", name=contact.name), "success")
            return redirect(url_for("crm_views.contact", contact_id=contact.id))
    companies = session.execute(select(Company.id, Company.name).order_by(Company.name).limit(500)).all()
    form = request.form if request.method == "POST" else {"owner_id": str(g.user.id)}
    return render_template("crm/contacts/new.html", form=form, errors=errors, definitions=definitions,
                           companies=companies, members=members(), stages=list(LifecycleStage)), \
        400 if errors else 200


@blueprint.get(f"/contacts/<{ID}:contact_id>")
@login_required
def contact(contact_id: int):
    return render_record("contact", load_contact(contact_id), tab=request.args.get("tab", "note"))


def _back(contact_id: int, anchor: str = ""):
    return redirect(url_for("crm_views.contact", contact_id=contact_id) + anchor)


def _refused(contact: Contact, error: Exception, *, tab: str = "note"):
    current_tenant_db().rollback()
    return render_record("contact", load_contact(contact.id), errors=field_errors(error), status=400, tab=tab)


@blueprint.post(f"/contacts/<{ID}:contact_id>")
@login_required
def update_contact(contact_id: int):
    """The properties panel: standard fields, owner, stage, tags and custom properties at once."""
    session = current_tenant_db()
    contact = load_contact(contact_id)
    form = request.form
    changes = {field: form.get(field) for field in ("first_name", "last_name", "job_title", "lead_status", "source")
               if field in form}
    if "phones" in form:
        changes["phones"] = split_list(form.get("phones"))
    if "tags" in form:
        changes["tags"] = split_list(form.get("tags"))
    if "lifecycle_stage" in form:
        changes["lifecycle_stage"] = form.get("lifecycle_stage") or None
    try:
        if "owner_id" in form:
            changes["owner_id"] = member_id(form.get("owner_id"))
        custom = custom_values(definitions_for(session, "contact"))
        if custom:
            changes["custom"] = custom
        service.update_contact(session, contact, actor_id=g.user.id, **changes)
    except FORM_REFUSALS as error:
        return _refused(contact, error)
    session.commit()
    flash(_("Saved."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/emails")
@login_required
def add_email(contact_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    try:
        service.add_email(session, contact, request.form.get("email", ""), primary=request.form.get("primary") == "on",
                          actor_id=g.user.id)
    except ContactError as error:
        return _refused(contact, error)
    session.commit()
    flash(_("E-mail address added."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/emails/remove")
@login_required
def remove_email(contact_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    try:
        service.remove_email(session, contact, request.form.get("email", ""), actor_id=g.user.id)
    except ContactError as error:
        return _refused(contact, error)
    session.commit()
    flash(_("E-mail address removed."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/consent")
@login_required
def set_consent(contact_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    try:
        at = local_datetime(request.form.get("consent_at"), "consent.at")
        service.set_consent(session, contact, request.form.get("consent_status", ""),
                            source=request.form.get("consent_source"), at=at, actor_id=g.user.id)
    except FORM_REFUSALS as error:
        return _refused(contact, error)
    session.commit()
    flash(_("Consent recorded. The decision is kept in the timeline as proof."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/companies")
@login_required
def link_company(contact_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    company_id = _company_id(request.form.get("company_id"))
    try:
        if company_id is None:
            raise CompanyError(_("Choose a company to link."), field="company_id")
        link_contact(session, contact, company_id, role=request.form.get("role"),
                     primary=request.form.get("primary") == "on", actor_id=g.user.id)
    except (CompanyError, CompanyNotFound) as error:
        if isinstance(error, CompanyNotFound):
            error = CompanyError(str(error), field="company_id")
        return _refused(contact, error)
    session.commit()
    flash(_("Company linked."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/companies/<{ID}:company_id>/primary")
@login_required
def make_primary_company(contact_id: int, company_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    try:
        service.update_contact(session, contact, company_id=company_id, actor_id=g.user.id)
    except CompanyNotFound:
        return redirect(url_for("crm_views.contact", contact_id=contact_id))
    session.commit()
    flash(_("Primary company changed."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/companies/<{ID}:company_id>/unlink")
@login_required
def unlink_company(contact_id: int, company_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    try:
        unlink_contact(session, contact, company_id, actor_id=g.user.id)
    except (CompanyError, CompanyNotFound):
        session.rollback()
        flash(_("This company is not linked to the contact (any more)."), "error")
        return _back(contact_id)
    session.commit()
    flash(_("Company unlinked."), "success")
    return _back(contact_id)


@blueprint.post(f"/contacts/<{ID}:contact_id>/delete")
@login_required
def delete_contact(contact_id: int):
    session = current_tenant_db()
    contact = load_contact(contact_id)
    name = contact.name
    service.delete_contact(session, contact, actor_id=g.user.id)
    session.commit()
    flash(_("Contact %(name)s deleted.", name=name), "success")
    return redirect(url_for("crm_views.contacts"))


@blueprint.route(f"/contacts/<{ID}:contact_id>/merge", methods=["GET", "POST"])
@login_required
def merge(contact_id: int):
    """Suggested duplicates of the contact; merging keeps this contact and folds the other in."""
    session = current_tenant_db()
    contact = load_contact(contact_id)
    error = None
    if request.method == "POST":
        other = _company_id(request.form.get("merge_id"))
        try:
            if other is None:
                raise MergeError(_("Choose the contact to merge into this one."))
            merge_contacts(session, contact.id, other, actor_id=g.user.id)
        except (MergeError, ContactNotFound) as refused:
            session.rollback()
            error = str(refused)
            contact = load_contact(contact_id)
        else:
            session.commit()
            flash(_("Contacts merged. Everything both knew is now on this contact."), "success")
            return _back(contact_id)
    suggestions = [] if contact.erased_at else find_duplicate_contacts(session, contact_id=contact.id, limit=20)
    others = {}
    ids = [i for suggestion in suggestions for i in suggestion.contact_ids if i != contact.id]
    if ids:
        rows = session.scalars(select(Contact).where(Contact.id.in_(ids)))
        others = {item["id"]: item for item in contact_items(session, list(rows))}
    candidates = [{"contact": others[i], "reasons": [REASONS.get(r, r) for r in s.reasons], "score": s.score}
                  for s in suggestions for i in s.contact_ids if i != contact.id and i in others]
    me = contact_items(session, [contact])[0]
    return render_template("crm/contacts/merge.html", contact=contact, me=me, candidates=candidates,
                           error=error), 400 if error else 200
