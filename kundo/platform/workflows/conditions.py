"""Conditions: and/or groups of rules on an object's properties, and how they are judged.

A group is ``{"match": "all"|"any", "rules": [rule or group, ...]}``; a rule is
``{"property": "lifecycle_stage", "operator": "is_any_of", "value": ["customer"]}``.
Properties are the object's standard fields, ``custom.<key>`` for custom properties and
``event.<key>`` for the triggering event's payload (``event.to`` of lifecycle_stage.changed).
The operator decides how the value is read, so a rule needs no separate type: text
operators compare case-insensitively, number operators parse numbers, date operators read
ISO dates and times (in UTC when no zone is given). A property that is missing or of the
wrong kind never matches (except "is empty").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

#: operator -> (English label, what its value must be: none | text | number | pair | date | days | list)
OPERATORS: dict[str, tuple[Any, str]] = {
    "equals": (_l("is"), "text"),
    "not_equals": (_l("is not"), "text"),
    "contains": (_l("contains"), "text"),
    "starts_with": (_l("starts with"), "text"),
    "is_empty": (_l("is empty"), "none"),
    "is_not_empty": (_l("is not empty"), "none"),
    "eq": (_l("="), "number"),
    "lt": (_l("<"), "number"),
    "gt": (_l(">"), "number"),
    "between": (_l("is between"), "pair"),
    "before": (_l("is before"), "date"),
    "after": (_l("is after"), "date"),
    "within_last_days": (_l("is within the last N days"), "days"),
    "is_any_of": (_l("is any of"), "list"),
    "is_none_of": (_l("is none of"), "list"),
    "has": (_l("has tag"), "text"),
    "has_not": (_l("does not have tag"), "text"),
}

MAX_DEPTH = 4


def check_group(group: Any, path: str, depth: int = 0) -> dict[str, list[str]]:
    """Errors of a condition group as {"field.path": [message]}; empty when it is valid."""
    errors: dict[str, list[str]] = {}
    if group is None:
        return errors
    if not isinstance(group, Mapping):
        return {path: ["A condition group is an object with match and rules."]}
    if group.get("match", "all") not in ("all", "any"):
        errors[f"{path}.match"] = ["Use all or any."]
    rules = group.get("rules", [])
    if not isinstance(rules, list):
        return {**errors, f"{path}.rules": ["Give a list of rules."]}
    for index, rule in enumerate(rules):
        where = f"{path}.rules.{index}"
        if isinstance(rule, Mapping) and "rules" in rule:
            if depth + 1 >= MAX_DEPTH:
                errors[where] = [f"Nest condition groups at most {MAX_DEPTH} deep."]
            else:
                errors.update(check_group(rule, where, depth + 1))
        else:
            errors.update(check_rule(rule, where))
    return errors


def check_rule(rule: Any, path: str) -> dict[str, list[str]]:
    if not isinstance(rule, Mapping):
        return {path: ["A rule is an object with property, operator and value."]}
    errors: dict[str, list[str]] = {}
    prop = rule.get("property")
    if not isinstance(prop, str) or not prop.strip() or len(prop) > 120:
        errors[f"{path}.property"] = ["Name a property, e.g. lifecycle_stage, custom.region or event.to."]
    operator = rule.get("operator")
    if operator not in OPERATORS:
        errors[f"{path}.operator"] = [f"Use one of: {', '.join(OPERATORS)}."]
        return errors
    kind = OPERATORS[operator][1]
    value = rule.get("value")
    problem = _value_problem(kind, value)
    if problem:
        errors[f"{path}.value"] = [problem]
    return errors


def _value_problem(kind: str, value: Any) -> str | None:
    if kind == "none":
        return None
    if kind == "text":
        return None if isinstance(value, str | int | float) and not isinstance(value, bool) else "Give a text value."
    if kind == "number":
        return None if _number(value) is not None else "Give a number."
    if kind == "pair":
        ok = isinstance(value, list) and len(value) == 2 and all(_number(v) is not None for v in value)
        return None if ok else "Give two numbers: [low, high]."
    if kind == "date":
        return None if _moment(value) is not None else "Give a date like 2026-03-31."
    if kind == "days":
        number = _number(value)
        return None if number is not None and number >= 0 else "Give a number of days (0 or more)."
    if kind == "list":
        ok = isinstance(value, list) and value and all(isinstance(v, str | int) for v in value)
        return None if ok else "Give a list of values."
    return "Unknown value kind."


def matches(group: Mapping | None, properties: Mapping[str, Any], now: datetime) -> bool:
    """Whether `properties` (see `kundo.platform.workflows.objects`) satisfy the group; None matches."""
    if not group or not group.get("rules"):
        return True
    results = (matches(rule, properties, now) if "rules" in rule else rule_matches(rule, properties, now)
               for rule in group["rules"])
    return any(results) if group.get("match", "all") == "any" else all(results)


def lookup(properties: Mapping[str, Any], name: str) -> Any:
    """`custom.region` → properties["custom"]["region"]; plain names directly."""
    value: Any = properties
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def rule_matches(rule: Mapping, properties: Mapping[str, Any], now: datetime) -> bool:
    operator, expected = rule["operator"], rule.get("value")
    actual = lookup(properties, rule["property"])
    if operator in ("is_empty", "is_not_empty"):
        empty = actual is None or actual == "" or actual == [] or actual == {}
        return empty if operator == "is_empty" else not empty
    if actual is None:
        return operator in ("not_equals", "is_none_of", "has_not")
    if operator in ("equals", "not_equals", "contains", "starts_with"):
        text, wanted = _text(actual), _text(expected)
        result = {"equals": text == wanted, "not_equals": text != wanted, "contains": wanted in text,
                  "starts_with": text.startswith(wanted)}[operator]
        return result
    if operator in ("eq", "lt", "gt", "between"):
        number = _number(actual)
        if number is None:
            return False
        if operator == "between":
            low, high = sorted(_number(v) for v in expected)
            return low <= number <= high
        wanted = _number(expected)
        return {"eq": number == wanted, "lt": number < wanted, "gt": number > wanted}[operator]
    if operator in ("before", "after", "within_last_days"):
        moment = _moment(actual)
        if moment is None:
            return False
        if operator == "within_last_days":
            return now - timedelta(days=float(_number(expected))) <= moment <= now
        wanted = _moment(expected)
        return moment < wanted if operator == "before" else moment > wanted
    if operator in ("is_any_of", "is_none_of"):
        values = actual if isinstance(actual, list) else [actual]
        hit = any(_text(v) == _text(w) for v in values for w in expected)
        return hit if operator == "is_any_of" else not hit
    if operator in ("has", "has_not"):
        tags = [_text(tag) for tag in actual] if isinstance(actual, list) else []
        return (_text(expected) in tags) == (operator == "has")
    return False


def _text(value: Any) -> str:
    return str(value).strip().lower()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def describe_rule(rule: Mapping) -> str:
    """A one-line reading of a rule for pages: `lifecycle_stage is any of customer`."""
    label, kind = OPERATORS.get(rule.get("operator"), (rule.get("operator"), "text"))
    value = rule.get("value")
    shown = "" if kind == "none" else ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{rule.get('property')} {label} {shown}".strip()
