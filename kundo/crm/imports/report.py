"""The per-row error report: the original row, its spreadsheet row number and the reason.

The report is CSV with the file's own delimiter, so it opens in the same program
the person used; they fix the rows and import the report itself again (the extra
“Row” and “Error” columns are simply left unmapped).
"""

from __future__ import annotations

import codecs
import csv
import io

from flask_babel import gettext as _


def report_header(headers: list[str], delimiter: str) -> str:
    return _rows_to_csv([[_("Row"), *headers, _("Error")]], delimiter)


def report_rows(failures: list[tuple[int, list[str], list[str]]], width: int, delimiter: str) -> str:
    """CSV lines for (spreadsheet row, cells, reasons) triples; short rows are padded to the header."""
    rows = [[str(row), *cells, *([""] * (width - len(cells))), " ".join(reasons)] for row, cells, reasons in failures]
    return _rows_to_csv(rows, delimiter)


def failed_row_numbers(report: str | None, delimiter: str) -> set[int]:
    """Spreadsheet row numbers listed in a report (used when resuming a run)."""
    if not report:
        return set()
    rows = csv.reader(io.StringIO(report, newline=""), delimiter=delimiter)
    next(rows, None)
    return {int(row[0]) for row in rows if row and row[0].isdigit()}


def report_download(report: str | None) -> bytes:
    """UTF-8 with BOM: Excel then shows umlauts correctly when the file is double-clicked."""
    return codecs.BOM_UTF8 + (report or "").encode("utf-8")


def _rows_to_csv(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
