"""The filter language of lists, saved views, bulk actions and the CSV export.

A filter is a JSON list of conditions that must all hold; an item may instead be
`{"any": [condition, …]}`, which holds when one of its conditions does::

    [{"field": "lifecycle_stage", "op": "eq", "value": "lead"},
     {"field": "tags", "op": "has", "value": "vip"},
     {"any": [{"field": "custom.score", "op": "gt", "value": 50},
              {"field": "owner_id", "op": "me"}]}]

`parse_filters` checks the shape (no database needed), `compile_filters` turns the
conditions into one SQL expression for a field catalogue. Every refusal is a
FilterError whose message names the condition, the field and what to send instead.
Text comparisons ignore case; "not equal" and "not in" include empty values, as a
person reading "stage is not lead" expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, and_, false, func, not_, or_, true
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.sql.elements import ColumnElement

from kundo.crm.lists.fields import FieldCatalog, FieldType, ListField, UnknownFieldError

OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: ("eq", "neq", "contains", "starts_with", "is_empty", "is_not_empty"),
    FieldType.NUMBER: ("eq", "neq", "lt", "lte", "gt", "gte", "between", "is_empty", "is_not_empty"),
    FieldType.DATE: ("on", "before", "after", "between", "in_last_days", "is_empty", "is_not_empty"),
    FieldType.ENUM: ("eq", "neq", "in", "not_in", "is_empty", "is_not_empty"),
    FieldType.BOOLEAN: ("is",),
    FieldType.TAGS: ("has", "has_any", "has_none"),
    FieldType.OWNER: ("is", "is_none", "me"),
}
#: Operators that take no value.
VALUELESS = frozenset({"is_empty", "is_not_empty", "is_none", "me"})
MAX_CONDITIONS = 50
MAX_LIST_VALUES = 500
MAX_DAYS = 36_600
MAX_ID = 2**63 - 1


class FilterError(ValueError):
    """A filter Kundo cannot run; the message says which condition and what to fix."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object = None
    position: str = "1"


@dataclass(frozen=True)
class AnyGroup:
    conditions: tuple[Condition, ...]
    position: str = "1"


