"""The builder's form ↔ a definition.

Inputs are named after their place in the definition — ``trigger.event``,
``steps.2.params.subject``, ``steps.3.then.0.kind`` — so the dotted error paths of
`check_definition` land on the very input that caused them, and the builder needs no
JavaScript: "add step" and "remove" are submit buttons (``op=add:steps.3.then``) that
re-render the form with the change and save nothing.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields
from werkzeug.datastructures import MultiDict

from kundo.platform.workflows.conditions import OPERATORS

_INDEX = re.compile(r"^\d+$")
_STRUCTURE = ("trigger.", "enrollment.", "goal.", "steps.")
BLANK_STEP = {"kind": "action", "action": "send_email", "params": {}}
BLANK_RULE = {"property": "", "operator": "equals", "value": ""}


def _put(tree: dict, parts: list[str], value: Any) -> None:
    node: Any = tree
    for part, following in zip(parts, parts[1:], strict=False):
        key: Any = int(part) if _INDEX.match(part) else part
        empty: Any = [] if _INDEX.match(following) else {}
        if isinstance(node, list):
            while len(node) <= key:
                node.append(None)
            if node[key] is None:
                node[key] = empty
            node = node[key]
        else:
            node = node.setdefault(key, empty)
    last: Any = int(parts[-1]) if _INDEX.match(parts[-1]) else parts[-1]
    if isinstance(node, list):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _compact(value: Any) -> Any:
    if isinstance(value, list):
        return [_compact(item) for item in value if item is not None]
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items()}
    return value


def parse_form(form: MultiDict, actions: dict) -> dict:
    """The definition the form describes, with values typed as the checks expect."""
    tree: dict = {}
    for key in form:
        if not key.startswith(_STRUCTURE):
            continue
        values = form.getlist(key)
        _put(tree, key.split("."), values if key.endswith(".weekdays") else values[-1])
    tree = _compact(tree)
    for group in (tree.get("trigger", {}).get("conditions"), tree.get("goal")):
        _type_group(group)
    if tree.get("goal") and not tree["goal"].get("rules"):
        tree["goal"] = None
    _type_steps(tree.get("steps", []), actions)
    tree.setdefault("steps", [])
    return tree


def _type_group(group: dict | None) -> None:
    if not group:
        return
    group.setdefault("rules", [])
    group["rules"] = [rule for rule in group["rules"]
                      if isinstance(rule, dict) and (rule.get("property") or "").strip()]
    for rule in group["rules"]:
        rule["property"] = rule["property"].strip()
        kind = OPERATORS.get(rule.get("operator"), (None, "text"))[1]
        value = rule.get("value", "")
        if kind in ("list", "pair"):
            rule["value"] = [part.strip() for part in str(value).split(",") if part.strip()]
        elif kind == "none":
            rule.pop("value", None)


def _type_steps(steps: list, actions: dict) -> None:
    for step in steps:
        if not isinstance(step, dict):
            continue
        kind = step.get("kind")
        if kind == "delay":
            for key in ("amount",):
                if isinstance(step.get(key), str) and step[key].strip().lstrip("-").isdigit():
                    step[key] = int(step[key])
            if "weekdays" in step:
                step["weekdays"] = [int(day) for day in step["weekdays"] if str(day).isdigit()]
            if step.get("mode") != "until_property":
                step.pop("property", None)
            if step.get("mode") == "duration":
                step.pop("time", None)
                step.pop("weekdays", None)
            elif step.get("mode") == "until_property":
                step.pop("amount", None)
                step.pop("unit", None)
                step.pop("weekdays", None)
                if not step.get("time"):
                    step.pop("time", None)
            else:
                step.pop("amount", None)
                step.pop("unit", None)
                step.setdefault("weekdays", [])
        elif kind == "branch":
            _type_group(step.setdefault("conditions", {"match": "all", "rules": []}))
            for arm in ("then", "else"):
                step.setdefault(arm, [])
                _type_steps(step[arm], actions)
            for key in ("action", "params", "mode"):
                step.pop(key, None)
        elif kind == "action":
            spec = actions.get(step.get("action"))
            step["params"] = _type_params(step.get("params") or {}, spec)
            for key in ("mode", "conditions", "then", "else"):
                step.pop(key, None)


def _type_params(params: dict, spec) -> dict:
    if spec is None:
        return params
    typed: dict = {}
    schema_fields = spec.params_schema().fields
    for name, field in schema_fields.items():
        raw = params.get(name)
        if isinstance(field, fields.Boolean):
            typed[name] = raw in ("on", "true", "1", True)
        elif raw is None or raw == "":
            continue
        elif isinstance(field, fields.Integer):
            typed[name] = int(raw) if str(raw).strip().isdigit() else raw
        elif name in ("owner", "user") and str(raw).isdigit():
            typed[name] = int(raw)
        else:
            typed[name] = raw
    return typed


def apply_op(definition: dict, op: str) -> dict:
    """Add or remove a row: ``add:steps``, ``add:steps.3.then``, ``add:goal.rules``, ``remove:steps.2``."""
    verb, _, path = op.partition(":")
    parts = [int(p) if _INDEX.match(p) else p for p in path.split(".") if p]
    if not parts:
        return definition
    if verb == "add":
        if parts[:1] == ["goal"] and not definition.get("goal"):
            definition["goal"] = {"match": "all", "rules": []}
        if parts[:2] == ["trigger", "conditions"] and not definition.get("trigger", {}).get("conditions"):
            definition.setdefault("trigger", {})["conditions"] = {"match": "all", "rules": []}
        target = _node(definition, parts, create=True)
        if isinstance(target, list):
            target.append(dict(BLANK_RULE) if parts[-1] == "rules" else {**BLANK_STEP, "params": {}})
    elif verb == "remove":
        container = _node(definition, parts[:-1])
        if isinstance(container, list) and isinstance(parts[-1], int) and parts[-1] < len(container):
            container.pop(parts[-1])
    return definition


def _node(tree: Any, parts: list, create: bool = False) -> Any:
    node = tree
    for index, part in enumerate(parts):
        if isinstance(node, dict):
            if part not in node or node[part] is None:
                if not create:
                    return None
                node[part] = [] if index == len(parts) - 1 else {}
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def blank_definition() -> dict:
    return {"trigger": {"event": "contact.created", "conditions": {"match": "all", "rules": []}},
            "enrollment": {"mode": "once"}, "goal": None, "steps": [{**BLANK_STEP, "params": {}}]}
