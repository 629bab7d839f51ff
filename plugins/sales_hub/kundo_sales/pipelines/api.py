"""API: pipelines, their stages and stage rules. Reading needs a member; changing needs an admin."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint

from kundo.platform.api import token_required
from kundo.tenants.models import Role
from kundo_sales.api_support import ID, me, saved, tenant_db
from kundo_sales.errors import SalesNotFound
from kundo_sales.pipelines import service
from kundo_sales.pipelines.schemas import (
    PipelineCreateSchema,
    PipelinePatchSchema,
    PipelineSchema,
    StageOrderSchema,
    StagePatchSchema,
    StageRuleSchema,
    StageSchema,
)


def _pipeline(session, pipeline_id: int):
    try:
        return service.get_pipeline(session, pipeline_id)
    except SalesNotFound as error:
        abort(404, description=str(error))


def _stage(session, stage_id: int):
    try:
        return service.get_stage(session, stage_id)
    except SalesNotFound as error:
        abort(404, description=str(error))


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("sales_pipelines", __name__, description="Sales Hub: pipelines, stages, stage rules")

    @blueprint.route("/pipelines")
    class Pipelines(MethodView):
        @token_required("read")
        @blueprint.response(200, PipelineSchema(many=True))
        def get(self):
            """All pipelines with their stages in order (the default pipeline is made on first use)"""
            return service.list_pipelines(tenant_db())

        @token_required("write", Role.ADMIN)
        @blueprint.arguments(PipelineCreateSchema)
        @blueprint.response(201, PipelineSchema)
        def post(self, data):
            """Create a pipeline; won and lost stages are added at the end"""
            from kundo_sales.access import workspace_locale

            return saved(lambda s: service.create_pipeline(s, data["name"], stages=data["stages"], created_by=me(),
                                                           locale=workspace_locale()))

    @blueprint.route(f"/pipelines/<{ID}:pipeline_id>")
    class PipelineById(MethodView):
        @token_required("read")
        @blueprint.response(200, PipelineSchema)
        def get(self, pipeline_id: int):
            """One pipeline with its stages"""
            return _pipeline(tenant_db(), pipeline_id)

        @token_required("write", Role.ADMIN)
        @blueprint.arguments(PipelinePatchSchema)
        @blueprint.response(200, PipelineSchema)
        def patch(self, data, pipeline_id: int):
            """Rename a pipeline"""
            session = tenant_db()
            pipeline = _pipeline(session, pipeline_id)
            return saved(lambda s: service.rename_pipeline(s, pipeline, data["name"]))

        @token_required("write", Role.ADMIN)
        @blueprint.response(204)
        def delete(self, pipeline_id: int):
            """Delete a pipeline without deals (a workspace keeps at least one)"""
            session = tenant_db()
            pipeline = _pipeline(session, pipeline_id)
            saved(lambda s: service.delete_pipeline(s, pipeline))

    @blueprint.route(f"/pipelines/<{ID}:pipeline_id>/stages")
    class Stages(MethodView):
        @token_required("write", Role.ADMIN)
        @blueprint.arguments(StageSchema)
        @blueprint.response(201, StageSchema)
        def post(self, data, pipeline_id: int):
            """Add an open stage before won and lost"""
            session = tenant_db()
            pipeline = _pipeline(session, pipeline_id)
            return saved(lambda s: service.add_stage(s, pipeline, **data))

    @blueprint.route(f"/pipelines/<{ID}:pipeline_id>/stage-order")
    class StageOrder(MethodView):
        @token_required("write", Role.ADMIN)
        @blueprint.arguments(StageOrderSchema)
        @blueprint.response(200, PipelineSchema)
        def put(self, data, pipeline_id: int):
            """Order the open stages (list each once); won and lost stay last"""
            session = tenant_db()
            pipeline = _pipeline(session, pipeline_id)
            return saved(lambda s: service.reorder_stages(s, pipeline, data["stage_ids"]))

    @blueprint.route(f"/stages/<{ID}:stage_id>")
    class StageById(MethodView):
        @token_required("write", Role.ADMIN)
        @blueprint.arguments(StagePatchSchema)
        @blueprint.response(200, StageSchema)
        def patch(self, data, stage_id: int):
            """Change a stage's name, win probability or rotting days (won/lost keep their probability)"""
            session = tenant_db()
            stage = _stage(session, stage_id)
            return saved(lambda s: service.update_stage(s, stage, data))

        @token_required("write", Role.ADMIN)
        @blueprint.response(204)
        def delete(self, stage_id: int):
            """Delete an open stage without deals"""
            session = tenant_db()
            stage = _stage(session, stage_id)
            saved(lambda s: service.delete_stage(s, stage))

    @blueprint.route(f"/pipelines/<{ID}:pipeline_id>/rules")
    class Rules(MethodView):
        @token_required("read")
        @blueprint.response(200, StageRuleSchema(many=True))
        def get(self, pipeline_id: int):
            """The stage rules of a pipeline: tasks created when a deal enters a stage"""
            session = tenant_db()
            return service.list_rules(session, _pipeline(session, pipeline_id).id)

        @token_required("write", Role.ADMIN)
        @blueprint.arguments(StageRuleSchema)
        @blueprint.response(201, StageRuleSchema)
        def post(self, data, pipeline_id: int):
            """Add a stage rule"""
            session = tenant_db()
            pipeline = _pipeline(session, pipeline_id)
            return saved(lambda s: service.create_rule(s, pipeline, created_by=me(), **data))

    @blueprint.route(f"/pipelines/<{ID}:pipeline_id>/rules/<{ID}:rule_id>")
    class RuleById(MethodView):
        @token_required("write", Role.ADMIN)
        @blueprint.response(204)
        def delete(self, pipeline_id: int, rule_id: int):
            """Delete a stage rule"""
            saved(lambda s: service.delete_rule(s, pipeline_id, rule_id))

    return blueprint
