"""API schemas of CSV imports."""

from __future__ import annotations

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from kundo.crm.imports.service import ON_DUPLICATE, PREVIEW_ROWS, headers_of

_MAPPING = fields.Dict(
    keys=fields.String(), values=fields.String(allow_none=True),
    metadata={"description": "{column header: target}; a target is a field (e.g. `email`, `company`) or "
                             "`custom.<property key>`; unmapped or null columns are ignored."},
)


class ImportUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "The CSV file (UTF-8 or Windows-1252; `,` `;` or tab)."})
    object_type = fields.String(required=True, validate=validate.OneOf(["contact", "contacts", "company", "companies"]),
                                metadata={"description": "What the rows are: `contact` or `company`."})


class ImportRunSchema(Schema):
    id = fields.Integer()
    object_type = fields.String()
    filename = fields.String()
    status = fields.String(metadata={"description": "pending, queued, running, completed or failed."})
    encoding = fields.String(metadata={"description": "Detected text encoding, e.g. utf-8 or cp1252."})
    delimiter = fields.String(metadata={"description": "Detected column separator."})
    headers = fields.Method("_headers", metadata={"description": "The file's column headers (empty once a real "
                                                                 "run finished and dropped the file)."})
    mapping = fields.Dict(metadata={"description": "The suggested mapping until the run starts, then the "
                                                   "confirmed one."})
    on_duplicate = fields.String()
    dry_run = fields.Boolean()
    total_rows = fields.Integer()
    processed_rows = fields.Integer()
    progress = fields.Method("_progress", metadata={"description": "processed_rows / total_rows, 0 to 1."})
    created_count = fields.Integer()
    updated_count = fields.Integer()
    skipped_count = fields.Integer()
    failed_count = fields.Integer()
    error = fields.String(allow_none=True, metadata={"description": "Why the run failed as a whole, if it did."})
    error_report_url = fields.Method("_report_url")
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)

    def _headers(self, run) -> list[str]:
        return headers_of(run)

    def _progress(self, run) -> float:
        return round(run.processed_rows / run.total_rows, 4) if run.total_rows else 0.0

    def _report_url(self, run) -> str:
        return url_for("api_crm_imports.ImportErrors", run_id=run.id)


class ImportPreviewArgsSchema(Schema):
    mapping = _MAPPING
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(ON_DUPLICATE))
    limit = fields.Integer(load_default=PREVIEW_ROWS, validate=validate.Range(min=1, max=200))


class ImportPreviewRowSchema(Schema):
    row = fields.Integer(metadata={"description": "Row number in the spreadsheet (the header is row 1)."})
    action = fields.String(metadata={"description": "created, updated, skipped or failed."})
    values = fields.Dict(metadata={"description": "The values as they would be stored."})
    problems = fields.List(fields.String())


class ImportPreviewSchema(Schema):
    rows = fields.List(fields.Nested(ImportPreviewRowSchema))


class ImportStartSchema(Schema):
    mapping = fields.Dict(required=True, keys=fields.String(), values=fields.String(allow_none=True),
                          metadata=_MAPPING.metadata)
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(ON_DUPLICATE),
                                 metadata={"description": "For rows whose e-mail (contacts) or domain (companies) "
                                                          "exists: `update` fills in the record, `skip` leaves it."})
    dry_run = fields.Boolean(load_default=False,
                             metadata={"description": "Validate and count everything, write nothing."})
