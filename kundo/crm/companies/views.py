"""Pages: a new company, the company's record page, its properties and its contacts."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.crm.companies import service
from kundo.crm.companies.errors import CompanyError
from kundo.crm.contacts.errors import ContactNotFound
from kundo.crm.contacts.service import find_contact_by_email
from kundo.crm.pages import FORM_REFUSALS, custom_values, field_errors, member_id, members
from kundo.crm.properties.service import definitions_for
from kundo.crm.records import load_company, render_record
from kundo.crm.views import ID, blueprint
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db

TEXT_FIELDS = ("name", "domain", "industry", "street", "postal_code", "city", "country", "phone", "notes")


def _size(raw: str | None):
    """Employees as a whole number; anything else goes to the service, which names the field."""
    text = (raw or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _values(form, definitions) -> dict:
    values = {field: form.get(field) for field in TEXT_FIELDS if field in form}
    if "size" in form:
        values["size"] = _size(form.get("size"))
    if "owner_id" in form:
        values["owner_id"] = member_id(form.get("owner_id"))
    custom = custom_values(definitions)
    if custom:
        values["custom"] = custom
    return values


@blueprint.route("/companies/new", methods=["GET", "POST"])
@login_required
def new_company():
    session = current_tenant_db()
    definitions = definitions_for(session, "company")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            company = service.create_company(session, **_values(request.form, definitions), actor_id=g.user.id)
        except FORM_REFUSALS as error:
            session.rollback()
            errors = field_errors(error)
        else:
            session.commit()
            flash(_("Company %(name)s created.", name=company.name), "success")
            return redirect(url_for("crm_views.company", company_id=company.id))
    form = request.form if request.method == "POST" else {"owner_id": str(g.user.id)}
    return render_template("crm/companies/new.html", form=form, errors=errors, definitions=definitions,
                           members=members()), 400 if errors else 200


@blueprint.get(f"/companies/<{ID}:company_id>")
@login_required
def company(company_id: int):
    return render_record("company", load_company(company_id), tab=request.args.get("tab", "note"))


def _back(company_id: int):
    return redirect(url_for("crm_views.company", company_id=company_id))


def _refused(company_id: int, error: Exception):
    current_tenant_db().rollback()
    return render_record("company", load_company(company_id), errors=field_errors(error), status=400)


@blueprint.post(f"/companies/<{ID}:company_id>")
@login_required
def update_company(company_id: int):
    session = current_tenant_db()
    company = load_company(company_id)
    try:
        service.update_company(session, company, actor_id=g.user.id,
                               **_values(request.form, definitions_for(session, "company")))
    except FORM_REFUSALS as error:
        return _refused(company_id, error)
    session.commit()
    flash(_("Saved."), "success")
    return _back(company_id)


@blueprint.post(f"/companies/<{ID}:company_id>/contacts")
@login_required
def link_contact(company_id: int):
    """Link a contact found by e-mail address (the one thing that names a person exactly)."""
    session = current_tenant_db()
    company = load_company(company_id)
    email = request.form.get("email", "").strip()
    contact = find_contact_by_email(session, email) if email else None
    try:
        if contact is None or contact.erased_at is not None:
            raise CompanyError(_("No contact has the address “%(email)s”. Create the contact first, or check the "
                                 "spelling.", email=email), field="email")
        service.link_contact(session, contact, company, role=request.form.get("role"), actor_id=g.user.id)
    except CompanyError as error:
        return _refused(company_id, error)
    session.commit()
    flash(_("%(name)s linked.", name=contact.name), "success")
    return _back(company_id)


@blueprint.post(f"/companies/<{ID}:company_id>/contacts/<{ID}:contact_id>/unlink")
@login_required
def unlink_contact(company_id: int, contact_id: int):
    session = current_tenant_db()
    company = load_company(company_id)
    try:
        service.unlink_contact(session, contact_id, company, actor_id=g.user.id)
    except (CompanyError, ContactNotFound):
        session.rollback()
        flash(_("This contact is not linked to the company (any more)."), "error")
        return _back(company_id)
    session.commit()
    flash(_("Contact unlinked."), "success")
    return _back(company_id)


@blueprint.post(f"/companies/<{ID}:company_id>/delete")
@login_required
def delete_company(company_id: int):
    session = current_tenant_db()
    company = load_company(company_id)
    name = company.name
    service.delete_company(session, company, actor_id=g.user.id)
    session.commit()
    flash(_("Company %(name)s deleted. Its contacts stay.", name=name), "success")
    return redirect(url_for("crm_views.companies"))
