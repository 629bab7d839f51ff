"""API: contact and company lists, their CSV export, bulk actions, saved views and search.

The list filter travels as JSON in one `filter` query parameter (see
FILTER_DESCRIPTION in the schemas) — the same JSON a saved view stores and a bulk
request sends in its body, so a client builds it once.
"""

from __future__ import annotations

from datetime import date

from flask import Response, g, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.crm.lists import saved_views
from kundo.crm.lists.bulk import BulkError, ConfirmationRequired, run_bulk_action
from kundo.crm.lists.export import export_columns, stream_csv
from kundo.crm.lists.schemas import (
    BulkActionSchema,
    BulkResultSchema,
    CompanyPageSchema,
    ContactPageSchema,
    ExportQueryArgsSchema,
    ListQueryArgsSchema,
    SavedViewCreateSchema,
    SavedViewPatchSchema,
    SavedViewQueryArgsSchema,
    SavedViewSchema,
    SearchQueryArgsSchema,
    SearchResultSchema,
)
from kundo.crm.lists.search import search
from kundo.crm.lists.service import ListQuery, ListQueryError, compile_query, filter_context, page_of
from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError
from kundo.platform.errors import Problem
from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.service import get_member, members_of
from kundo.tenants.session import TenantScope, open_tenant_session

blueprint = Blueprint("api_crm_lists", __name__, url_prefix="/api/v1",
                      description="CRM: lists, CSV export, bulk actions, saved views and search")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


def _unprocessable(message: str, field: str) -> Problem:
    return Problem(422, message, errors={field: [message]})


def _list_query(object_type: str, args: dict) -> ListQuery:
    """The request's list query, with a saved view's definition underneath when `view` is given."""
    if not args.get("view"):
        return ListQuery(object_type, args.get("filter"), args.get("sort"))
    try:
        query, _view = saved_views.view_query(current_tenant_db(), args["view"], g.user.id, object_type,
                                              filters=args.get("filter"), sort=args.get("sort"))
    except saved_views.SavedViewNotFound as error:
        raise _unprocessable(str(error), "view") from None
    return query


def _compiled(query: ListQuery):
    session = current_tenant_db()
    context = filter_context(session, g.user.id)
    try:
        return compile_query(session, query, context), context
    except ListQueryError as error:
        raise _unprocessable(str(error), error.field) from None


def _page(object_type: str, args: dict) -> dict:
    compiled, _context = _compiled(_list_query(object_type, args))
    try:
        page = page_of(current_tenant_db(), compiled, limit=args["limit"], cursor=args["cursor"])
    except CursorError as error:
        raise Problem(400, str(error), errors={"cursor": [str(error)]}) from None
    return {"items": page.items, "next_cursor": page.next_cursor}


@blueprint.route("/contacts")
class ContactList(MethodView):
    @token_required("read")
    @blueprint.arguments(ListQueryArgsSchema, location="query")
    @blueprint.response(200, ContactPageSchema)
    def get(self, args):
        """List contacts: filter, sort and page through them (keyset cursors)"""
        return _page("contact", args)


@blueprint.route("/companies")
class CompanyList(MethodView):
    @token_required("read")
    @blueprint.arguments(ListQueryArgsSchema, location="query")
    @blueprint.response(200, CompanyPageSchema)
    def get(self, args):
        """List companies: filter, sort and page through them (keyset cursors)"""
        return _page("company", args)


