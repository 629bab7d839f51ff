"""API: workflows — CRUD, pause/resume, dry run, enrollments and their run history.

Members with a read token may look; building, pausing and deleting needs the admin role.
"""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor
from kundo.platform.clock import now as clock_now
from kundo.platform.errors import Problem
from kundo.platform.workflows import service
from kundo.platform.workflows.catalogue import catalogue
from kundo.platform.workflows.definition import DefinitionError, check_definition
from kundo.platform.workflows.dryrun import dry_run
from kundo.platform.workflows.models import Workflow, WorkflowEnrollment
from kundo.platform.workflows.schemas import (
    CatalogueSchema,
    DryRunArgsSchema,
    DryRunSchema,
    EnrollmentHistorySchema,
    EnrollmentPageSchema,
    EnrollmentQueryArgsSchema,
    WorkflowCreateSchema,
    WorkflowListSchema,
    WorkflowPatchSchema,
    WorkflowSchema,
)
from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("api_workflows", __name__, url_prefix="/api/v1", description="Workflow automation")

ID = "int(max=9223372036854775807)"
_TOP_LEVEL = ("name", "status", "description")


def _invalid(error: DefinitionError) -> Problem:
    errors = {key if key.split(".")[0] in _TOP_LEVEL else f"definition.{key}": messages
              for key, messages in error.errors.items()}
    return Problem(422, "The workflow is not valid: " + "; ".join(
        f"{key}: {' '.join(map(str, messages))}" for key, messages in errors.items()), errors=errors)


def _saved(change):
    tenant_db = current_tenant_db()
    try:
        result = change(tenant_db)
    except DefinitionError as error:
        tenant_db.rollback()
        raise _invalid(error) from error
    tenant_db.commit()
    return result


def _workflow(workflow_id: int) -> Workflow:
    try:
        return service.get_workflow(current_tenant_db(), workflow_id)
    except service.WorkflowNotFound:
        abort(404, description="No workflow with this id in this workspace.")


def _dump(workflow: Workflow, stats: service.WorkflowStats) -> dict:
    return {**{column: getattr(workflow, column) for column in (
        "id", "name", "description", "status", "trigger_event", "definition", "created_by", "created_at",
        "updated_at")}, "stats": stats.__dict__}


def _with_stats(workflow: Workflow) -> dict:
    return _dump(workflow, service.stats_of(current_tenant_db(), workflow))


@blueprint.route("/workflows")
class Workflows(MethodView):
    @token_required("read")
    @blueprint.response(200, WorkflowListSchema)
    def get(self):
        """List workflows with their enrollment figures, newest first"""
        rows = service.list_workflows(current_tenant_db())
        return {"items": [_dump(workflow, stats) for workflow, stats in rows]}

    @token_required("write", Role.ADMIN)
    @blueprint.arguments(WorkflowCreateSchema)
    @blueprint.response(201, WorkflowSchema)
    def post(self, data):
        """Create a workflow (draft unless status is active); 422 names each invalid field"""
        workflow = _saved(lambda tenant_db: service.create_workflow(
            tenant_db, name=data["name"], description=data.get("description"), definition=data["definition"],
            status=data["status"], created_by=g.user.id))
        return _with_stats(workflow)


@blueprint.route("/workflows/catalogue")
class Catalogue(MethodView):
    @token_required("read")
    @blueprint.response(200, CatalogueSchema)
    def get(self):
        """Triggers, actions (with their settings) and condition operators this workspace can use"""
        return catalogue(g.tenant.id)


@blueprint.route(f"/workflows/<{ID}:workflow_id>")
class WorkflowResource(MethodView):
    @token_required("read")
    @blueprint.response(200, WorkflowSchema)
    def get(self, workflow_id):
        """One workflow with its definition and figures"""
        return _with_stats(_workflow(workflow_id))

    @token_required("write", Role.ADMIN)
    @blueprint.arguments(WorkflowPatchSchema)
    @blueprint.response(200, WorkflowSchema)
    def patch(self, data, workflow_id):
        """Change name, description or definition; running enrollments keep the definition they started with"""
        workflow = _workflow(workflow_id)
        _saved(lambda tenant_db: service.update_workflow(tenant_db, workflow, **data))
        return _with_stats(workflow)

    @token_required("write", Role.ADMIN)
    @blueprint.response(204)
    def delete(self, workflow_id):
        """Delete a workflow with its enrollments and run history"""
        workflow = _workflow(workflow_id)
        _saved(lambda tenant_db: service.delete_workflow(tenant_db, workflow))


