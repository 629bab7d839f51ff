"""Pipeline settings: pipelines, their stages (name, order, probability, rotting days), stage rules, visibility.

Admins and owners change pipelines; members see them. Every form answers with the same
page, showing a refusal next to the field that caused it.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.crm import TaskType
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.access import is_admin, prepare, save_visibility, settings, workspace_locale
from kundo_sales.deals.forms import first_errors
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.pipelines import service

ID = "int(max=9223372036854775807)"


def register(blueprint) -> None:
    blueprint.add_url_rule("/pipelines", "pipelines", pipelines, methods=["GET", "POST"])
    blueprint.add_url_rule(f"/pipelines/<{ID}:pipeline_id>", "pipeline", pipeline_page, methods=["GET", "POST"])
    blueprint.add_url_rule("/settings/visibility", "visibility", visibility, methods=["POST"])


def _require_admin():
    if not is_admin():
        abort(403, description=_("Only admins and owners of this workspace can do this. Ask one of them."))


@login_required
def pipelines():
    session = current_tenant_db()
    prepare(session)
    errors = {}
    if request.method == "POST":
        _require_admin()
        try:
            pipeline = service.create_pipeline(session, request.form.get("name", ""), created_by=g.user.id,
                                               locale=workspace_locale())
        except SalesValidationError as error:
            errors = first_errors(error)
        else:
            session.commit()
            flash(_("Pipeline “%(name)s” created.", name=pipeline.name), "success")
            return redirect(url_for("sales.pipeline", pipeline_id=pipeline.id))
    return render_template("sales/pipelines/list.html", rows=service.list_pipelines(session), errors=errors,
                           name=request.form.get("name", "") if errors else "", is_admin=is_admin(),
                           visibility=settings(session).deal_visibility), 400 if errors else 200


@login_required
def visibility():
    _require_admin()
    session = current_tenant_db()
    save_visibility(session, request.form.get("deal_visibility", "all"))
    session.commit()
    flash(_("Deal visibility saved."), "success")
    return redirect(url_for("sales.pipelines"))


ACTIONS = ("rename", "add_stage", "update_stage", "delete_stage", "reorder", "add_rule", "delete_rule", "delete")


@login_required
def pipeline_page(pipeline_id: int):
    session = current_tenant_db()
    try:
        pipeline = service.get_pipeline(session, pipeline_id)
    except SalesNotFound:
        abort(404)
    errors, form = {}, {}
    if request.method == "POST":
        _require_admin()
        action = request.form.get("action")
        if action not in ACTIONS:
            abort(400)
        form = request.form
        try:
            message = _apply(session, pipeline, action, request.form)
        except (SalesValidationError, SalesNotFound) as error:
            session.rollback()
            errors = first_errors(error) if isinstance(error, SalesValidationError) else {"form": str(error)}
            errors["action"] = action
            errors["stage"] = request.form.get("stage_id", "")
            pipeline = service.get_pipeline(session, pipeline_id)
        else:
            session.commit()
            flash(message, "success")
            if action == "delete":
                return redirect(url_for("sales.pipelines"))
            return redirect(url_for("sales.pipeline", pipeline_id=pipeline_id))
    rules = service.list_rules(session, pipeline.id)
    return render_template("sales/pipelines/edit.html", pipeline=pipeline, rules=rules,
                           errors=errors, form=form, is_admin=is_admin(),
                           task_types=[kind.value for kind in TaskType]), 400 if errors else 200


def _apply(session, pipeline, action: str, form) -> str:
    if action == "rename":
        service.rename_pipeline(session, pipeline, form.get("name", ""))
        return _("Pipeline renamed.")
    if action == "delete":
        service.delete_pipeline(session, pipeline)
        return _("Pipeline deleted.")
    if action == "add_stage":
        service.add_stage(session, pipeline, name=form.get("name", ""), probability=form.get("probability", 0),
                          rotting_days=form.get("rotting_days"))
        return _("Stage added.")
    if action == "reorder":
        ids = [int(v) for v in form.getlist("stage_ids") if str(v).isdigit()]
        service.reorder_stages(session, pipeline, ids)
        return _("Stage order saved.")
    if action == "add_rule":
        service.create_rule(session, pipeline, stage_id=_stage_id(form), title=form.get("title", ""),
                            task_type=form.get("task_type", "todo"), due_in_days=form.get("due_in_days", 0),
                            created_by=g.user.id)
        return _("Stage rule added.")
    if action == "delete_rule":
        service.delete_rule(session, pipeline.id, _int(form.get("rule_id")))
        return _("Stage rule deleted.")
    stage = next((s for s in pipeline.stages if s.id == _stage_id(form)), None)
    if stage is None:
        raise SalesNotFound(_("There is no stage with id %(id)s in this workspace.", id=form.get("stage_id")))
    if action == "delete_stage":
        service.delete_stage(session, stage)
        return _("Stage deleted.")
    changes = {key: form.get(key) for key in ("name", "probability", "rotting_days") if key in form}
    service.update_stage(session, stage, changes)
    return _("Stage saved.")


def _int(value) -> int:
    return int(value) if str(value or "").isdigit() else 0


def _stage_id(form) -> int:
    return _int(form.get("stage_id"))
