"""API: forecast, sales metrics and targets."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.platform.clock import now
from kundo.platform.errors import Problem
from kundo.tenants.models import Role
from kundo_sales.access import visible_deals, workspace_timezone
from kundo_sales.api_support import check_owner, me, saved, tenant_db
from kundo_sales.errors import SalesValidationError
from kundo_sales.forecast import service
from kundo_sales.forecast.pages import parse_month
from kundo_sales.forecast.schemas import (
    ForecastArgsSchema,
    ForecastSchema,
    MetricsArgsSchema,
    MetricsSchema,
    TargetSchema,
)
from kundo_sales.pipelines.service import list_pipelines


def _today(session) -> date:
    return now().astimezone(ZoneInfo(workspace_timezone(session))).date()


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales_forecast", __name__, description="Sales Hub: forecast, metrics, targets")

    @blueprint.route("/forecast")
    class Forecast(MethodView):
        @token_required("read")
        @blueprint.arguments(ForecastArgsSchema, location="query")
        @blueprint.response(200, ForecastSchema)
        def get(self, args):
            """Forecast by close month, owner or pipeline: weighted, unweighted, won, categories, targets"""
            session = tenant_db()
            try:
                start = parse_month(args["start"], _today(session).replace(day=1))
                rows = service.forecast(session, group_by=args["group_by"], start=start, months=args["months"],
                                        pipeline_id=args["pipeline_id"], owner_id=args["owner_id"],
                                        timezone=workspace_timezone(session),
                                        deal_scope=lambda q: visible_deals(session, q))
            except SalesValidationError as error:
                raise Problem(400, str(error), errors=error.errors) from error
            return {"group_by": args["group_by"], "rows": [row.as_dict() for row in rows],
                    "total": {**service.totals(rows).as_dict(), "key": None}}

    @blueprint.route("/metrics")
    class Metrics(MethodView):
        @token_required("read")
        @blueprint.arguments(MetricsArgsSchema, location="query")
        @blueprint.response(200, MetricsSchema)
        def get(self, args):
            """Sales metrics of a pipeline for a period: win rate, deal size, cycle, conversion, velocity"""
            session = tenant_db()
            pipelines = list_pipelines(session)
            pipeline = next((p for p in pipelines if p.id == args["pipeline_id"]), None)
            if args["pipeline_id"] and pipeline is None:
                raise Problem(404, f"There is no pipeline with id {args['pipeline_id']} in this workspace.")
            pipeline = pipeline or pipelines[0]
            today = _today(session)
            day_from = args["date_from"] or today - timedelta(days=89)
            day_to = args["date_to"] or today
            if day_to < day_from:
                raise Problem(400, "`to` comes before `from`.", errors={"to": ["The end comes before the start."]})
            zone = ZoneInfo(workspace_timezone(session))
            figures = service.metrics(session, pipeline_id=pipeline.id, owner_id=args["owner_id"],
                                      start_at=datetime.combine(day_from, time.min, zone),
                                      end_at=datetime.combine(day_to + timedelta(days=1), time.min, zone),
                                      deal_scope=lambda q: visible_deals(session, q))
            return {**figures.as_dict(), "pipeline_id": pipeline.id, "date_from": day_from, "date_to": day_to}

    @blueprint.route("/targets")
    class Targets(MethodView):
        @token_required("write", Role.ADMIN)
        @blueprint.arguments(TargetSchema)
        @blueprint.response(200, TargetSchema)
        def put(self, data):
            """Set what an owner should win in a month (0 removes the target)"""
            check_owner(data["owner_id"])
            try:
                month = parse_month(data["month"], date.today())
            except SalesValidationError as error:
                raise Problem(422, str(error), errors={"month": error.errors["start"]}) from error
            saved(lambda s: service.set_target(s, owner_id=data["owner_id"], month=month, amount=data["amount"],
                                               currency=data["currency"], created_by=me()))
            return {**data, "month": month.strftime("%Y-%m")}

    return blueprint
