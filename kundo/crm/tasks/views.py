"""Pages: my tasks (overdue, today, upcoming), a task made on a record page, one-click done."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact
from kundo.crm.pages import FORM_REFUSALS, field_errors, local_datetime, member_id
from kundo.crm.records import load_company, load_contact, render_record
from kundo.crm.tasks import service
from kundo.crm.views import ID, blueprint
from kundo.platform.auth.session import login_required
from kundo.platform.db import utcnow
from kundo.tenants.resolution import current_tenant_db

OBJECT = "<any(contacts, companies):plural>"
_OBJECT_TYPES = {"contacts": "contact", "companies": "company"}


def record_names(tasks) -> dict[tuple[str, int], str]:
    """Names of the contacts and companies the tasks are about, for their links."""
    session = current_tenant_db()
    wanted = {(link.object_type, link.object_id) for task in tasks for link in task.links}
    names: dict[tuple[str, int], str] = {}
    contact_ids = [i for t, i in wanted if t == "contact"]
    company_ids = [i for t, i in wanted if t == "company"]
    if contact_ids:
        for contact in session.scalars(select(Contact).where(Contact.id.in_(contact_ids))):
            names[("contact", contact.id)] = contact.name
    if company_ids:
        for company_id, name in session.execute(select(Company.id, Company.name).where(Company.id.in_(company_ids))):
            names[("company", company_id)] = name
    return names


@blueprint.get("/tasks")
@login_required
def my_tasks():
    buckets = service.my_tasks(current_tenant_db(), g.user.id, now=utcnow())
    tasks = [task for bucket in buckets.values() for task in bucket]
    return render_template("crm/tasks/mine.html", buckets=buckets, names=record_names(tasks), now=utcnow())


@blueprint.post(f"/{OBJECT}/<{ID}:object_id>/tasks")
@login_required
def create_task(plural: str, object_id: int):
    object_type = _OBJECT_TYPES[plural]
    record = load_contact(object_id) if object_type == "contact" else load_company(object_id)
    session = current_tenant_db()
    form = request.form
    try:
        service.create_task(
            session, title=form.get("title", ""), type=form.get("task_type", "todo"),
            due_at=local_datetime(form.get("due_at"), "due_at"), owner_id=member_id(form.get("owner_id")),
            notes=(form.get("notes") or "").strip() or None, links=[(object_type, record.id)], created_by=g.user.id,
        )
    except FORM_REFUSALS as error:
        session.rollback()
        errors = field_errors(error)
        if "type" in errors:
            errors["task_type"] = errors.pop("type")
        return render_record(object_type, record, errors=errors, status=400, tab="task")
    session.commit()
    flash(_("Task created."), "success")
    endpoint = "crm_views.contact" if object_type == "contact" else "crm_views.company"
    return redirect(url_for(endpoint, **{f"{object_type}_id": record.id}) + "#tasks")


def _task(task_id: int):
    try:
        return service.get_task(current_tenant_db(), task_id)
    except service.TaskNotFound:
        abort(404)


def _back():
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("crm_views.my_tasks"))


@blueprint.post(f"/tasks/<{ID}:task_id>/complete")
@login_required
def complete_task(task_id: int):
    session = current_tenant_db()
    task = service.complete_task(session, _task(task_id), actor_id=g.user.id)
    session.commit()
    flash(_("Done: %(title)s", title=task.title), "success")
    return _back()


@blueprint.post(f"/tasks/<{ID}:task_id>/reopen")
@login_required
def reopen_task(task_id: int):
    session = current_tenant_db()
    service.reopen_task(session, _task(task_id))
    session.commit()
    flash(_("Task reopened."), "success")
    return _back()
