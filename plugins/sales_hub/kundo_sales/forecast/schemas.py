"""API shapes of the forecast, targets and metrics."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo_sales.forecast.service import GROUPS


class ForecastArgsSchema(Schema):
    group_by = fields.String(load_default="month", validate=validate.OneOf(GROUPS))
    start = fields.String(load_default=None, metadata={"description": "First month, YYYY-MM (default: this month)"})
    months = fields.Integer(load_default=6, validate=validate.Range(min=1, max=24))
    pipeline_id = fields.Integer(load_default=None)
    owner_id = fields.Integer(load_default=None)


class ForecastRowSchema(Schema):
    key = fields.Raw(allow_none=True, metadata={"description": "Month (YYYY-MM-DD), owner id or pipeline id"})
    label = fields.String()
    open_count = fields.Integer()
    unweighted = fields.String()
    weighted = fields.String()
    won = fields.String()
    categories = fields.Dict(keys=fields.String(), values=fields.String())
    target = fields.String(allow_none=True)
    attainment = fields.Float(allow_none=True)


class ForecastSchema(Schema):
    group_by = fields.String()
    rows = fields.List(fields.Nested(ForecastRowSchema))
    total = fields.Nested(ForecastRowSchema)


class MetricsArgsSchema(Schema):
    pipeline_id = fields.Integer(load_default=None, metadata={"description": "Default: the first pipeline"})
    owner_id = fields.Integer(load_default=None)
    date_from = fields.Date(data_key="from", load_default=None, metadata={"description": "Default: 90 days ago"})
    date_to = fields.Date(data_key="to", load_default=None, metadata={"description": "Default: today"})


class StageMetricSchema(Schema):
    stage_id = fields.Integer()
    name = fields.String()
    reached = fields.Integer()
    advanced = fields.Integer()
    conversion = fields.Float(allow_none=True)
    avg_days = fields.Float(allow_none=True)


class MetricsSchema(Schema):
    pipeline_id = fields.Integer()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    won = fields.Integer()
    lost = fields.Integer()
    open = fields.Integer()
    win_rate = fields.Float(allow_none=True)
    avg_deal_size = fields.String(allow_none=True)
    cycle_days = fields.Float(allow_none=True)
    velocity = fields.String(allow_none=True)
    stages = fields.List(fields.Nested(StageMetricSchema))


class TargetSchema(Schema):
    owner_id = fields.Integer(required=True)
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    amount = fields.Decimal(required=True, places=2, as_string=True,
                            metadata={"description": "0 removes the target"})
    currency = fields.String(load_default="EUR", validate=validate.Length(equal=3))
