"""API: log activities and read the timeline of a contact, company or hub object."""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.crm.timeline import service
from kundo.crm.timeline.links import object_exists
from kundo.crm.timeline.models import Activity
from kundo.crm.timeline.schemas import (
    ActivityCreateSchema,
    ActivityPageSchema,
    ActivityQueryArgsSchema,
    ActivitySchema,
    TimelineQueryArgsSchema,
)
from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor
from kundo.platform.errors import Problem
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("api_crm_timeline", __name__, url_prefix="/api/v1", description="CRM: timeline")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


def validation_problem(error: ValueError, field: str = "links") -> Problem:
    """422 naming the fields to fix, from the timeline's and tasks' validation errors."""
    errors = getattr(error, "errors", None) or {getattr(error, "field", field): [str(error)]}
    return Problem(422, str(error), errors=errors)


def _timeline_page(object_type: str, object_id: int, args: dict) -> dict:
    tenant_db = current_tenant_db()
    if not object_exists(tenant_db, object_type, object_id):
        abort(404, description=f"No {object_type} with id {object_id} in this workspace.")
    before = None
    if args["cursor"]:
        try:
            before = tuple(decode_cursor(args["cursor"], [Activity.occurred_at, Activity.id]))
        except CursorError as error:
            raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
    try:
        page = service.timeline_for(tenant_db, object_type, object_id, types=args.get("types"), before=before,
                                    limit=args["limit"], include_company=args["include_company"])
    except service.ActivityValidationError as error:
        raise validation_problem(error) from error
    next_cursor = encode_cursor(list(page.next_before)) if page.next_before else None
    return {"items": page.activities, "next_cursor": next_cursor}


@blueprint.route("/activities")
class Activities(MethodView):
    @token_required("read")
    @blueprint.arguments(ActivityQueryArgsSchema, location="query")
    @blueprint.response(200, ActivityPageSchema)
    def get(self, args):
        """The timeline of any object (contact, company, deal …), newest first"""
        return _timeline_page(args["object_type"], args["object_id"], args)

    @token_required("write")
    @blueprint.arguments(ActivityCreateSchema)
    @blueprint.response(201, ActivitySchema)
    @blueprint.alt_response(200, schema=ActivitySchema,
                            description="An activity with this external_id existed already; it is returned as is.")
    def post(self, data):
        """Log an activity (a call, e-mail, meeting, note …) on the timelines of its links"""
        tenant_db = current_tenant_db()
        links = [(link["object_type"], link["object_id"]) for link in data.pop("links")]
        activity_type = data.pop("type")
        try:
            activity, created = service.record_activity(tenant_db, activity_type, links=links,
                                                        actor_id=g.user.id, **data)
        except (service.ActivityValidationError, service.LinkError) as error:
            tenant_db.rollback()
            raise validation_problem(error) from error
        except service.LinkTargetNotFound as error:
            tenant_db.rollback()
            abort(404, description=str(error))
        tenant_db.commit()
        return activity, 201 if created else 200


@blueprint.route(f"/contacts/<{ID}:contact_id>/timeline")
class ContactTimeline(MethodView):
    @token_required("read")
    @blueprint.arguments(TimelineQueryArgsSchema, location="query")
    @blueprint.response(200, ActivityPageSchema)
    def get(self, args, contact_id: int):
        """A contact's timeline, newest first (with its companies' activities on request)"""
        return _timeline_page("contact", contact_id, args)


@blueprint.route(f"/companies/<{ID}:company_id>/timeline")
class CompanyTimeline(MethodView):
    @token_required("read")
    @blueprint.arguments(TimelineQueryArgsSchema, location="query")
    @blueprint.response(200, ActivityPageSchema)
    def get(self, args, company_id: int):
        """A company's timeline, newest first (with its contacts' activities on request)"""
        return _timeline_page("company", company_id, args)
