"""Pages: the contact and company lists, their CSV export, saved views and bulk actions."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.models import Contact, LifecycleStage
from kundo.crm.lists import saved_views
from kundo.crm.lists.bulk import BulkError, ConfirmationRequired, run_bulk_action
from kundo.crm.lists.export import export_columns, stream_csv
from kundo.crm.lists.listing import ListState, list_state
from kundo.crm.lists.search import search
from kundo.crm.lists.service import (
    ListPage,
    ListQuery,
    ListQueryError,
    company_items,
    compile_query,
    contact_items,
    filter_context,
    page_of,
    selected_ids,
)
from kundo.crm.pages import member_names, members
from kundo.crm.properties.service import definitions_for
from kundo.crm.views import blueprint
from kundo.platform.api_pagination import CursorError
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.session import TenantScope, open_tenant_session

PAGE_SIZE = 50
SEARCH_LIMIT = 50
PLURAL = {"contact": "contacts", "company": "companies"}


def _query(state: ListState) -> tuple[ListQuery, object]:
    """The page's list query: a saved view's definition underneath the bar's filters."""
    session = current_tenant_db()
    view = None
    if state.view_id:
        try:
            query, view = saved_views.view_query(session, state.view_id, g.user.id, state.object_type,
                                                 filters=state.filters, sort=state.sort)
            return query, view
        except saved_views.SavedViewNotFound:
            flash(_("That saved view is gone or not shared with you; showing all records."), "error")
    return ListQuery(state.object_type, state.filters, state.sort), view


def _searched(session, compiled, object_type: str, text: str) -> ListPage:
    """Search hits (typo-tolerant, best first) that also pass the page's filters."""
    results = search(session, text, limit=SEARCH_LIMIT)
    hits = results.contacts if object_type == "contact" else results.companies
    ids = [hit["id"] for hit in hits]
    if not ids:
        return ListPage([], None)
    model = compiled.catalog.model
    allowed = set(session.scalars(selected_ids(compiled).where(model.id.in_(ids))))
    rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_(allowed)))}
    ordered = [rows[record_id] for record_id in ids if record_id in rows]
    items = contact_items(session, ordered) if object_type == "contact" else company_items(ordered)
    return ListPage(items, None)


def _contact_counts(session, company_ids: list[int]) -> dict[int, int]:
    if not company_ids:
        return {}
    return dict(session.execute(select(ContactCompany.company_id, func.count()).where(
        ContactCompany.company_id.in_(company_ids)).group_by(ContactCompany.company_id)).all())


def _list_page(object_type: str):
    session = current_tenant_db()
    definitions = definitions_for(session, object_type)
    state = list_state(object_type, definitions)
    query, view = _query(state)
    context = filter_context(session, g.user.id)
    error = None
    try:
        compiled = compile_query(session, query, context)
        if state.search:
            page = _searched(session, compiled, object_type, state.search)
        else:
            page = page_of(session, compiled, limit=PAGE_SIZE, cursor=state.cursor)
    except (ListQueryError, CursorError) as refused:
        error, page = str(refused), ListPage([], None)
    # Whether the workspace has any record at all decides between "no matches" and "no contacts yet";
    # an EXISTS stays cheap where a count of a million rows would not.
    model = Contact if object_type == "contact" else Company
    anything = session.scalar(select(model.id).limit(1)) is not None
    counts = _contact_counts(session, [item["id"] for item in page.items]) if object_type == "company" else {}
    template = "crm/contacts/list.html" if object_type == "contact" else "crm/companies/list.html"
    return render_template(
        template, state=state, page=page, view=view, error=error, anything=anything, contact_counts=counts,
        views=saved_views.list_views(session, g.user.id, object_type), definitions=definitions,
        members=members(), owners=member_names(), stages=list(LifecycleStage), object_type=object_type,
    ), 400 if error else 200


@blueprint.get("/contacts")
@login_required
def contacts():
    return _list_page("contact")


@blueprint.get("/companies")
@login_required
def companies():
    return _list_page("company")


