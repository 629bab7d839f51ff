"""API shapes of pipelines, stages and stage rules."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.crm import TaskType


class StageSchema(Schema):
    id = fields.Integer(dump_only=True)
    pipeline_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    position = fields.Integer(dump_only=True)
    probability = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))
    rotting_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=3650))
    kind = fields.String(dump_only=True, metadata={"description": "open, won or lost (won and lost are fixed)"})


class StagePatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    probability = fields.Integer(validate=validate.Range(min=0, max=100))
    rotting_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650))


class PipelineSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    position = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    stages = fields.List(fields.Nested(StageSchema), dump_only=True)


class PipelineCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    stages = fields.List(fields.Nested(StageSchema), load_default=None, validate=validate.Length(min=1, max=28),
                         metadata={"description": "Open stages in order; won and lost are added. Default: the "
                                                  "standard stages in the workspace's language."})


class PipelinePatchSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StageOrderSchema(Schema):
    stage_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=30))


class StageRuleSchema(Schema):
    id = fields.Integer(dump_only=True)
    pipeline_id = fields.Integer(dump_only=True)
    stage_id = fields.Integer(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    task_type = fields.String(load_default="todo", validate=validate.OneOf([t.value for t in TaskType]))
    due_in_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=365))
    created_at = fields.DateTime(dump_only=True)
