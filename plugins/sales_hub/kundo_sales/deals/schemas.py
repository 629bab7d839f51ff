"""API shapes of deals, their stage history, moves and insights."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo_sales.deals.models import ForecastCategory

CATEGORIES = [c.value for c in ForecastCategory]


class DealSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    amount = fields.Decimal(places=2, as_string=True)
    currency = fields.String()
    pipeline_id = fields.Integer()
    stage_id = fields.Integer()
    owner_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    contact_ids = fields.List(fields.Integer())
    expected_close_date = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "open, won or lost (follows the stage)"})
    lost_reason = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    forecast_category = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    stage_entered_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


class DealCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    pipeline_id = fields.Integer(load_default=None, metadata={"description": "Default: the first pipeline"})
    stage_id = fields.Integer(load_default=None, metadata={"description": "Default: the pipeline's first stage"})
    amount = fields.Decimal(load_default=None, places=2, as_string=True)
    currency = fields.String(load_default="EUR", validate=validate.Length(equal=3))
    owner_id = fields.Integer(load_default=None, allow_none=True, metadata={"description": "Default: you"})
    company_id = fields.Integer(load_default=None, allow_none=True)
    contact_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=50))
    expected_close_date = fields.Date(load_default=None, allow_none=True)
    next_step = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    source = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    lost_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    forecast_category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES))


class DealPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(places=2, as_string=True)
    currency = fields.String(validate=validate.Length(equal=3))
    owner_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    contact_ids = fields.List(fields.Integer(), validate=validate.Length(max=50))
    expected_close_date = fields.Date(allow_none=True)
    next_step = fields.String(allow_none=True, validate=validate.Length(max=300))
    source = fields.String(allow_none=True, validate=validate.Length(max=100))
    lost_reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    forecast_category = fields.String(allow_none=True, validate=validate.OneOf(CATEGORIES))


class DealMoveSchema(Schema):
    stage_id = fields.Integer(required=True)
    pipeline_id = fields.Integer(load_default=None, metadata={"description": "To move to another pipeline"})
    lost_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                                metadata={"description": "Required when the stage is a lost stage"})


class DealQueryArgsSchema(Schema):
    pipeline_id = fields.Integer()
    stage_id = fields.Integer()
    owner_id = fields.String(metadata={"description": "A user id, or `me`"})
    status = fields.String(validate=validate.OneOf(("open", "won", "lost")))
    close_from = fields.String()
    close_to = fields.String()
    amount_min = fields.String()
    amount_max = fields.String()
    q = fields.String(validate=validate.Length(max=200))
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DealPageSchema(Schema):
    items = fields.List(fields.Nested(DealSchema))
    next_cursor = fields.String(allow_none=True)


class StageChangeSchema(Schema):
    id = fields.Integer()
    from_stage_id = fields.Integer(allow_none=True)
    to_stage_id = fields.Integer()
    pipeline_id = fields.Integer()
    changed_by = fields.Integer(allow_none=True)
    changed_at = fields.DateTime()


class InsightsSchema(Schema):
    days_since_activity = fields.Integer(allow_none=True)
    open_tasks = fields.Integer()
    overdue_tasks = fields.Integer()
    stage_age_days = fields.Integer()
    stage_average_days = fields.Float(allow_none=True)
    missing_next_step = fields.Boolean()
    rotting = fields.Boolean()
    suggestion = fields.String(allow_none=True)
    suggestion_key = fields.String(allow_none=True)
