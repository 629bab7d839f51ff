"""One error format: `application/problem+json` for the API, a friendly page for people."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("kundo.errors")

#: Headers an HTTPException may carry that the answer must keep (Allow on 405,
#: WWW-Authenticate on 401, Retry-After on 429 and 503).
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


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
    """Raise from services or views to answer with a specific status and message.

    `errors` ({field: [message, ...]}) points a client at the fields to fix.
    """

    def __init__(self, status: int, detail: str, title: str | None = None, **extra):
        super().__init__(description=detail)
        self.code = status
        self.title = title
        self.extra = extra


def describe_invalid_request(messages: dict) -> tuple[str, dict]:
    """(detail, errors per field) from webargs' {location: {field: [msg]}} messages.

    Clients fix fields, not locations, so the location level is dropped unless two
    locations name the same field; messages of nested items name their path.
    Messages about the whole body (not valid JSON, not an object) become the detail,
    since no field is to blame.
    """
    errors: dict = {}
    general: list[str] = []
    for location, found in messages.items():
        if not isinstance(found, dict):
            general.extend(found if isinstance(found, list) else [str(found)])
            continue
        for field, field_messages in found.items():
            if field == "_schema":
                general.extend(_messages(field_messages))
                continue
            key = str(field) if field not in errors else f"{location}.{field}"
            errors[key] = _messages(field_messages)
    if general:
        detail = " ".join(general) + " Send a JSON object with the fields this operation documents."
    else:
        detail = f"Check the field{'s' if len(errors) > 1 else ''} {', '.join(map(str, errors))}: see `errors`."
    return detail, errors


def _messages(found, path: str = "") -> list[str]:
    """Messages as plain strings; those of nested items say where they belong
    (`{0: {"object_id": [...]}}` → `"0.object_id: ..."`)."""
    if isinstance(found, dict):
        return [message for key, value in found.items()
                for message in _messages(value, f"{path}.{key}" if path else str(key))]
    items = found if isinstance(found, list) else [found]
    return [f"{path}: {item}" if path else str(item) for item in items]


def handle_http_error(error: HTTPException):
    status = error.code or 500
    title = getattr(error, "title", None) or error.name
    detail = error.description
    extra = dict(getattr(error, "extra", {}) or {})
    # flask-smorest/webargs put validation messages on `data`.
    data = getattr(error, "data", None) or {}
    if isinstance(data, dict) and data.get("messages"):
        detail, errors = describe_invalid_request(data["messages"])
        if errors:
            extra["errors"] = errors
    if wants_problem_json():
        response = problem_response(status, title, detail, **extra)
    else:
        # Werkzeug's stock descriptions are English only; the page has translated ones per status.
        own_detail = None if detail == type(error).description else detail
        response = make_response(
            render_template("errors/error.html", status=status, title=title, detail=own_detail), status)
    for name, value in error.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
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
