"""Marshmallow schemas of the tasks API."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, post_load, validate

from kundo.crm.tasks.service import TASK_TYPES
from kundo.crm.timeline.schemas import ActivityLinkSchema
from kundo.platform.api_pagination import PageArgsSchema

_BIGINT_MAX = 2**63 - 1


def _moment(**kwargs) -> fields.AwareDateTime:
    return fields.AwareDateTime(default_timezone=UTC, allow_none=True, **kwargs)


class TaskSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    type = fields.String(dump_only=True)
    notes = fields.String(dump_only=True, allow_none=True)
    due_at = fields.DateTime(dump_only=True, allow_none=True)
    reminder_at = fields.DateTime(dump_only=True, allow_none=True)
    owner_id = fields.Integer(dump_only=True, allow_none=True)
    created_by = fields.Integer(dump_only=True, allow_none=True)
    done_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    links = fields.List(fields.Nested(ActivityLinkSchema), dump_only=True)


class TaskPatchSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=300))
    type = fields.String(validate=validate.OneOf(TASK_TYPES))
    due_at = _moment()
    reminder_at = _moment(metadata={"description": "When to remind the owner; not after due_at."})
    owner_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=_BIGINT_MAX),
                              metadata={"description": "A workspace member's user id."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=100_000))
    links = fields.List(fields.Nested(ActivityLinkSchema), validate=validate.Length(max=100),
                        metadata={"description": "The contacts, companies, deals … the task is about."})


class TaskCreateSchema(TaskPatchSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    type = fields.String(load_default="todo", validate=validate.OneOf(TASK_TYPES))


class TaskQueryArgsSchema(PageArgsSchema):
    mine = fields.Boolean(load_default=False, metadata={"description": "Only tasks the token's user owns."})
    owner_id = fields.Integer(validate=validate.Range(min=1, max=_BIGINT_MAX))
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "done", "all")))
    overdue = fields.Boolean(load_default=False, metadata={"description": "Open tasks due before now."})
    today = fields.Boolean(load_default=False, metadata={
        "description": "Open tasks due during the rest of today, in the workspace's time zone."})
    object = fields.String(validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{0,39}:[1-9][0-9]{0,18}$", error="Name the object as type:id, e.g. contact:42."),
        metadata={"description": "Only tasks about this object, as type:id, e.g. contact:42 or deal:7."})

    @post_load
    def _split_object(self, data, **kwargs):
        if "object" in data:
            object_type, object_id = data.pop("object").split(":")
            data["object_type"], data["object_id"] = object_type, int(object_id)
        return data


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})


class MyTasksSchema(Schema):
    overdue = fields.List(fields.Nested(TaskSchema))
    today = fields.List(fields.Nested(TaskSchema))
    upcoming = fields.List(fields.Nested(TaskSchema))
