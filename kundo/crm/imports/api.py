"""API routes of CSV imports: upload → preview → start (dry run or real) → progress → error report."""

from __future__ import annotations

import io
from pathlib import PurePath

from flask import abort, current_app, g, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from kundo.crm.imports.csvfile import DEFAULT_MAX_BYTES, CsvFileError
from kundo.crm.imports.mapping import MappingError
from kundo.crm.imports.runner import launch_import, workspace_members
from kundo.crm.imports.schemas import (
    ImportPreviewArgsSchema,
    ImportPreviewSchema,
    ImportRunSchema,
    ImportStartSchema,
    ImportUploadSchema,
)
from kundo.crm.imports.service import (
    ImportRunError,
    create_import,
    error_report_download,
    get_import,
    list_imports,
    preview_import,
    start_import,
)
from kundo.platform.api import token_required
from kundo.platform.errors import Problem
from kundo.tenants.resolution import current_tenant_db


class _MultipartParser(FlaskParser):
    """Reads a multipart body's fields and files as one location, so one schema documents the upload.

    (flask-smorest turns each body location into the one OpenAPI requestBody, so the
    stock `form` and `files` locations cannot both describe the same request.)
    """

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class _ImportsBlueprint(Blueprint):
    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


blueprint = _ImportsBlueprint("api_crm_imports", __name__, url_prefix="/api/v1", description="CRM: imports")

_ID = "<int(max=9223372036854775807):run_id>"


def _max_bytes() -> int:
    return int(current_app.config.get("KUNDO_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _run_or_404(run_id: int):
    run = get_import(current_tenant_db(), run_id)
    if run is None:
        abort(404, description="There is no import with this id in this workspace.")
    return run


def _mapping_problem(error: MappingError) -> Problem:
    errors = {f"mapping.{header}": [message] for header, message in error.errors.items()} or {"mapping": [str(error)]}
    return Problem(422, str(error), errors=errors)


@blueprint.route("/imports")
class Imports(MethodView):
    @token_required("read")
    @blueprint.response(200, ImportRunSchema(many=True))
    def get(self):
        """List the workspace's imports, newest first (at most 50)"""
        return list_imports(current_tenant_db())

    @token_required("write")
    @blueprint.arguments(ImportUploadSchema, location="multipart")
    @blueprint.response(201, ImportRunSchema)
    def post(self, form):
        """Upload a CSV file: detects encoding, delimiter and headers and suggests a mapping"""
        upload = form["file"]
        limit = _max_bytes()
        content = upload.stream.read(limit + 1)
        session = current_tenant_db()
        try:
            run = create_import(session, object_type=form["object_type"],
                                filename=PurePath(upload.filename or "import.csv").name, content=content,
                                created_by=g.user.id, max_bytes=limit)
        except CsvFileError as error:
            session.rollback()
            raise Problem(413 if len(content) > limit else 422, str(error), errors={"file": [str(error)]}) from error
        except MappingError as error:
            session.rollback()
            raise Problem(422, str(error), errors={"object_type": [str(error)]}) from error
        session.commit()
        return run


@blueprint.route(f"/imports/{_ID}")
class ImportById(MethodView):
    @token_required("read")
    @blueprint.response(200, ImportRunSchema)
    def get(self, run_id: int):
        """An import's status, counts and progress"""
        return _run_or_404(run_id)


@blueprint.route(f"/imports/{_ID}/preview")
class ImportPreview(MethodView):
    @token_required("write")
    @blueprint.arguments(ImportPreviewArgsSchema)
    @blueprint.response(200, ImportPreviewSchema)
    def post(self, args, run_id: int):
        """The first rows as they would be imported with a mapping, each with its problems; writes nothing"""
        run = _run_or_404(run_id)
        session = current_tenant_db()
        try:
            rows = preview_import(session, run, mapping=args.get("mapping"), on_duplicate=args["on_duplicate"],
                                  limit=args["limit"], members=workspace_members(g.tenant.id))
        except MappingError as error:
            raise _mapping_problem(error) from error
        except ImportRunError as error:
            raise Problem(409, str(error)) from error
        finally:
            session.rollback()
        return {"rows": rows}


@blueprint.route(f"/imports/{_ID}/start")
class ImportStart(MethodView):
    @token_required("write")
    @blueprint.arguments(ImportStartSchema)
    @blueprint.response(202, ImportRunSchema)
    def post(self, args, run_id: int):
        """Start the import (or a dry run) in the background; poll the import for progress"""
        run = _run_or_404(run_id)
        session = current_tenant_db()
        try:
            start_import(session, run, mapping=args["mapping"], on_duplicate=args["on_duplicate"],
                         dry_run=args["dry_run"])
        except MappingError as error:
            session.rollback()
            raise _mapping_problem(error) from error
        except ImportRunError as error:
            session.rollback()
            raise Problem(409, str(error)) from error
        session.commit()
        launch_import(current_app._get_current_object(), g.tenant.id, run.id)
        return run


@blueprint.route(f"/imports/{_ID}/errors.csv")
class ImportErrors(MethodView):
    @token_required("read")
    @blueprint.doc(responses={"200": {"description": "The failed rows with their reasons (CSV, UTF-8 with BOM)",
                                      "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, run_id: int):
        """Download the failed rows with the reason for each, as CSV"""
        run = _run_or_404(run_id)
        name = f"{PurePath(run.filename).stem or 'import'}.errors.csv"
        return send_file(io.BytesIO(error_report_download(run)), mimetype="text/csv", as_attachment=True,
                         download_name=name)
