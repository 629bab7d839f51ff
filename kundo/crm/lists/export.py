"""CSV export of any list: the same filter and sort as the list, streamed page by page.

The file is UTF-8 with a byte order mark, without which Excel reads UTF-8 as
Windows-1252 and turns "Müller" into "MÃ¼ller". German Excel splits on `;` and reads
`,` as the decimal separator, so the semicolon variant also writes decimal commas.
Cells that a spreadsheet would run as a formula (=, +, -, @ …) are prefixed with an
apostrophe — except plain numbers and phone numbers, which are only data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundo.crm.lists.fields import CUSTOM_PREFIX, FieldCatalog, FieldType
from kundo.crm.lists.filters import FilterContext
from kundo.crm.lists.service import CompiledQuery, page_of

BOM = "\ufeff"
BATCH = 1000
DELIMITERS = {"comma": ",", "semicolon": ";"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s()./-]+$")

DEFAULT_COLUMNS = {
    "contact": ("id", "first_name", "last_name", "email", "phone", "job_title", "company", "owner",
                "lifecycle_stage", "lead_status", "source", "tags", "consent_status", "created_at", "updated_at"),
    "company": ("id", "name", "domain", "industry", "size", "city", "country", "phone", "owner", "created_at",
                "updated_at"),
}
#: Item keys whose name differs from the column's.
_ITEM_KEYS = {"company": "company_name"}


def default_columns(object_type: str) -> list[str]:
    return list(DEFAULT_COLUMNS[object_type])


def export_columns(catalog: FieldCatalog, columns) -> list[str]:
    """`columns` checked against the catalogue (a list, or comma-separated text); ValueError names the unknown."""
    if isinstance(columns, str):
        columns = [part.strip() for part in columns.split(",") if part.strip()]
    columns = list(columns or default_columns(catalog.object_type))
    allowed = ["id", "owner", *catalog.fields]
    unknown = [column for column in columns if column not in allowed]
    if unknown:
        raise ValueError(f"Unknown column “{unknown[0]}”. Use any of: {', '.join(allowed)}.")
    return columns


def _header(catalog: FieldCatalog, column: str) -> str:
    if column == "id":
        return "ID"
    if column == "owner":
        return _("Owner")
    if column == "owner_id":
        return _("Owner ID")
    return str(catalog.fields[column].label)


def _cell_writer(catalog: FieldCatalog, column: str, context: FilterContext, owner_names: dict[int, str],
                 decimal_comma: bool) -> Callable[[dict], str]:
    if column == "owner":
        return lambda item: owner_names.get(item["owner_id"], "" if item["owner_id"] is None else str(item["owner_id"]))
    if column.startswith(CUSTOM_PREFIX):
        key = column[len(CUSTOM_PREFIX):]
        boolean = catalog.fields[column].type == FieldType.BOOLEAN

        def custom(item):
            value = item["custom"].get(key)
            if boolean and value is not None:
                return _("yes") if value else _("no")
            return _plain(value, context, decimal_comma)

        return custom
    item_key = _ITEM_KEYS.get(column, column)
    return lambda item: _plain(item.get(item_key), context, decimal_comma)


def _plain(value, context: FilterContext, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(context.zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def _defused(text: str) -> str:
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def stream_csv(session: Session, compiled: CompiledQuery, columns: list[str], *, context: FilterContext,
               delimiter: str = "comma", owner_names: dict[int, str] | None = None) -> Iterator[str]:
    """The CSV text, in chunks of one page; `columns` come checked from `export_columns`."""
    catalog = compiled.catalog
    separator = DELIMITERS[delimiter]
    writers = [_cell_writer(catalog, column, context, owner_names or {}, separator == ";") for column in columns]
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    out.writerow([_header(catalog, column) for column in columns])
    yield BOM + _drain(buffer)
    cursor = None
    while True:
        page = page_of(session, compiled, limit=BATCH, cursor=cursor)
        for item in page.items:
            out.writerow([_defused(write(item)) for write in writers])
        yield _drain(buffer)
        cursor = page.next_cursor
        if cursor is None:
            return


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
