"""Sorting and keyset (cursor) pagination for lists.

A sort is one field, ascending or descending (`-created_at`), with the row id as tie
breaker in the same direction, so `ORDER BY created_at DESC, id DESC` walks the
index (created_at, id) backwards and a page never depends on an offset.

Empty values come last in both directions. Keyset conditions cannot compare NULLs,
so a nullable sort runs in two phases: first the rows with a value, by (value, id);
then the empty ones, by id. A cursor says which phase it is in, the last value and
id seen, and a signature of the sort and filter it was made for — a cursor reused
with another filter would silently skip rows, so it answers 400 instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, column, literal, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from kundo.crm.lists.fields import FieldCatalog, ListField, SortKind, UnknownFieldError
from kundo.platform.api_pagination import CursorError, decode_cursor, encode_cursor

DEFAULT_SORT = "-created_at"
_CURSOR_COLUMNS = [column("signature", String), column("phase", Integer), column("value", String),
                   column("id", BigInteger)]
_WITH_VALUE, _EMPTY = 0, 1


class SortError(ValueError):
    """A sort Kundo cannot apply; the message names the field and the choices."""


@dataclass(frozen=True)
class SortSpec:
    field: ListField
    descending: bool

    @property
    def text(self) -> str:
        return f"{'-' if self.descending else ''}{self.field.key}"


def parse_sort(text: str | None, catalog: FieldCatalog) -> SortSpec:
    """`name`, `-created_at` or `custom.score` → SortSpec, or SortError."""
    text = (text or DEFAULT_SORT).strip()
    descending = text.startswith("-")
    key = text.lstrip("-+")
    try:
        field = catalog.get(key)
    except UnknownFieldError:
        field = None
    if field is None or not field.sortable:
        choices = ", ".join(key for key, candidate in catalog.fields.items() if candidate.sortable)
        raise SortError(f"Cannot sort by “{key}”. Use one of: {choices} (prefix “-” for descending).")
    return SortSpec(field, descending)


def cursor_signature(object_type: str, sort: SortSpec, filters) -> str:
    payload = json.dumps([object_type, sort.text, filters], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Position:
    phase: int
    value: object
    last_id: int


def _decode(cursor: str, sort: SortSpec, signature: str) -> _Position:
    signed, phase, raw_value, last_id = decode_cursor(cursor, _CURSOR_COLUMNS)
    if signed != signature:
        raise CursorError("This cursor belongs to another sort or filter. Start again without it.")
    if phase == _EMPTY:
        if not sort.field.sort_nullable:
            raise CursorError("The cursor is not valid. Start again without it.")
        return _Position(phase, None, last_id)
    if phase != _WITH_VALUE:
        raise CursorError("The cursor is not valid. Start again without it.")
    return _Position(phase, _parse_value(raw_value, sort.field.sort_kind), last_id)


def _parse_value(raw: str, kind: SortKind):
    try:
        if kind == SortKind.INTEGER:
            return int(raw)
        if kind == SortKind.TIMESTAMP:
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError(raw)
            return value
        if kind == SortKind.JSON:
            json.loads(raw)
            return literal(raw, String).cast(JSONB)
        return raw
    except ValueError as error:
        raise CursorError("The cursor is not valid. Start again without it.") from error


def _encode(signature: str, phase: int, value, last_id: int, kind: SortKind) -> str:
    if phase == _EMPTY:
        text = ""
    elif kind == SortKind.TIMESTAMP:
        text = value.isoformat()
    else:
        text = str(value)
    return encode_cursor([signature, phase, text, last_id])


@dataclass(frozen=True)
class Page:
    #: The query's rows (entity first, then any further columns it selects).
    rows: list[tuple]
    next_cursor: str | None


def fetch_page(session: Session, query: Select, *, sort: SortSpec, id_column: ColumnElement, limit: int,
               cursor: str | None, signature: str) -> Page:
    """One page of `query` (the row entity first) in `sort` order; see the module docstring.

    Raises CursorError for a cursor this sort and filter did not make.
    """
    field = sort.field
    # JSON sort values leave the database as text, so the cursor repeats them exactly.
    key = field.sort.cast(String) if field.sort_kind == SortKind.JSON else field.sort
    position = _decode(cursor, sort, signature) if cursor else _Position(_WITH_VALUE, None, 0)
    rows: list = []
    if position.phase == _WITH_VALUE:
        page_query = field.sorting_rows(query).add_columns(key.label("sort_key"))
        if cursor:
            before = tuple_(field.sort, id_column)
            after = tuple_(position.value, position.last_id)
            # The plain bound repeats the row comparison's first half, so an index
            # of another table (a joined sort) can start its range scan there.
            if sort.descending:
                page_query = page_query.where(before < after, field.sort <= position.value)
            else:
                page_query = page_query.where(before > after, field.sort >= position.value)
        order = (field.sort.desc(), id_column.desc()) if sort.descending else (field.sort.asc(), id_column.asc())
        found = session.execute(page_query.order_by(*order).limit(limit + 1)).all()
        if len(found) > limit:
            last = found[limit - 1]
            next_cursor = _encode(signature, _WITH_VALUE, last.sort_key, _row_id(last[0]), field.sort_kind)
            return Page([tuple(row)[:-1] for row in found[:limit]], next_cursor)
        rows = [tuple(row)[:-1] for row in found]
        if not field.sort_nullable:
            return Page(rows, None)
    remaining = limit - len(rows)
    empty_query = field.rows_without_value(query)
    if position.phase == _EMPTY and position.last_id:
        empty_query = empty_query.where(id_column < position.last_id if sort.descending
                                        else id_column > position.last_id)
    empty_query = empty_query.order_by(id_column.desc() if sort.descending else id_column.asc())
    found = session.execute(empty_query.limit(remaining + 1)).all()
    rows.extend(tuple(row) for row in found[:remaining])
    if len(found) > remaining:
        # remaining may be 0 (the first phase filled the page): the cursor then starts
        # the empty phase from its beginning (last id 0 = no bound).
        last_id = _row_id(rows[-1][0]) if remaining else 0
        return Page(rows, _encode(signature, _EMPTY, None, last_id, field.sort_kind))
    return Page(rows, None)


def _row_id(row) -> int:
    return row.id
