"""Pages: the workflow list, the builder, a workflow's enrollments and test run, an enrollment's history.

Members may look at everything; building, pausing, resuming, testing and retrying need an
admin (the API draws the same line).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kundo.platform.auth.session import login_required, role_required
from kundo.platform.clock import now as clock_now
from kundo.platform.web import NavItem
from kundo.platform.workflows import service
from kundo.platform.workflows.actions import actions_for
from kundo.platform.workflows.catalogue import catalogue
from kundo.platform.workflows.conditions import OPERATORS, describe_rule
from kundo.platform.workflows.definition import DefinitionError
from kundo.platform.workflows.dryrun import dry_run
from kundo.platform.workflows.form import apply_op, blank_definition, parse_form
from kundo.platform.workflows.triggers import triggers_for
from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.service import members_of

blueprint = Blueprint("workflows", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/workflows-static")

ID = "int(max=9223372036854775807)"
WORKFLOWS_NAV = (NavItem("workflows", "Workflows", "workflows.index", icon="zap", order=40),)

STATUS_LABELS = {"draft": _l("Draft"), "active": _l("Active"), "paused": _l("Paused")}
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
UNITS = {"minutes": _l("minutes"), "hours": _l("hours"), "days": _l("days"), "weeks": _l("weeks")}


def _is_admin() -> bool:
    return Role(g.membership.role).at_least(Role.ADMIN)


def _workflow(workflow_id: int):
    try:
        return service.get_workflow(current_tenant_db(), workflow_id)
    except service.WorkflowNotFound:
        abort(404)


@blueprint.app_template_filter("join_weekdays")
def join_weekdays(days, names) -> str:
    return ", ".join(str(names[int(day)]) for day in days or () if str(day).isdigit() and int(day) < 7)


@blueprint.app_template_filter("wf_moment")
def wf_moment(value: str | None):
    """An ISO time from a run's detail as a datetime, for `crm_when`."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@blueprint.app_template_filter("workflow_rule_text")
def workflow_rule_text(rule: dict) -> str:
    """A condition rule as one line of text."""
    return describe_rule(rule)


def _builder_context(definition: dict, form_values: dict, errors: dict) -> dict:
    tenant_id = g.tenant.id
    return {"definition": definition, "form": form_values, "errors": errors,
            "triggers": triggers_for(tenant_id), "actions": actions_for(tenant_id),
            "catalogue": catalogue(tenant_id), "operators": OPERATORS, "weekdays": WEEKDAYS, "units": UNITS,
            "workflows": [wf for wf, _stats in service.list_workflows(current_tenant_db())],
            "members": members_of(g.tenant)}


@blueprint.get("/workflows")
@login_required
def index():
    rows = service.list_workflows(current_tenant_db())
    return render_template("workflows/list.html", rows=rows, triggers=triggers_for(g.tenant.id),
                           status_labels=STATUS_LABELS, can_manage=_is_admin())


def _save(workflow=None):
    session = current_tenant_db()
    actions = actions_for(g.tenant.id)
    definition = parse_form(request.form, actions)
    values = {"name": request.form.get("name", ""), "description": request.form.get("description", "")}
    op = request.form.get("op", "")
    if op:
        return render_template("workflows/builder.html", workflow=workflow,
                               **_builder_context(apply_op(definition, op), values, {}))
    try:
        if workflow is None:
            workflow = service.create_workflow(session, name=values["name"], description=values["description"],
                                               definition=definition, created_by=g.user.id)
        else:
            service.update_workflow(session, workflow, name=values["name"], description=values["description"],
                                    definition=definition)
    except DefinitionError as error:
        session.rollback()
        errors = {key: " ".join(map(str, messages)) for key, messages in error.errors.items()}
        return render_template("workflows/builder.html", workflow=workflow,
                               **_builder_context(definition, values, errors)), 400
    session.commit()
    flash(_("Workflow saved."), "success")
    return redirect(url_for("workflows.show", workflow_id=workflow.id))


