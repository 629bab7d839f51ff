"""API: tasks — create, list with filters, my day, edit, complete, delete."""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.crm.tasks import service
from kundo.crm.tasks.models import Task
from kundo.crm.tasks.schemas import (
    MyTasksSchema,
    TaskCreateSchema,
    TaskPageSchema,
    TaskPatchSchema,
    TaskQueryArgsSchema,
    TaskSchema,
)
from kundo.crm.timeline.links import object_exists
from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor
from kundo.platform.db import utcnow
from kundo.platform.errors import Problem
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.service import get_member

blueprint = Blueprint("api_crm_tasks", __name__, url_prefix="/api/v1", description="CRM: tasks")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
BIGINT_MAX = 9223372036854775807
ID = f"int(max={BIGINT_MAX})"


def _invalid(error: ValueError) -> Problem:
    errors = getattr(error, "errors", None) or {getattr(error, "field", "links"): [str(error)]}
    return Problem(422, str(error), errors=errors)


def _check_owner(owner_id: int | None) -> None:
    if owner_id is None:
        return
    try:
        get_member(g.tenant, owner_id)
    except LookupError as error:
        message = "The owner must be a member of this workspace. Use a user id from GET /api/v1/members."
        raise Problem(422, message, errors={"owner_id": [message]}) from error


def _links(data: dict) -> None:
    if "links" in data:
        data["links"] = [(link["object_type"], link["object_id"]) for link in data["links"]]


def _task_or_404(task_id: int) -> Task:
    try:
        return service.get_task(current_tenant_db(), task_id)
    except service.TaskNotFound:
        abort(404, description="No task with this id in this workspace.")


def _saved(change):
    """Run a service change; map its refusals to 422/404, commit on success."""
    tenant_db = current_tenant_db()
    try:
        result = change(tenant_db)
    except (service.TaskValidationError, service.LinkError) as error:
        tenant_db.rollback()
        raise _invalid(error) from error
    except service.LinkTargetNotFound as error:
        tenant_db.rollback()
        abort(404, description=str(error))
    tenant_db.commit()
    return result


@blueprint.route("/tasks")
class Tasks(MethodView):
    @token_required("read")
    @blueprint.arguments(TaskQueryArgsSchema, location="query")
    @blueprint.response(200, TaskPageSchema)
    def get(self, args):
        """List tasks, soonest due first (undated last), filtered by owner, status, due day or object"""
        tenant_db = current_tenant_db()
        if "object_type" in args and (args["object_id"] > BIGINT_MAX
                                      or not object_exists(tenant_db, args["object_type"], args["object_id"])):
            abort(404, description=f"No {args['object_type']} with id {args['object_id']} in this workspace.")
        after = None
        if args["cursor"]:
            try:
                after = tuple(decode_cursor(args["cursor"], [Task.due_at, Task.id]))
            except CursorError as error:
                raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
        owner_id = g.user.id if args["mine"] else args.get("owner_id")
        items, last = service.list_tasks(
            tenant_db, now=utcnow(), owner_id=owner_id, status=args["status"], overdue=args["overdue"],
            today=args["today"], object_type=args.get("object_type"), object_id=args.get("object_id"),
            after=after, limit=args["limit"],
        )
        return {"items": items, "next_cursor": encode_cursor(list(last)) if last else None}

    @token_required("write")
    @blueprint.arguments(TaskCreateSchema)
    @blueprint.response(201, TaskSchema)
    def post(self, data):
        """Create a task (owned by you unless owner_id names another member)"""
        data.setdefault("owner_id", g.user.id)
        _check_owner(data["owner_id"])
        _links(data)
        return _saved(lambda tenant_db: service.create_task(tenant_db, created_by=g.user.id, **data))


@blueprint.route("/tasks/mine")
class MyTasks(MethodView):
    @token_required("read")
    @blueprint.response(200, MyTasksSchema)
    def get(self):
        """Your open tasks: overdue, due today (workspace time zone) and upcoming"""
        return service.my_tasks(current_tenant_db(), g.user.id, now=utcnow())


@blueprint.route(f"/tasks/<{ID}:task_id>")
class TaskById(MethodView):
    @token_required("read")
    @blueprint.response(200, TaskSchema)
    def get(self, task_id: int):
        """One task"""
        return _task_or_404(task_id)

    @token_required("write")
    @blueprint.arguments(TaskPatchSchema)
    @blueprint.response(200, TaskSchema)
    def patch(self, data, task_id: int):
        """Change a task's title, type, due time, reminder, owner, notes or links"""
        task = _task_or_404(task_id)
        if "owner_id" in data:
            _check_owner(data["owner_id"])
        _links(data)
        return _saved(lambda tenant_db: service.update_task(tenant_db, task, data))

    @token_required("write")
    @blueprint.response(204)
    def delete(self, task_id: int):
        """Delete a task"""
        task = _task_or_404(task_id)
        _saved(lambda tenant_db: service.delete_task(tenant_db, task))


@blueprint.route(f"/tasks/<{ID}:task_id>/complete")
class CompleteTask(MethodView):
    @token_required("write")
    @blueprint.response(200, TaskSchema)
    def post(self, task_id: int):
        """Mark a task done (again: no change)"""
        task = _task_or_404(task_id)
        return _saved(lambda tenant_db: service.complete_task(tenant_db, task, actor_id=g.user.id))


@blueprint.route(f"/tasks/<{ID}:task_id>/reopen")
class ReopenTask(MethodView):
    @token_required("write")
    @blueprint.response(200, TaskSchema)
    def post(self, task_id: int):
        """Mark a done task open again"""
        task = _task_or_404(task_id)
        return _saved(lambda tenant_db: service.reopen_task(tenant_db, task))
