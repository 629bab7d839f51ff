"""Pages: the import wizard — upload → map columns (with a preview) → options → progress → result.

The wizard is the import service's steps, one screen each. The run lives in the
tenant's database from the upload on, so the URL `/import/<id>` always shows the step
the run is at: mapping while pending, progress while queued or running, the result
when finished.
"""

from __future__ import annotations

import io
from pathlib import PurePath

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kundo.crm.imports.csvfile import DEFAULT_MAX_BYTES, CsvFileError
from kundo.crm.imports.mapping import CUSTOM_PREFIX, FIELDS, MappingError
from kundo.crm.imports.runner import launch_import, workspace_members
from kundo.crm.imports.service import (
    COMPLETED,
    FAILED,
    PENDING,
    ImportRunError,
    create_import,
    error_report_download,
    get_import,
    headers_of,
    list_imports,
    preview_import,
    start_import,
)
from kundo.crm.pages import wants_fragment
from kundo.crm.properties.service import definitions_for
from kundo.crm.views import ID, blueprint
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db

FIELD_LABELS = {
    "first_name": _l("First name"), "last_name": _l("Last name"), "email": _l("E-mail"), "phone": _l("Phone"),
    "job_title": _l("Job title"), "lifecycle_stage": _l("Lifecycle stage"), "lead_status": _l("Lead status"),
    "source": _l("Source"), "tags": _l("Tags"), "owner": _l("Owner (e-mail of a member)"),
    "company": _l("Company name"), "company_domain": _l("Company domain"), "company_industry": _l("Company industry"),
    "company_size": _l("Company size"), "company_street": _l("Company street"),
    "company_postal_code": _l("Company postal code"), "company_city": _l("Company city"),
    "company_country": _l("Company country"), "name": _l("Name"), "domain": _l("Domain"), "industry": _l("Industry"),
    "size": _l("Employees"), "street": _l("Street"), "postal_code": _l("Postal code"), "city": _l("City"),
    "country": _l("Country"), "notes": _l("Notes"),
}


def _run(run_id: int):
    run = get_import(current_tenant_db(), run_id)
    if run is None:
        abort(404)
    return run


def _targets(object_type: str) -> list[tuple[str, str]]:
    """(target, label) choices of a column: the standard fields, then the custom properties."""
    choices = [(name, str(FIELD_LABELS.get(name, name))) for name in FIELDS[object_type]]
    for key, definition in definitions_for(current_tenant_db(), object_type).items():
        choices.append((f"{CUSTOM_PREFIX}{key}", definition.label))
    return choices


@blueprint.route("/import", methods=["GET", "POST"])
@login_required
def imports():
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        limit = int(current_app.config.get("KUNDO_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))
        session = current_tenant_db()
        if upload is None or not upload.filename:
            error = _("Choose a CSV file to upload.")
        else:
            try:
                run = create_import(session, object_type=request.form.get("object_type", "contact"),
                                    filename=PurePath(upload.filename).name, content=upload.stream.read(limit + 1),
                                    created_by=g.user.id, max_bytes=limit)
            except (CsvFileError, MappingError) as refused:
                session.rollback()
                error = str(refused)
            else:
                session.commit()
                return redirect(url_for("crm_views.import_run", run_id=run.id))
    runs = list_imports(current_tenant_db(), limit=20)
    return render_template("crm/imports/upload.html", runs=runs, error=error,
                           object_type=request.form.get("object_type", request.args.get("type", "contact"))), \
        400 if error else 200


def _posted_mapping(headers: list[str]) -> dict[str, str | None]:
    return {header: request.form.get(f"map-{index}") or None for index, header in enumerate(headers)}


def _mapping_page(run, mapping: dict, *, on_duplicate: str, dry_run: bool, errors: dict | None = None,
                  message: str | None = None):
    headers = headers_of(run)
    rows, problem = [], message
    if problem is None:
        try:
            rows = preview_import(current_tenant_db(), run, mapping=mapping, on_duplicate=on_duplicate,
                                  members=workspace_members(g.tenant.id))
        except MappingError as refused:
            problem, errors = str(refused), {**(errors or {}), **refused.errors}
        finally:
            current_tenant_db().rollback()
    mapped = [header for header in headers if mapping.get(header)]
    return render_template("crm/imports/mapping.html", run=run, headers=headers, mapping=mapping, rows=rows,
                           mapped=mapped, targets=_targets(run.object_type), on_duplicate=on_duplicate,
                           dry_run=dry_run, errors=errors or {}, problem=problem), 400 if problem else 200


@blueprint.get(f"/import/<{ID}:run_id>")
@login_required
def import_run(run_id: int):
    run = _run(run_id)
    if run.status == PENDING or (run.dry_run and run.status in (COMPLETED, FAILED) and run.content is not None
                                 and request.args.get("step") == "mapping"):
        return _mapping_page(run, dict(run.mapping or {}), on_duplicate=run.on_duplicate or "skip",
                             dry_run=run.status == PENDING and run.dry_run)
    return render_template("crm/imports/status.html", run=run)


@blueprint.post(f"/import/<{ID}:run_id>")
@login_required
def start_run(run_id: int):
    """Preview the posted mapping, or start the run with it."""
    run = _run(run_id)
    headers = headers_of(run)
    mapping = _posted_mapping(headers)
    on_duplicate = request.form.get("on_duplicate", "skip")
    dry_run = request.form.get("dry_run") == "on"
    if request.form.get("step") != "start":
        return _mapping_page(run, mapping, on_duplicate=on_duplicate, dry_run=dry_run)
    session = current_tenant_db()
    try:
        start_import(session, run, mapping=mapping, on_duplicate=on_duplicate, dry_run=dry_run)
    except MappingError as refused:
        session.rollback()
        return _mapping_page(_run(run_id), mapping, on_duplicate=on_duplicate, dry_run=dry_run,
                             errors=refused.errors, message=str(refused))
    except ImportRunError as refused:
        session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("crm_views.import_run", run_id=run_id))
    session.commit()
    launch_import(current_app._get_current_object(), g.tenant.id, run.id)
    return redirect(url_for("crm_views.import_run", run_id=run.id))


@blueprint.get(f"/import/<{ID}:run_id>/progress")
@login_required
def import_progress(run_id: int):
    """The status card alone, polled by htmx until the run has finished."""
    run = _run(run_id)
    if not wants_fragment():
        return redirect(url_for("crm_views.import_run", run_id=run.id))
    response = make_response(render_template("crm/imports/_status_card.html", run=run))
    if run.status in (COMPLETED, FAILED):
        response.headers["HX-Refresh"] = "true"  # the whole page: its steps move on to "Result"
    return response


@blueprint.get(f"/import/<{ID}:run_id>/errors.csv")
@login_required
def import_errors(run_id: int):
    run = _run(run_id)
    name = f"{PurePath(run.filename).stem or 'import'}.errors.csv"
    return send_file(io.BytesIO(error_report_download(run)), mimetype="text/csv", as_attachment=True,
                     download_name=name)