@blueprint.route("/workflows/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    if request.method == "POST":
        return _save()
    return render_template("workflows/builder.html", workflow=None,
                           **_builder_context(blank_definition(), {}, {}))


@blueprint.route(f"/workflows/<{ID}:workflow_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(workflow_id: int):
    workflow = _workflow(workflow_id)
    if request.method == "POST":
        return _save(workflow)
    return render_template("workflows/builder.html", workflow=workflow,
                           **_builder_context(workflow.definition,
                                              {"name": workflow.name, "description": workflow.description or ""},
                                              {}))


@blueprint.get(f"/workflows/<{ID}:workflow_id>")
@login_required
def show(workflow_id: int, report=None, test_errors=None, status=200):
    session = current_tenant_db()
    workflow = _workflow(workflow_id)
    status_filter = request.args.get("status") or None
    enrollments = service.enrollments_of(session, workflow, status=status_filter, limit=100)
    return render_template(
        "workflows/show.html", workflow=workflow, stats=service.stats_of(session, workflow),
        enrollments=enrollments, runs=service.recent_runs(session, workflow, limit=30), status_filter=status_filter,
        triggers=triggers_for(g.tenant.id), actions=actions_for(g.tenant.id), status_labels=STATUS_LABELS,
        units=UNITS, weekdays=WEEKDAYS, can_manage=_is_admin(), report=report, test_errors=test_errors or {},
        test_form=request.form), status


@blueprint.post(f"/workflows/<{ID}:workflow_id>/status")
@role_required(Role.ADMIN)
def change_status(workflow_id: int):
    session = current_tenant_db()
    workflow = _workflow(workflow_id)
    wanted = request.form.get("status", "")
    try:
        service.set_status(session, workflow, wanted, clock_now())
    except DefinitionError as error:
        session.rollback()
        flash(_("The workflow cannot be switched on: %(problem)s", problem=str(error)), "error")
        return redirect(url_for("workflows.show", workflow_id=workflow.id))
    session.commit()
    flash({"active": _("Workflow is active."), "paused": _("Workflow paused: nothing new enrolls and waiting "
                                                           "records hold until you resume it."),
           "draft": _("Workflow is a draft again.")}.get(wanted, ""), "success")
    return redirect(request.form.get("next") if request.form.get("next") == url_for("workflows.index")
                    else url_for("workflows.show", workflow_id=workflow.id))


@blueprint.post(f"/workflows/<{ID}:workflow_id>/delete")
@role_required(Role.ADMIN)
def delete(workflow_id: int):
    session = current_tenant_db()
    service.delete_workflow(session, _workflow(workflow_id))
    session.commit()
    flash(_("Workflow deleted."), "success")
    return redirect(url_for("workflows.index"))


@blueprint.post(f"/workflows/<{ID}:workflow_id>/test")
@role_required(Role.ADMIN)
def test(workflow_id: int):
    workflow = _workflow(workflow_id)
    object_type = request.form.get("object_type", "contact")
    raw_id = (request.form.get("object_id") or "").strip()
    if object_type not in ("contact", "company", "task", "activity") or not raw_id.isdigit() or len(raw_id) > 18:
        return show(workflow_id, test_errors={"object_id": _("Enter the record's number (its id).")}, status=400)
    report = dry_run(current_tenant_db(), workflow.definition, object_type, int(raw_id), clock_now(),
                     workflow_id=workflow.id)
    if not report["found"]:
        return show(workflow_id, test_errors={"object_id": _("There is no such record in this workspace.")},
                    status=400)
    return show(workflow_id, report=report)


@blueprint.get(f"/workflows/<{ID}:workflow_id>/enrollments/<{ID}:enrollment_id>")
@login_required
def enrollment(workflow_id: int, enrollment_id: int):
    session = current_tenant_db()
    workflow = _workflow(workflow_id)
    try:
        found = service.get_enrollment(session, workflow, enrollment_id)
    except service.WorkflowNotFound:
        abort(404)
    return render_template("workflows/enrollment.html", workflow=workflow, enrollment=found,
                           history=service.history_of(session, found), actions=actions_for(g.tenant.id),
                           can_manage=_is_admin())


@blueprint.post(f"/workflows/<{ID}:workflow_id>/enrollments/<{ID}:enrollment_id>/retry")
@role_required(Role.ADMIN)
def retry(workflow_id: int, enrollment_id: int):
    session = current_tenant_db()
    workflow = _workflow(workflow_id)
    try:
        found = service.get_enrollment(session, workflow, enrollment_id)
    except service.WorkflowNotFound:
        abort(404)
    if service.retry(session, found, clock_now()):
        session.commit()
        flash(_("The enrollment continues from the step that failed."), "success")
    else:
        flash(_("Only a failed enrollment can be retried."), "error")
    return redirect(url_for("workflows.enrollment", workflow_id=workflow.id, enrollment_id=found.id))
