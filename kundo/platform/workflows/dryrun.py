"""Testing a workflow on one record: what would happen, with nothing written.

The walk follows the same rules as the engine — trigger conditions, goal, branches on
the record's current properties — but actions only `preview` themselves and delays only
say until when they would wait. Everything runs in a savepoint that is rolled back, so
even a preview that touched the session leaves no trace.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from kundo.platform.workflows.actions import ActionContext, ActionSkipped, actions_for
from kundo.platform.workflows.conditions import matches
from kundo.platform.workflows.objects import merge_context, object_properties
from kundo.platform.workflows.steps import delay_until, path_text

MAX_LINES = 300


def dry_run(session: Session, definition: dict, object_type: str, object_id: int, now: datetime,
            workflow_id: int | None = None) -> dict:
    """{"found", "trigger_matches", "goal_reached", "steps": [{"path", "kind", "result", ...}]}."""
    savepoint = session.begin_nested()
    try:
        return _walk(session, definition, object_type, object_id, now, workflow_id)
    finally:
        savepoint.rollback()


def _walk(session, definition, object_type, object_id, now, workflow_id) -> dict:
    current = object_properties(session, object_type, object_id)
    report: dict = {"object_type": object_type, "object_id": object_id, "found": current is not None,
                    "trigger_matches": False, "goal_reached": False, "steps": []}
    if current is None:
        return report
    # No event happened: assume the one the trigger waits for, as far as the record tells
    # (a lifecycle change to the stage the record is in now).
    event = {"to": current.get("lifecycle_stage")} if (definition.get("trigger") or {}).get("event") == \
        "lifecycle_stage.changed" else {}
    properties = {**current, "event": event}
    report["trigger_matches"] = matches((definition.get("trigger") or {}).get("conditions"), properties, now)
    goal = definition.get("goal")
    if goal and goal.get("rules") and matches(goal, properties, now):
        report["goal_reached"] = True
        return report
    actions = actions_for(session.scope.tenant_id)
    ctx = ActionContext(tenant_id=session.scope.tenant_id, workflow_id=workflow_id, enrollment_id=None,
                        object_type=object_type, object_id=object_id, now=now,
                        merge=merge_context(session, object_type, object_id))
    _steps(session, definition.get("steps") or [], [], properties, actions, ctx, report["steps"])
    return report


def _steps(session, steps, prefix, properties, actions, ctx, lines) -> ActionContext:
    """Report each step; returns the context with the time after the waits so far."""
    for index, step in enumerate(steps):
        if len(lines) >= MAX_LINES:
            return ctx
        path = [*prefix, index]
        line = {"path": path_text(path), "kind": step.get("kind")}
        lines.append(line)
        if step["kind"] == "branch":
            arm = "then" if matches(step["conditions"], properties, ctx.now) else "else"
            line.update(result="branch", arm=arm)
            ctx = _steps(session, step.get(arm) or [], [*path, arm], properties, actions, ctx, lines)
        elif step["kind"] == "delay":
            due, reason = delay_until(session, step, properties, ctx.now)
            if due is None or due <= ctx.now:
                line.update(result="no_wait", reason=reason or "already due")
            else:
                line.update(result="would_wait", until=due.isoformat())
                ctx = replace(ctx, now=due)
        else:
            spec = actions.get(step["action"])
            line["action"] = step["action"]
            if spec is None:
                line.update(result="unavailable")
                continue
            try:
                detail = spec.preview(session, ctx, step.get("params") or {})
            except ActionSkipped as skipped:
                line.update(result="would_skip", reason=str(skipped))
                continue
            except Exception as error:  # noqa: BLE001 - reported to the person testing, not raised
                line.update(result="would_fail", error=str(error) or error.__class__.__name__)
                continue
            detail = {k: v if isinstance(v, str | int | float | bool | list | dict | None) else str(v)
                      for k, v in (detail or {}).items()}
            line.update(result="would_skip" if detail.get("skipped") else "would_run", detail=detail)
    return ctx