def _export(object_type: str) -> Response:
    session = current_tenant_db()
    state = list_state(object_type, definitions_for(session, object_type))
    query, _view = _query(state)
    context = filter_context(session, g.user.id)
    try:
        compiled = compile_query(session, query, context)
        columns = export_columns(compiled.catalog, query.columns)
    except (ListQueryError, ValueError) as error:
        abort(400, description=str(error))
    owners = member_names()
    scope = TenantScope.of(g.tenant)

    def chunks():
        # The request's session closes before a streamed body is sent: read in one of its own.
        own = open_tenant_session(scope)
        try:
            own.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield from stream_csv(own, compiled, columns, context=context, owner_names=owners,
                                  delimiter="semicolon" if str(request.args.get("delimiter")) == "semicolon"
                                  else "comma")
        finally:
            own.close()

    filename = f"{PLURAL[object_type]}-{date.today().isoformat()}.csv"
    return Response(stream_with_context(chunks()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/contacts/export.csv")
@login_required
def export_contacts():
    return _export("contact")


@blueprint.get("/companies/export.csv")
@login_required
def export_companies():
    return _export("company")


@blueprint.post("/<any(contacts, companies):plural>/views")
@login_required
def save_view(plural: str):
    object_type = "contact" if plural == "contacts" else "company"
    session = current_tenant_db()
    state = list_state(object_type, definitions_for(session, object_type))
    query, _view = _query(state)
    try:
        view = saved_views.create_view(session, object_type=object_type, name=request.form.get("name", ""),
                                       owner_id=g.user.id, filters=query.filters or [], sort=query.sort,
                                       shared=request.form.get("shared") == "on")
    except saved_views.SavedViewError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for(f"crm_views.{plural}", **state.bar_args()))
    session.commit()
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(url_for(f"crm_views.{plural}", view=view.id))


@blueprint.post("/views/<int(max=9223372036854775807):view_id>/delete")
@login_required
def delete_view(view_id: int):
    session = current_tenant_db()
    try:
        view = saved_views.get_view(session, view_id, g.user.id)
        plural = PLURAL[view.object_type]
        saved_views.delete_view(session, view_id, user_id=g.user.id,
                                is_admin=g.membership.role in ("owner", "admin"))
    except saved_views.SavedViewNotFound:
        abort(404)
    except saved_views.SavedViewForbidden as error:
        abort(403, description=str(error))
    session.commit()
    flash(_("View deleted."), "success")
    return redirect(url_for(f"crm_views.{plural}"))


def _selected_ids() -> list[int]:
    return sorted({int(raw) for raw in request.form.getlist("ids") if raw.isdigit() and len(raw) < 19})


@blueprint.post("/contacts/bulk")
@login_required
def bulk_contacts():
    ids = _selected_ids()
    action = request.form.get("action", "")
    back = request.form.get("next") or url_for("crm_views.contacts")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("crm_views.contacts")
    if not ids:
        flash(_("Tick the contacts you want to change first."), "error")
        return redirect(back)
    value = None
    if action == "assign_owner":
        raw = request.form.get("owner_id", "")
        value = int(raw) if raw.isdigit() and int(raw) in member_names() else None
        if raw and value is None:
            flash(_("Choose an owner from the members of this workspace."), "error")
            return redirect(back)
    elif action == "add_tag":
        value = request.form.get("tag", "")
    confirm = request.form.get("confirm", "")
    session = current_tenant_db()
    try:
        result = run_bulk_action(session, action, ids=ids, value=value,
                                 confirm=int(confirm) if confirm.isdigit() else None, actor_id=g.user.id,
                                 context=filter_context(session, g.user.id))
    except ConfirmationRequired as needed:
        session.rollback()
        names = [item["name"] or item["email"] for item in contact_items(
            session, list(session.scalars(select(Contact).where(Contact.id.in_(ids), Contact.erased_at.is_(None))
                                          .order_by(Contact.id).limit(10))))]
        return render_template("crm/contacts/bulk_delete.html", ids=ids, count=needed.count, names=names,
                               back=back), 409
    except BulkError as error:
        session.rollback()
        flash(str(error) if error.field != "value" else _("Enter the tag to add."), "error")
        return redirect(back)
    session.commit()
    messages = {
        "assign_owner": ngettext("Owner set on %(num)s contact.", "Owner set on %(num)s contacts.", result.changed),
        "add_tag": ngettext("Tag added to %(num)s contact.", "Tag added to %(num)s contacts.", result.changed),
        "remove_tag": ngettext("Tag removed from %(num)s contact.", "Tag removed from %(num)s contacts.",
                               result.changed),
        "delete": ngettext("%(num)s contact deleted.", "%(num)s contacts deleted.", result.changed),
    }
    flash(messages[result.action.value], "success")
    return redirect(back)
