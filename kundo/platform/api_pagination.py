"""Cursor (keyset) pagination for API lists.

A cursor is the sort key of the last item seen, base64-encoded JSON. Unlike offsets,
pages neither skip nor repeat items when rows are inserted or deleted between calls.
Cursors come from clients, so their values are type-checked against the key columns
before they reach SQL: a forged cursor answers 400, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from marshmallow import Schema, fields, validate
from sqlalchemy import tuple_

from kundo.platform.errors import Problem

INVALID_CURSOR = "The cursor is not valid. Start again without it, then pass each page's `next_cursor`."
_BIGINT = (-(2**63), 2**63 - 1)


class CursorError(ValueError):
    """A cursor a client sent that Kundo did not make."""


class PageArgsSchema(Schema):
    """Query arguments of a list. Parse with `unknown=RAISE` (webargs ignores unknown
    query arguments by default), so a misspelt `limt=5` is a 422, not a silent default."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           metadata={"description": "Items per page (1–200)."})
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000),
                           metadata={"description": "`next_cursor` of the previous page; omit for the first page."})


def encode_cursor(values: list) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key_columns) -> list:
    """The typed key values of `cursor`, or CursorError."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as error:  # JSONDecodeError and UnicodeError are ValueErrors
        raise CursorError(INVALID_CURSOR) from error
    if not isinstance(values, list) or len(values) != len(key_columns):
        raise CursorError(INVALID_CURSOR)
    return [_typed(value, column) for value, column in zip(values, key_columns, strict=True)]


def _typed(value, column):
    if value is None and column.expression.nullable:
        return None  # a row whose sort key is NULL; the caller's query decides where NULLs sort
    python_type = column.type.python_type
    if python_type is int:
        if isinstance(value, int) and not isinstance(value, bool) and _BIGINT[0] <= value <= _BIGINT[1]:
            return value
    elif python_type is str:
        if isinstance(value, str):
            return value
    elif python_type is datetime:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
    else:
        raise TypeError(f"cursor pagination does not support {python_type.__name__} key columns")
    raise CursorError(INVALID_CURSOR)


def paginate(query, *, key_columns, limit: int, cursor: str | None, session):
    """Keyset pagination over `key_columns` (ascending, unique together).

    Returns (items, next_cursor); next_cursor is None on the last page.
    """
    if cursor:
        try:
            values = decode_cursor(cursor, key_columns)
        except CursorError as error:
            raise Problem(400, str(error), errors={"cursor": [str(error)]}) from error
        query = query.where(tuple_(*key_columns) > tuple_(*values))
    rows = session.scalars(query.order_by(*key_columns).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, column.key) for column in key_columns])
    return rows, next_cursor
