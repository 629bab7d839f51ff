"""One CSV record → the values of one contact or company, or the reasons it cannot be imported.

Reasons name the person's own column headers (“E-Mail: … is not a valid e-mail
address”), because the error report is read next to their spreadsheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from kundo.crm.companies.domains import company_name_from_domain
from kundo.crm.contacts.errors import ContactError
from kundo.crm.contacts.values import clean_tags
from kundo.crm.imports.cells import READERS, distinct_phones
from kundo.crm.imports.mapping import CUSTOM_PREFIX, FIELDS

_COMPANY_PREFIX = "company_"


@dataclass
class ReadRecord:
    """A record as read from the file, before de-duplication and custom property checks."""

    number: int  #: 0-based data row; the spreadsheet row is number + 2 (the header is row 1)
    cells: list[str]
    values: dict = field(default_factory=dict)
    custom: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def row(self) -> int:
        return self.number + 2


class RecordReader:
    """Reads records with one confirmed mapping; built once per run, used for every row."""

    def __init__(self, object_type: str, headers: list[str], mapping: dict[str, str], *,
                 members: dict[str, int] | None = None):
        self.object_type = object_type
        self.width = len(headers)
        self.members = {email.lower(): user_id for email, user_id in (members or {}).items()}
        fields = FIELDS[object_type]
        position = {header: index for index, header in enumerate(headers)}
        #: (column index, header, field name, reader, many) for fields; reader None for custom properties
        self.columns = []
        self.custom_headers: dict[str, str] = {}
        for header, target in mapping.items():
            if target.startswith(CUSTOM_PREFIX):
                key = target[len(CUSTOM_PREFIX):]
                self.columns.append((position[header], header, key, None, False))
                self.custom_headers[key] = header
            else:
                field = fields[target]
                self.columns.append((position[header], header, field.name, self._reader_for(field), field.multiple))
        self.columns.sort(key=lambda column: column[0])  # file order: the mapping's key order is not kept
        targets = [column[2] for column in self.columns]
        #: List fields fed by several columns, which need one more pass without repeats.
        self.merged = {name for name in ("phone", "tags") if targets.count(name) > 1}

    def read(self, number: int, cells: list[str]) -> ReadRecord:
        record = ReadRecord(number, cells)
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width:]):
            record.errors.append(_(
                "This row has %(found)s values but the header has %(expected)s columns. A separator inside a cell "
                "needs quotes around the cell.", found=len(cells), expected=self.width))
            return record
        values = record.values
        width = len(cells)
        for index, header, name, reader, many in self.columns:
            raw = cells[index] if index < width else ""
            if reader is None:
                if raw.strip():
                    record.custom[name] = raw.strip()
                continue
            try:
                value = reader(raw)
            except ValueError as error:
                record.errors.append(f"{header}: {error}")
                continue
            if many:
                values[name] = values[name] + value if name in values else value
            elif value is not None:
                values[name] = value
        if self.merged:
            self._merge_lists(record)
        if self.object_type == "contact":
            self._finish_contact(record)
        elif not record.errors:
            self._finish_company(values, record)
        return record

    def custom_reasons(self, errors: dict[str, str]) -> list[str]:
        """Custom property messages keyed by the column they came from."""
        return [f"{self.custom_headers.get(key, key)}: {message}" for key, message in errors.items()]

    def _reader_for(self, field):
        if field.kind == "owner":
            return self._read_owner
        read, max_length = READERS[field.kind], field.max_length
        return lambda raw: read(raw, max_length)

    def _read_owner(self, raw: str) -> int | None:
        email = raw.strip().lower()
        if not email:
            return None
        if email not in self.members:
            raise ValueError(_("No workspace member has the e-mail “%(value)s”. Invite them first or leave the cell "
                               "empty.", value=raw.strip()))
        return self.members[email]

    def _merge_lists(self, record: ReadRecord) -> None:
        """Telefon + Mobil, or two tag columns: one list without repeats, by the contacts' rules."""
        values = record.values
        if "phone" in self.merged and "phone" in values:
            values["phone"] = distinct_phones(values["phone"])
        if "tags" in self.merged and "tags" in values:
            try:
                values["tags"] = clean_tags(values["tags"])
            except ContactError as error:
                record.errors.append(str(error))

    def _finish_company(self, values: dict, record: ReadRecord) -> None:
        if not values.get("name"):
            if not values.get("domain"):
                record.errors.append(_("The row has neither a company name nor a domain. Fill in at least one."))
                return
            values["name"] = company_name_from_domain(values["domain"])

    def _finish_contact(self, record: ReadRecord) -> None:
        values = record.values
        company = {name[len(_COMPANY_PREFIX):]: values.pop(name)
                   for name in list(values) if name.startswith(_COMPANY_PREFIX)}
        if "company" in values:
            company["name"] = values.pop("company")
        if company.get("name") or company.get("domain"):
            if not company.get("name"):
                company["name"] = company_name_from_domain(company["domain"])
            values["company"] = company
        if record.errors:
            return
        if "email" in values:
            values["email_key"] = values["email"].lower()
        elif not (values.get("first_name") or values.get("last_name")):
            record.errors.append(_("The row has neither an e-mail address nor a name. Fill in at least one of them."))
