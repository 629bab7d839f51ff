"""A list page's state from its URL: filter bar, search, sort, saved view and page trail.

The filter bar speaks plain query parameters (`stage=lead&owner=me&tag=vip`), which
this module turns into the filter language of `kundo.crm.lists.filters`, so a saved
view, a bulk action and the CSV export see exactly the rows the page shows.
Cursors only go forward; `trail` keeps the cursors of the pages before, so
"Previous" is a link, not the browser's back button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import request
from werkzeug.datastructures import MultiDict

from kundo.crm.lists.fields import CUSTOM_PREFIX
from kundo.crm.properties.models import PropertyDefinition, PropertyType

#: Query parameters of the filter bar (kept when sorting, paging and exporting).
BAR = ("q", "view", "stage", "owner", "tag", "created_from", "created_to", "prop", "prop_value", "industry")
TRAIL_SEPARATOR = "."
#: The operator a custom property is compared with from the bar's single value box.
_PROPERTY_OPS = {PropertyType.NUMBER: "eq", PropertyType.DATE: "on", PropertyType.ENUM: "eq",
                 PropertyType.BOOLEAN: "is", PropertyType.TEXT: "contains", PropertyType.URL: "contains"}


@dataclass
class ListState:
    object_type: str
    args: MultiDict
    filters: list = field(default_factory=list)
    #: Bar inputs that could not be read, by parameter: shown next to the input.
    problems: dict = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return (self.args.get(key) or default).strip()

    @property
    def sort(self) -> str | None:
        return self.get("sort") or None

    @property
    def view_id(self) -> int | None:
        raw = self.get("view")
        return int(raw) if raw.isdigit() and len(raw) < 19 else None

    @property
    def search(self) -> str:
        return self.get("q")

    @property
    def cursor(self) -> str | None:
        return self.get("cursor") or None

    @property
    def trail(self) -> list[str]:
        raw = self.args.get("trail")
        return raw.split(TRAIL_SEPARATOR) if raw is not None else []

    @property
    def filtered(self) -> bool:
        return any(self.get(key) for key in BAR if key not in ("view", "prop"))

    def bar_args(self, **overrides) -> dict:
        """The bar's parameters (and sort), with `overrides`; None removes one."""
        args = {key: self.get(key) for key in (*BAR, "sort") if self.get(key)}
        for key, value in overrides.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return args

    def next_args(self, next_cursor: str) -> dict:
        trail = [*self.trail, self.cursor or ""] if (self.cursor or self.args.get("trail") is not None) else [""]
        return self.bar_args(cursor=next_cursor, trail=TRAIL_SEPARATOR.join(trail))

    def previous_args(self) -> dict | None:
        trail = self.trail
        if not trail:
            return None
        previous, before = trail[-1], trail[:-1]
        args = self.bar_args(cursor=previous or None)
        if before:
            args["trail"] = TRAIL_SEPARATOR.join(before)
        return args

    def sort_args(self, key: str) -> dict:
        """Clicking a header: ascending first, then descending."""
        return self.bar_args(sort=f"-{key}" if self.sort == key else key)

    def sort_mark(self, key: str) -> str:
        if self.sort == key:
            return "asc"
        if self.sort == f"-{key}" or (self.sort is None and key == "created_at"):
            return "desc"
        return ""


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def list_state(object_type: str, definitions: dict[str, PropertyDefinition]) -> ListState:
    """Read the filter bar of the request into filter conditions."""
    state = ListState(object_type, request.args)
    filters = state.filters
    if object_type == "contact" and state.get("stage"):
        filters.append({"field": "lifecycle_stage", "op": "eq", "value": state.get("stage")})
    owner = state.get("owner")
    if owner == "me":
        filters.append({"field": "owner_id", "op": "me"})
    elif owner == "none":
        filters.append({"field": "owner_id", "op": "is_none"})
    elif owner:
        filters.append({"field": "owner_id", "op": "is", "value": owner})
    if object_type == "contact" and state.get("tag"):
        filters.append({"field": "tags", "op": "has", "value": state.get("tag")})
    if object_type == "company" and state.get("industry"):
        filters.append({"field": "industry", "op": "contains", "value": state.get("industry")})
    _created_range(state)
    key, value = state.get("prop"), state.get("prop_value")
    if key and value and key in definitions:
        kind = PropertyType(definitions[key].type)
        if kind == PropertyType.BOOLEAN:
            value = value.lower() in ("true", "yes", "ja", "1")
        filters.append({"field": CUSTOM_PREFIX + key, "op": _PROPERTY_OPS[kind], "value": value})
    return state


def _created_range(state: ListState) -> None:
    """From and to are whole days, both included, in the workspace's calendar."""
    first, last = _day(state.get("created_from")), _day(state.get("created_to"))
    for key, parsed in (("created_from", first), ("created_to", last)):
        if state.get(key) and parsed is None:
            state.problems[key] = True
    if first and last:
        if first > last:
            first, last = last, first
        state.filters.append({"field": "created_at", "op": "between", "value": [first.isoformat(), last.isoformat()]})
    elif first:
        state.filters.append({"field": "created_at", "op": "after", "value": (first - timedelta(days=1)).isoformat()})
    elif last:
        state.filters.append({"field": "created_at", "op": "before", "value": (last + timedelta(days=1)).isoformat()})