def _status_route(status: str, doc: str):
    def post(self, workflow_id):
        workflow = _workflow(workflow_id)
        _saved(lambda tenant_db: service.set_status(tenant_db, workflow, status, clock_now()))
        return _with_stats(workflow)

    post.__doc__ = doc  # before the decorators, which build the OpenAPI text from it
    return blueprint.response(200, WorkflowSchema)(token_required("write", Role.ADMIN)(post))


@blueprint.route(f"/workflows/<{ID}:workflow_id>/pause")
class PauseWorkflow(MethodView):
    post = _status_route("paused", "Pause: nothing new enrolls; enrollments whose delay ends wait until resumed")


@blueprint.route(f"/workflows/<{ID}:workflow_id>/resume")
class ResumeWorkflow(MethodView):
    post = _status_route("active", "Activate a draft or resume a paused workflow; held enrollments continue")


@blueprint.route(f"/workflows/<{ID}:workflow_id>/dry-run")
class DryRun(MethodView):
    @token_required("write", Role.ADMIN)
    @blueprint.arguments(DryRunArgsSchema)
    @blueprint.response(200, DryRunSchema)
    def post(self, data, workflow_id):
        """Test the workflow on one record: what would happen, with nothing sent or written"""
        workflow = _workflow(workflow_id)
        tenant_db = current_tenant_db()
        definition = workflow.definition
        if "definition" in data:
            try:
                definition = check_definition(data["definition"], g.tenant.id)
            except DefinitionError as error:
                raise _invalid(error) from error
        report = dry_run(tenant_db, definition, data["object_type"], data["object_id"], clock_now(),
                         workflow_id=workflow.id)
        if not report["found"]:
            abort(404, description=f"No {data['object_type']} with id {data['object_id']} in this workspace.")
        return report


@blueprint.route(f"/workflows/<{ID}:workflow_id>/enrollments")
class Enrollments(MethodView):
    @token_required("read")
    @blueprint.arguments(EnrollmentQueryArgsSchema, location="query")
    @blueprint.response(200, EnrollmentPageSchema)
    def get(self, args, workflow_id):
        """The workflow's enrollments, newest first"""
        workflow = _workflow(workflow_id)
        before = None
        if args["cursor"]:
            try:
                before = decode_cursor(args["cursor"], [WorkflowEnrollment.id])[0]
            except CursorError as error:
                raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
        items = service.enrollments_of(current_tenant_db(), workflow, status=args.get("status"), before_id=before,
                                       limit=args["limit"] + 1)
        more = len(items) > args["limit"]
        items = items[:args["limit"]]
        return {"items": items, "next_cursor": encode_cursor([items[-1].id]) if more else None}


def _enrollment(workflow_id: int, enrollment_id: int) -> WorkflowEnrollment:
    try:
        return service.get_enrollment(current_tenant_db(), _workflow(workflow_id), enrollment_id)
    except service.WorkflowNotFound:
        abort(404, description="No enrollment with this id in this workflow.")


@blueprint.route(f"/workflows/<{ID}:workflow_id>/enrollments/<{ID}:enrollment_id>")
class EnrollmentResource(MethodView):
    @token_required("read")
    @blueprint.response(200, EnrollmentHistorySchema)
    def get(self, workflow_id, enrollment_id):
        """One enrollment with its run history: each step, when, result and error"""
        enrollment = _enrollment(workflow_id, enrollment_id)
        enrollment.history = service.history_of(current_tenant_db(), enrollment)
        return enrollment


@blueprint.route(f"/workflows/<{ID}:workflow_id>/enrollments/<{ID}:enrollment_id>/retry")
class RetryEnrollment(MethodView):
    @token_required("write", Role.ADMIN)
    @blueprint.response(200, EnrollmentHistorySchema)
    def post(self, workflow_id, enrollment_id):
        """Run a failed enrollment again from the step that failed (409 if it has not failed)"""
        enrollment = _enrollment(workflow_id, enrollment_id)
        tenant_db = current_tenant_db()
        if not service.retry(tenant_db, enrollment, clock_now()):
            abort(409, description="Only a failed enrollment can be retried.")
        tenant_db.commit()
        enrollment.history = service.history_of(tenant_db, enrollment)
        return enrollment