@dataclass(frozen=True)
class FilterContext:
    """What a filter may depend on besides its own text: who asks, and their calendar."""

    user_id: int | None = None
    timezone: str = "UTC"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def parse_filters(raw) -> list[Condition | AnyGroup]:
    """The conditions of a filter given as decoded JSON, or FilterError."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FilterError('A filter is a JSON list of conditions like [{"field": "name", "op": "contains", '
                          '"value": "anna"}].')
    if len(raw) > MAX_CONDITIONS:
        raise FilterError(f"A filter has at most {MAX_CONDITIONS} conditions.")
    parsed: list[Condition | AnyGroup] = []
    for index, item in enumerate(raw, start=1):
        if isinstance(item, dict) and set(item) == {"any"}:
            members = item["any"]
            if not isinstance(members, list) or not members:
                raise FilterError(f"Condition {index}: “any” needs a non-empty list of conditions.")
            if len(members) > MAX_CONDITIONS:
                raise FilterError(f"Condition {index}: “any” has at most {MAX_CONDITIONS} conditions.")
            group = tuple(_condition(member, f"{index}.{sub}") for sub, member in enumerate(members, start=1))
            parsed.append(AnyGroup(group, str(index)))
        else:
            parsed.append(_condition(item, str(index)))
    return parsed


def _condition(item, position: str) -> Condition:
    if not isinstance(item, dict) or not isinstance(item.get("field"), str) or not isinstance(item.get("op"), str):
        raise FilterError(f"Condition {position}: give an object with “field”, “op” and (for most operators) "
                          "“value”, or {\"any\": [...]}.")
    unknown = set(item) - {"field", "op", "value"}
    if unknown:
        raise FilterError(f"Condition {position}: unknown key “{sorted(unknown)[0]}”; use field, op and value.")
    return Condition(item["field"], item["op"], item.get("value"), position)


def compile_filters(conditions: list[Condition | AnyGroup], catalog: FieldCatalog,
                    context: FilterContext) -> ColumnElement:
    """One SQL expression for all conditions (true when there are none)."""
    clauses = []
    for item in conditions:
        if isinstance(item, AnyGroup):
            clauses.append(or_(*(_compile(member, catalog, context) for member in item.conditions)))
        else:
            clauses.append(_compile(item, catalog, context))
    return and_(true(), *clauses)


def _compile(condition: Condition, catalog: FieldCatalog, context: FilterContext) -> ColumnElement:
    where = f"Condition {condition.position}"
    try:
        target = catalog.get(condition.field)
    except UnknownFieldError as error:
        raise FilterError(f"{where}: {error}") from None
    allowed = OPERATORS[target.type]
    if condition.op not in allowed:
        raise FilterError(f"{where}: the operator “{condition.op}” does not apply to {condition.field} "
                          f"({target.type.value}). Use one of: {', '.join(allowed)}.")
    if condition.op in VALUELESS and condition.value is not None:
        raise FilterError(f"{where}: “{condition.op}” takes no value; leave “value” out.")
    compiler = _COMPILERS[target.type]
    try:
        return compiler(target, condition.op, condition.value, context)
    except _BadValue as error:
        raise FilterError(f"{where} ({condition.field} {condition.op}): {error}") from None


class _BadValue(ValueError):
    pass


# --- values ---------------------------------------------------------------------------

def _text_value(value) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _BadValue("send the text to compare as “value”.")
    text = str(value).strip()
    if not text:
        raise _BadValue("the value is empty; use is_empty to find empty fields.")
    if len(text) > 500:
        raise _BadValue("the value is too long (at most 500 characters).")
    return text


def _number(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadValue(f"expected a number, got {value!r}.")
    try:
        number = Decimal(value.strip().replace(",", ".") if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise _BadValue(f"expected a number, got {value!r}.") from None
    if not number.is_finite():
        raise _BadValue("expected a finite number.")
    return number


def _day(value) -> date:
    if isinstance(value, str):
        text = value.strip()
        german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
        try:
            if german:
                return date(int(german[3]), int(german[2]), int(german[1]))
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    raise _BadValue(f"expected a date like 2026-03-31, got {value!r}.")


def _pair(value, parse):
    if not isinstance(value, list) or len(value) != 2:
        raise _BadValue("“between” needs a list of two values, from and to: [from, to].")
    low, high = parse(value[0]), parse(value[1])
    if low > high:
        raise _BadValue("“between” needs the smaller value first.")
    return low, high


def _string_list(value, what: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > MAX_LIST_VALUES:
        raise _BadValue(f"give between 1 and {MAX_LIST_VALUES} {what}.")
    return [_text_value(item) for item in values]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- per type -----------------------------------------------------------------------------

def _text(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:  # noqa: ARG001
    text_target = target.text
    lowered, wrap = text_target.lowered, text_target.wrap
    if op in ("is_empty", "is_not_empty"):
        filled = wrap(func.trim(func.coalesce(lowered, "")) != "")
        return filled if op == "is_not_empty" else not_(func.coalesce(filled, false()))
    text = _text_value(value).lower()
    if text_target.digits:
        predicate = _digits_predicate(lowered, op, text)
    elif op in ("eq", "neq"):
        # The LIKE narrows through the trigram index; trim() makes "anna" equal a name
        # stored with first name only ("anna ").
        predicate = func.trim(lowered) == text
        if len(text) >= 3:
            predicate = and_(lowered.like(f"%{_like_escaped(text)}%", escape="\\"), predicate)
    elif op == "contains":
        predicate = lowered.like(f"%{_like_escaped(text)}%", escape="\\")
    else:  # starts_with
        predicate = lowered.like(f"{_like_escaped(text)}%", escape="\\")
    matched = wrap(predicate)
    return not_(func.coalesce(matched, false())) if op == "neq" else matched


def _digits_predicate(digits_column, op: str, text: str) -> ColumnElement:
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise _BadValue("phone filters compare digits; the value has none.")
    if op == "contains":
        return digits_column.like(f"%{digits}%")
    # phone_digits holds each number's digits, separated by spaces; a regex anchors a
    # number's start (and end), and the trigram index supports it.
    ending = "( |$)" if op in ("eq", "neq") else ""
    return digits_column.regexp_match(f"(^| ){digits}{ending}")


def _number_filter(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:  # noqa: ARG001
    column = target.value
    if op in ("is_empty", "is_not_empty"):
        return column.is_(None) if op == "is_empty" else column.is_not(None)
    if op == "between":
        low, high = _pair(value, _number)
        return column.between(low, high)
    number = _number(value)
    if op == "eq":
        predicate = column == number
        if target.custom_key:
            stored = int(number) if number == number.to_integral_value() else float(number)
            predicate = and_(target.contains_json(stored), predicate)
        return predicate
    if op == "neq":
        return not_(func.coalesce(column == number, false()))
    return {"lt": column < number, "lte": column <= number, "gt": column > number, "gte": column >= number}[op]


def _date_filter(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:
    column = target.value
    if op in ("is_empty", "is_not_empty"):
        return column.is_(None) if op == "is_empty" else column.is_not(None)
    if op == "in_last_days":
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise _BadValue("“in_last_days” needs a whole number of days, like 30.")
        days = int(value)
        if not 0 < days <= MAX_DAYS:
            raise _BadValue(f"give between 1 and {MAX_DAYS} days.")
        if target.date_only:
            today = context.now.astimezone(context.zone).date()
            return column.between(today - timedelta(days=days), today)
        return column >= context.now - timedelta(days=days)
    if op == "between":
        first, last = _pair(value, _day)
    else:
        first = last = _day(value)
    if target.date_only:
        if op == "on":
            return and_(target.contains_json(first.isoformat()), column == first)
        return {"before": column < first, "after": column > last, "between": column.between(first, last)}[op]
    # Timestamps: a day runs from midnight to midnight in the workspace's time zone.
    start = datetime.combine(first, time(), tzinfo=context.zone)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=context.zone)
    if op == "before":
        return column < start
    if op == "after":
        return column >= end
    return and_(column >= start, column < end)


def _enum_filter(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:  # noqa: ARG001
    column = target.value
    if op in ("is_empty", "is_not_empty"):
        return column.is_(None) if op == "is_empty" else column.is_not(None)
    values = _string_list(value, "values") if op in ("in", "not_in") else [_text_value(value)]
    unknown = [item for item in values if item not in target.choices]
    if unknown:
        raise _BadValue(f"“{unknown[0]}” is not a choice; use one of: {', '.join(target.choices)}.")
    if target.custom_key:
        matched = or_(*(target.contains_json(item) for item in values))
    else:
        matched = column.in_(values)
    return matched if op in ("eq", "in") else not_(func.coalesce(matched, false()))


def _boolean_filter(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:  # noqa: ARG001
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise _BadValue("“is” needs true or false.")
    # Unset counts as "no", as an unticked box does.
    is_true = target.contains_json(True)
    return is_true if value else not_(is_true)


def _tags_filter(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:  # noqa: ARG001
    column = target.value
    # @> and && on the array are what the GIN index ix_contacts_tags answers.
    if op == "has":
        return column.op("@>", is_comparison=True)(array([_text_value(value)], type_=String))
    overlaps = column.op("&&", is_comparison=True)(array(_string_list(value, "tags"), type_=String))
    return overlaps if op == "has_any" else not_(overlaps)


def _owner_filter(target: ListField, op: str, value, context: FilterContext) -> ColumnElement:
    column = target.value
    if op == "is_none":
        return column.is_(None)
    if op == "me":
        if context.user_id is None:
            raise _BadValue("“me” needs a signed-in user.")
        return column == context.user_id
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > MAX_LIST_VALUES:
        raise _BadValue(f"give between 1 and {MAX_LIST_VALUES} user ids.")
    ids = []
    for item in values:
        if isinstance(item, bool) or not (isinstance(item, int) or isinstance(item, str) and item.isdigit()):
            raise _BadValue(f"expected a user id (a number), got {item!r}.")
        if not 0 < int(item) <= MAX_ID:
            raise _BadValue(f"no user has the id {item}.")
        ids.append(int(item))
    return column.in_(ids)


_COMPILERS = {
    FieldType.TEXT: _text,
    FieldType.NUMBER: _number_filter,
    FieldType.DATE: _date_filter,
    FieldType.ENUM: _enum_filter,
    FieldType.BOOLEAN: _boolean_filter,
    FieldType.TAGS: _tags_filter,
    FieldType.OWNER: _owner_filter,
}
