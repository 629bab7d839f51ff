"""Marshmallow schemas of the workflows API.

The definition travels as one JSON object; its inside is checked by
`kundo.platform.workflows.definition` (which knows the tenant's triggers and actions)
and refused with problem+json errors that name the field, e.g. `definition.steps.2.params.subject`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kundo.platform.api_pagination import PageArgsSchema
from kundo.platform.api_schemas import TrimmedString
from kundo.platform.workflows.models import ENROLLMENT_STATUSES

_BIGINT_MAX = 2**63 - 1

DEFINITION_HELP = (
    "{trigger: {event, conditions}, enrollment: {mode: once|reenroll}, goal: conditions|null, steps: [...]}; "
    "a step is {kind: action, action, params} | {kind: delay, mode: duration|until_property|next_weekday, ...} | "
    "{kind: branch, conditions, then: [...], else: [...]}; conditions are {match: all|any, rules: "
    "[{property, operator, value} | conditions]}. GET /api/v1/workflows/catalogue lists triggers, actions "
    "and operators."
)


class WorkflowStatsSchema(Schema):
    enrolled = fields.Integer()
    live = fields.Integer(metadata={"description": "Enrollments running, waiting for a delay or held by a pause."})
    failed = fields.Integer()
    last_run_at = fields.DateTime(allow_none=True)


class WorkflowSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "draft, active or paused."})
    trigger_event = fields.String(dump_only=True)
    definition = fields.Dict(dump_only=True, metadata={"description": DEFINITION_HELP})
    created_by = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    stats = fields.Nested(WorkflowStatsSchema, dump_only=True)


class WorkflowListSchema(Schema):
    items = fields.List(fields.Nested(WorkflowSchema))


class WorkflowPatchSchema(Schema):
    name = TrimmedString(validate=[validate.Length(min=1, max=200)], required_text=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    definition = fields.Dict(metadata={"description": DEFINITION_HELP})


class WorkflowCreateSchema(WorkflowPatchSchema):
    name = TrimmedString(required=True, validate=[validate.Length(min=1, max=200)], required_text=True)
    definition = fields.Dict(required=True, metadata={"description": DEFINITION_HELP})
    status = fields.String(load_default="draft", validate=validate.OneOf(("draft", "active")))


class EnrollmentSchema(Schema):
    id = fields.Integer()
    workflow_id = fields.Integer()
    object_type = fields.String()
    object_id = fields.Integer()
    status = fields.String(metadata={"description": ", ".join(ENROLLMENT_STATUSES)})
    cursor = fields.Raw(allow_none=True, metadata={"description": "Path of the next step, e.g. [3, 'then', 0]."})
    resume_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    enrolled_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class EnrollmentPageSchema(Schema):
    items = fields.List(fields.Nested(EnrollmentSchema))
    next_cursor = fields.String(allow_none=True)


class EnrollmentQueryArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(ENROLLMENT_STATUSES))


class RunSchema(Schema):
    id = fields.Integer()
    step_path = fields.String(metadata={"description": "\"2\", \"3.then.0\" …; empty for the enrollment itself."})
    step_kind = fields.String()
    action = fields.String(allow_none=True)
    result = fields.String()
    detail = fields.Dict()
    error = fields.String(allow_none=True)
    at = fields.DateTime()


class EnrollmentHistorySchema(EnrollmentSchema):
    history = fields.List(fields.Nested(RunSchema))


class DryRunArgsSchema(Schema):
    object_type = fields.String(required=True, validate=validate.OneOf(("contact", "company", "task", "activity")))
    object_id = fields.Integer(required=True, validate=validate.Range(min=1, max=_BIGINT_MAX))
    definition = fields.Dict(metadata={"description": "Test this definition instead of the stored one."})


class DryRunStepSchema(Schema):
    path = fields.String()
    kind = fields.String()
    action = fields.String()
    result = fields.String(metadata={"description": "would_run, would_skip, would_fail, would_wait, no_wait, "
                                                    "branch or unavailable."})
    arm = fields.String()
    until = fields.String()
    reason = fields.String()
    error = fields.String()
    detail = fields.Dict()


class DryRunSchema(Schema):
    object_type = fields.String()
    object_id = fields.Integer()
    found = fields.Boolean()
    trigger_matches = fields.Boolean()
    goal_reached = fields.Boolean()
    steps = fields.List(fields.Nested(DryRunStepSchema))


class CatalogueSchema(Schema):
    triggers = fields.List(fields.Dict())
    actions = fields.List(fields.Dict())
    operators = fields.List(fields.Dict())
