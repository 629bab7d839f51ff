"""One error format: `application/problem+json` for the API, a friendly page for people."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("kundo.errors")


def wants_problem_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem_response(status: int, title: str, detail: str | None = None, **extra):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if g.get("request_id"):
        body["request_id"] = g.request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


class Problem(HTTPException):
    """Raise from services or views to answer with a specific status and message."""

    def __init__(self, status: int, detail: str, title: str | None = None, **extra):
        super().__init__(description=detail)
        self.code = status
        self.title = title
        self.extra = extra


def handle_http_error(error: HTTPException):
    status = error.code or 500
    title = getattr(error, "title", None) or error.name
    detail = error.description
    extra = dict(getattr(error, "extra", {}) or {})
    # flask-smorest/webargs put validation messages on `data`.
    data = getattr(error, "data", None) or {}
    if isinstance(data, dict) and data.get("messages"):
        extra["errors"] = data["messages"]
        detail = "The request has invalid fields; see `errors` for each one."
    if wants_problem_json():
        response = problem_response(status, title, detail, **extra)
    else:
        response = (
            render_template("errors/error.html", status=status, title=title,
                            # Werkzeug's stock descriptions are English only; the page translates per status.
                            detail=None if detail == type(error).description else detail),
            status,
        )
    if status == 429:
        # Flask-Limiter passes its headers through the exception's response.
        retry = getattr(error, "retry_after", None)
        if retry and not isinstance(response, tuple):
            response.headers["Retry-After"] = str(retry)
    return response


def _unexpected_error(error: Exception):
    log.exception("unhandled error", exc_info=error)
    return handle_http_error(
        InternalServerError("Something went wrong on our side. The request id helps support find it.")
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    if not app.config.get("TESTING"):
        app.register_error_handler(Exception, _unexpected_error)