def _export(object_type: str, args: dict) -> Response:
    query = _list_query(object_type, args)
    compiled, context = _compiled(query)
    try:
        columns = export_columns(compiled.catalog, args.get("columns") or query.columns)
    except ValueError as error:
        raise _unprocessable(str(error), "columns") from None
    owners = {member.user_id: member.user.name for member in members_of(g.tenant)}
    chunks = _exported(TenantScope.of(g.tenant), compiled, columns, context=context, delimiter=args["delimiter"],
                       owner_names=owners)
    filename = f"{'contacts' if object_type == 'contact' else 'companies'}-{date.today().isoformat()}.csv"
    return Response(stream_with_context(chunks), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _exported(scope: TenantScope, compiled, columns, **options):
    """The CSV chunks, read in a session of their own.

    The request's session is closed at teardown, which runs before a streamed body
    is sent; and one repeatable-read transaction gives every page the same snapshot,
    so a contact edited during a long export is neither skipped nor written twice.
    """
    session = open_tenant_session(scope)
    try:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield from stream_csv(session, compiled, columns, **options)
    finally:
        session.close()


_CSV = {"description": "The list as CSV (UTF-8 with byte order mark).",
        "content": {"text/csv": {"schema": {"type": "string"}}}}


@blueprint.route("/contacts/export.csv")
class ContactExport(MethodView):
    @token_required("read")
    @blueprint.arguments(ExportQueryArgsSchema, location="query")
    @blueprint.doc(responses={"200": _CSV})
    def get(self, args):
        """Download contacts as CSV, with the list's filter, sort and columns"""
        return _export("contact", args)


@blueprint.route("/companies/export.csv")
class CompanyExport(MethodView):
    @token_required("read")
    @blueprint.arguments(ExportQueryArgsSchema, location="query")
    @blueprint.doc(responses={"200": _CSV})
    def get(self, args):
        """Download companies as CSV, with the list's filter, sort and columns"""
        return _export("company", args)


@blueprint.route("/contacts/bulk")
class ContactBulk(MethodView):
    @token_required("write")
    @blueprint.arguments(BulkActionSchema)
    @blueprint.response(200, BulkResultSchema)
    @blueprint.alt_response(409, description="Deleting needs `confirm`: the answer's `count` is the number to send.")
    def post(self, data):
        """Assign an owner, add or remove a tag, or delete many contacts at once (by ids or by filter)"""
        if data["action"] == "assign_owner" and data.get("value") is not None:
            _check_member(data["value"])
        session = current_tenant_db()
        try:
            result = run_bulk_action(
                session, data["action"], ids=data.get("ids"), filters=data.get("filter"), value=data.get("value"),
                confirm=data.get("confirm"), actor_id=g.user.id, context=filter_context(session, g.user.id),
            )
        except ConfirmationRequired as error:
            session.rollback()
            raise Problem(409, str(error), errors={"confirm": [str(error)]}, count=error.count) from None
        except (BulkError, ListQueryError) as error:
            session.rollback()
            raise _unprocessable(str(error), error.field) from None
        session.commit()
        return result


def _check_member(user_id) -> None:
    message = "The owner must be a member of this workspace. Use a user id from GET /api/v1/members."
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise _unprocessable(message, "value")
    try:
        get_member(g.tenant, user_id)
    except LookupError:
        raise _unprocessable(message, "value") from None


def _is_admin() -> bool:
    return Role(g.membership.role).at_least(Role.ADMIN)


def _view_or_404(view_id: int):
    try:
        return saved_views.get_view(current_tenant_db(), view_id, g.user.id)
    except saved_views.SavedViewNotFound as error:
        raise Problem(404, str(error)) from None


@blueprint.route("/views")
class SavedViews(MethodView):
    @token_required("read")
    @blueprint.arguments(SavedViewQueryArgsSchema, location="query")
    @blueprint.response(200, SavedViewSchema(many=True))
    def get(self, args):
        """List your own saved views and the shared ones"""
        return saved_views.list_views(current_tenant_db(), g.user.id, args.get("object_type"))

    @token_required("write")
    @blueprint.arguments(SavedViewCreateSchema)
    @blueprint.response(201, SavedViewSchema)
    def post(self, data):
        """Save a view: a named filter, sort and columns (personal unless shared)"""
        session = current_tenant_db()
        try:
            view = saved_views.create_view(session, owner_id=g.user.id, **data)
        except saved_views.SavedViewError as error:
            raise _unprocessable(str(error), error.field) from None
        session.commit()
        return view


@blueprint.route(f"/views/<{ID}:view_id>")
class SavedViewById(MethodView):
    @token_required("read")
    @blueprint.response(200, SavedViewSchema)
    def get(self, view_id: int):
        """One saved view"""
        return _view_or_404(view_id)

    @token_required("write")
    @blueprint.arguments(SavedViewPatchSchema)
    @blueprint.response(200, SavedViewSchema)
    def patch(self, data, view_id: int):
        """Change a view (its owner; admins may also change shared views)"""
        session = current_tenant_db()
        _view_or_404(view_id)
        try:
            view = saved_views.update_view(session, view_id, user_id=g.user.id, is_admin=_is_admin(), **data)
        except saved_views.SavedViewForbidden as error:
            raise Problem(403, str(error)) from None
        except saved_views.SavedViewError as error:
            raise _unprocessable(str(error), error.field) from None
        session.commit()
        return view

    @token_required("write")
    @blueprint.response(204)
    def delete(self, view_id: int):
        """Delete a view (its owner; admins may also delete shared views)"""
        session = current_tenant_db()
        _view_or_404(view_id)
        try:
            saved_views.delete_view(session, view_id, user_id=g.user.id, is_admin=_is_admin())
        except saved_views.SavedViewForbidden as error:
            raise Problem(403, str(error)) from None
        session.commit()


@blueprint.route("/search")
class Search(MethodView):
    @token_required("read")
    @blueprint.arguments(SearchQueryArgsSchema, location="query")
    @blueprint.response(200, SearchResultSchema)
    def get(self, args):
        """Find contacts and companies by name, e-mail, domain or phone, tolerating typos"""
        results = search(current_tenant_db(), args["q"], limit=args["limit"])
        return {"contacts": results.contacts, "companies": results.companies}
