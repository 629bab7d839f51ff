"""Checking a workflow definition before it is stored, with errors that name the field.

The definition is JSON (pages and the API send the same shape), validated with
marshmallow piece by piece: the trigger against the tenant's triggers, each action's
params with that action's schema, conditions with `conditions.check_group`. Errors come
back flat — ``{"steps.2.params.subject": ["..."]}`` — so a client or the builder can
point at the exact input.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from kundo.platform.workflows.actions import actions_for
from kundo.platform.workflows.conditions import check_group
from kundo.platform.workflows.triggers import triggers_for

MAX_STEPS = 100
MAX_BRANCH_DEPTH = 3
UNITS = {"minutes": 60, "hours": 3600, "days": 86_400, "weeks": 604_800}
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class DefinitionError(ValueError):
    """`errors` maps dotted field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in errors.items()))
        self.errors = errors


class DurationDelay(Schema):
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))
    unit = fields.String(required=True, validate=validate.OneOf(tuple(UNITS)))


class PropertyDelay(Schema):
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    property = fields.String(required=True, validate=validate.Length(min=1, max=120))
    time = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(TIME, error="Use HH:MM."))


class WeekdayDelay(Schema):
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=0, max=6)), required=True,
                           validate=validate.Length(min=1, max=7))
    time = fields.String(required=True, validate=validate.Regexp(TIME, error="Use HH:MM."))


DELAYS = {"duration": DurationDelay, "until_property": PropertyDelay, "next_weekday": WeekdayDelay}


def _flatten(messages: Any, prefix: str) -> dict[str, list[str]]:
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]}


class _Checker:
    def __init__(self, tenant_id: int | None):
        self.actions = actions_for(tenant_id)
        self.triggers = triggers_for(tenant_id)
        self.errors: dict[str, list[str]] = {}
        self.count = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def steps(self, steps: Any, path: str, depth: int) -> list[dict]:
        if not isinstance(steps, list):
            self.fail(path, "Give a list of steps.")
            return []
        return [self.step(step, f"{path}.{index}", depth) for index, step in enumerate(steps)]

    def step(self, step: Any, path: str, depth: int) -> dict:
        self.count += 1
        if not isinstance(step, dict):
            self.fail(path, "A step is an object with a kind: action, delay or branch.")
            return {}
        kind = step.get("kind")
        if kind == "action":
            return self.action(step, path)
        if kind == "delay":
            schema = DELAYS.get(step.get("mode"))
            if schema is None:
                self.fail(f"{path}.mode", f"Use one of: {', '.join(DELAYS)}.")
                return {}
            try:
                return schema().load(step)
            except ValidationError as error:
                self.errors.update(_flatten(error.messages, path))
                return {}
        if kind == "branch":
            if depth + 1 > MAX_BRANCH_DEPTH:
                self.fail(path, f"Nest branches at most {MAX_BRANCH_DEPTH} deep.")
                return {}
            self.errors.update(check_group(step.get("conditions"), f"{path}.conditions"))
            if not step.get("conditions") or not step["conditions"].get("rules"):
                self.fail(f"{path}.conditions", "A branch needs at least one condition.")
            return {"kind": "branch", "conditions": step.get("conditions"),
                    "then": self.steps(step.get("then", []), f"{path}.then", depth + 1),
                    "else": self.steps(step.get("else", []), f"{path}.else", depth + 1)}
        self.fail(f"{path}.kind", "Use action, delay or branch.")
        return {}

    def action(self, step: dict, path: str) -> dict:
        spec = self.actions.get(step.get("action"))
        if spec is None:
            self.fail(f"{path}.action", f"Use one of: {', '.join(self.actions)}.")
            return {}
        params = step.get("params") or {}
        if not isinstance(params, dict):
            self.fail(f"{path}.params", "Give the action's settings as an object.")
            return {}
        try:
            clean = spec.params_schema().load(params)
        except ValidationError as error:
            self.errors.update(_flatten(error.messages, f"{path}.params"))
            return {}
        return {"kind": "action", "action": spec.key, "params": clean}


def check_definition(data: Any, tenant_id: int | None) -> dict:
    """The cleaned definition; raises DefinitionError naming every field to fix."""
    checker = _Checker(tenant_id)
    if not isinstance(data, dict):
        raise DefinitionError({"definition": ["Give the definition as an object with trigger and steps."]})
    trigger = data.get("trigger")
    event = trigger.get("event") if isinstance(trigger, dict) else None
    if event not in checker.triggers:
        checker.fail("trigger.event", f"Use one of: {', '.join(checker.triggers)}.")
    conditions = trigger.get("conditions") if isinstance(trigger, dict) else None
    checker.errors.update(check_group(conditions, "trigger.conditions"))
    enrollment = data.get("enrollment") or {"mode": "once"}
    if not isinstance(enrollment, dict) or enrollment.get("mode") not in ("once", "reenroll"):
        checker.fail("enrollment.mode", "Use once or reenroll.")
    goal = data.get("goal")
    checker.errors.update(check_group(goal, "goal"))
    steps = checker.steps(data.get("steps", []), "steps", 0)
    if not data.get("steps"):
        checker.fail("steps", "Add at least one step.")
    if checker.count > MAX_STEPS:
        checker.fail("steps", f"Use at most {MAX_STEPS} steps.")
    if checker.errors:
        raise DefinitionError(checker.errors)
    return {
        "trigger": {"event": event, "conditions": conditions or None},
        "enrollment": {"mode": enrollment["mode"]},
        "goal": goal or None,
        "steps": steps,
    }


def object_type_of(event_type: str, tenant_id: int | None) -> str | None:
    spec = triggers_for(tenant_id).get(event_type)
    return spec.object_type if spec else None
