"""Reading uploaded CSV files: encoding, delimiter, header row, records.

Files come from Excel (German Excel writes Windows-1252 with `;`), Google Sheets,
LibreOffice and other CRMs. Everything is detected from the bytes, so people never
have to know what an encoding is; when a file cannot be read, the message says what
to do in the program that made it.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
#: How much of the file the delimiter and header detection look at.
_SAMPLE_CHARS = 64 * 1024
#: How much of a stored file `read_headers` needs.
HEADER_BYTES = _SAMPLE_CHARS
_SAMPLE_ROWS = 50
_NUMERIC = re.compile(r"^[\s\d.,+\-/:%€$]*$")

csv.field_size_limit(10 * 1024 * 1024)  # one cell may hold a long note; the default is 128 KiB


class CsvFileError(ValueError):
    """The file as a whole cannot be imported; the message tells the person what to do."""


@dataclass(frozen=True)
class CsvLayout:
    """How to read a file, as detected from its bytes."""

    encoding: str
    delimiter: str
    headers: list[str]
    row_count: int


def detect_layout(content: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> CsvLayout:
    """Detect encoding, delimiter and header row, and count the data rows.

    Raises CsvFileError for an empty, too large, binary or header-less file.
    """
    if len(content) > max_bytes:
        raise CsvFileError(_(
            "The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files and import them "
            "one after the other.", size=_megabytes(len(content)), limit=_megabytes(max_bytes)))
    encoding = detect_encoding(content)
    text = decode(content, encoding)
    if not text.strip("".join(DELIMITERS) + " \r\n"):  # Excel leaves lines of bare separators behind
        raise CsvFileError(_("The file is empty. Choose the CSV file that holds your data."))
    delimiter = detect_delimiter(text[:_SAMPLE_CHARS])
    rows = _nonblank(_reader(text, delimiter))
    headers = next(rows, None)
    if headers is None:
        raise CsvFileError(_("The file is empty. Choose the CSV file that holds your data."))
    _check_header(headers)
    row_count = sum(1 for _row in rows)
    if row_count == 0:
        raise CsvFileError(_("The file has a header row but no data rows. Add rows below the header."))
    return CsvLayout(encoding, delimiter, unique_headers(headers), row_count)


def detect_encoding(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 from Excel's "Unicode text", else Windows-1252."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    _refuse_binary(content[:8192])
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        content.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"  # cp1252 leaves five bytes undefined; Latin-1 maps every byte
    return "cp1252"


def decode(content: bytes, encoding: str) -> str:
    try:
        text = content.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise CsvFileError(_(
            "The file cannot be read as %(encoding)s. Save it again as “CSV UTF-8” and upload that.",
            encoding=encoding)) from error
    if "\x00" in text:
        raise CsvFileError(_not_csv())
    return text


def detect_delimiter(sample: str) -> str:
    """The candidate that splits the sample into the most columns, consistently per row.

    Quoted cells are respected (each candidate is tried with the csv parser), so a
    comma inside "Müller, Hans" does not make a semicolon file look comma-separated.
    """
    if "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # the sample may end in the middle of a row
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in itertools.islice(_reader(sample, delimiter), _SAMPLE_ROWS) if any(row)]
        if not widths or widths[0] < 2:
            continue
        consistency = sum(1 for width in widths if width == widths[0]) / len(widths)
        score = (consistency, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def unique_headers(headers: list[str]) -> list[str]:
    """Trimmed headers; blanks become “Column 3”, repeats get “ (2)”, so mappings can name them."""
    seen: dict[str, int] = {}
    result = []
    for position, raw in enumerate(headers, start=1):
        name = raw.strip() or _("Column %(number)s", number=position)
        count = seen.get(name.casefold(), 0) + 1
        seen[name.casefold()] = count
        result.append(name if count == 1 else f"{name} ({count})")
    return result


def read_headers(content: bytes, encoding: str, delimiter: str) -> list[str]:
    """The header row of a stored file, without decoding all of it."""
    try:
        head = codecs.getincrementaldecoder(encoding)(errors="replace").decode(content[:HEADER_BYTES])
    except LookupError as error:
        raise CsvFileError(_("The file cannot be read as %(encoding)s. Save it again as “CSV UTF-8” and upload "
                             "that.", encoding=encoding)) from error
    return unique_headers(next(_nonblank(_reader(head, delimiter)), []))


def iter_records(content: bytes, encoding: str, delimiter: str, *, start: int = 0) -> Iterator[tuple[int, list[str]]]:
    """(record number, cells) for each data row from `start` on; blank lines are not records.

    Record numbers count data rows from 0, so `start` is the run's processed_rows.
    """
    rows = _nonblank(_reader(decode(content, encoding), delimiter))
    next(rows, None)
    return itertools.islice(enumerate(rows), start, None)


def _reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                      skipinitialspace=False, strict=False)


def _nonblank(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """Rows with at least one non-empty cell: Excel ends files with lines of bare separators."""
    return (row for row in rows if any(cell.strip() for cell in row))


def _check_header(headers: list[str]) -> None:
    cells = [cell.strip() for cell in headers if cell.strip()]
    looks_like_data = any("@" in cell for cell in cells) or all(_NUMERIC.match(cell) for cell in cells)
    if looks_like_data:
        raise CsvFileError(_(
            "The first row looks like data, not column names. Add a header row with a name for each column "
            "(e.g. First name, Last name, E-mail)."))


def _refuse_binary(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvFileError(_(
            "This is an Excel workbook, not a CSV file. In Excel choose File → Save as → “CSV UTF-8 "
            "(comma delimited)” and upload that file."))
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in head or control > len(head) // 100:
        raise CsvFileError(_not_csv())


def _not_csv() -> str:
    return _("This file is not a CSV text file. Export your data as CSV (comma or semicolon separated) and "
             "upload that.")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
