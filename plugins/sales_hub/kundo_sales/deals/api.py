"""API: deals — list with filters, create, read, change, move through stages, delete, history, insights.

Members see all deals or only their own, as the workspace's setting says; a deal they
may not see answers 404 like one that does not exist.
"""

from __future__ import annotations

from flask import abort, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from kundo.platform.api import token_required
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor
from kundo.platform.errors import Problem
from kundo_sales.access import may_see, visible_deals
from kundo_sales.api_support import ID, check_owner, me, saved, tenant_db
from kundo_sales.deals import service
from kundo_sales.deals.models import Deal, StageChange
from kundo_sales.deals.query import apply_filters, parse_filters
from kundo_sales.deals.schemas import (
    DealCreateSchema,
    DealMoveSchema,
    DealPageSchema,
    DealPatchSchema,
    DealQueryArgsSchema,
    DealSchema,
    InsightsSchema,
    StageChangeSchema,
)
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.pipelines.service import list_pipelines


def _deal(session, deal_id: int, *, lock: bool = False) -> Deal:
    try:
        deal = service.get_deal(session, deal_id, lock=lock)
    except SalesNotFound as error:
        abort(404, description=str(error))
    if not may_see(session, deal):
        abort(404, description=f"There is no deal with id {deal_id} in this workspace.")
    return deal


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales_deals", __name__, description="Sales Hub: deals")

    @blueprint.route("/deals")
    class Deals(MethodView):
        @token_required("read")
        @blueprint.arguments(DealQueryArgsSchema, location="query")
        @blueprint.response(200, DealPageSchema)
        def get(self, args):
            """Deals, newest first, filtered by pipeline, stage, owner (`me`), status, close date, amount, name"""
            session = tenant_db()
            try:
                filters = parse_filters(request.args, me=me())
            except SalesValidationError as error:
                raise Problem(400, str(error), errors=error.errors) from error
            query = visible_deals(session, apply_filters(select(Deal), filters))
            if args["cursor"]:
                try:
                    (after,) = decode_cursor(args["cursor"], [Deal.id])
                except CursorError as error:
                    raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
                query = query.where(Deal.id < after)
            rows = session.scalars(query.order_by(Deal.id.desc()).limit(args["limit"] + 1)).all()
            more = len(rows) > args["limit"]
            rows = rows[: args["limit"]]
            return {"items": rows, "next_cursor": encode_cursor([rows[-1].id]) if more else None}

        @token_required("write")
        @blueprint.arguments(DealCreateSchema)
        @blueprint.response(201, DealSchema)
        def post(self, data):
            """Create a deal (owned by you unless owner_id names another member); emits deal.created"""
            if data["owner_id"] is None:
                data["owner_id"] = me()
            check_owner(data["owner_id"])
            session = tenant_db()
            if data["pipeline_id"] is None:
                data["pipeline_id"] = list_pipelines(session)[0].id
            return saved(lambda s: service.create_deal(s, actor_id=me(), **data))

    @blueprint.route(f"/deals/<{ID}:deal_id>")
    class DealById(MethodView):
        @token_required("read")
        @blueprint.response(200, DealSchema)
        def get(self, deal_id: int):
            """One deal"""
            return _deal(tenant_db(), deal_id)

        @token_required("write")
        @blueprint.arguments(DealPatchSchema)
        @blueprint.response(200, DealSchema)
        def patch(self, data, deal_id: int):
            """Change a deal's fields (move it with POST …/move)"""
            if "owner_id" in data:
                check_owner(data["owner_id"])
            deal = _deal(tenant_db(), deal_id, lock=True)
            return saved(lambda s: service.update_deal(s, deal, data, actor_id=me()))

        @token_required("write")
        @blueprint.response(204)
        def delete(self, deal_id: int):
            """Delete a deal; emits deal.deleted"""
            deal = _deal(tenant_db(), deal_id)
            saved(lambda s: service.delete_deal(s, deal, actor_id=me()))

    @blueprint.route(f"/deals/<{ID}:deal_id>/move")
    class DealMove(MethodView):
        @token_required("write")
        @blueprint.arguments(DealMoveSchema)
        @blueprint.response(200, DealSchema)
        def post(self, data, deal_id: int):
            """Move a deal to a stage (a lost stage needs lost_reason); records history, runs stage rules"""
            deal = _deal(tenant_db(), deal_id, lock=True)
            return saved(lambda s: service.move_deal(s, deal, data["stage_id"], pipeline_id=data["pipeline_id"],
                                                     user_id=me(), lost_reason=data["lost_reason"]))

    @blueprint.route(f"/deals/<{ID}:deal_id>/history")
    class DealHistory(MethodView):
        @token_required("read")
        @blueprint.response(200, StageChangeSchema(many=True))
        def get(self, deal_id: int):
            """Every stage the deal entered, oldest first, with time and user"""
            session = tenant_db()
            deal = _deal(session, deal_id)
            return session.scalars(select(StageChange).where(StageChange.deal_id == deal.id)
                                   .order_by(StageChange.changed_at, StageChange.id)).all()

    @blueprint.route(f"/deals/<{ID}:deal_id>/insights")
    class DealInsights(MethodView):
        @token_required("read")
        @blueprint.response(200, InsightsSchema)
        def get(self, deal_id: int):
            """What helps the deal close: activity, open tasks, stage age vs the average, next step, a suggestion"""
            from kundo_sales.forecast.insights import deal_insights

            session = tenant_db()
            return deal_insights(session, _deal(session, deal_id))

    return blueprint
