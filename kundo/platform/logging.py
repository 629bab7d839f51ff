"""JSON logs that carry the request id and the tenant of every line."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            tenant = g.get("tenant")
            record.tenant = tenant.slug if tenant is not None else None
        else:
            record.request_id = getattr(record, "request_id", None)
            record.tenant = getattr(record, "tenant", None)
        return True


def configure_logging(app: Flask, *, json_logs: bool) -> None:
    handler = logging.StreamHandler()
    if json_logs:
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s",
                rename_fields={"levelname": "level", "asctime": "time"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(tenant)s %(request_id)s] %(name)s: %(message)s")
        )
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("kundo")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    app.logger.handlers[:] = [handler]


def init_request_id(app: Flask) -> None:
    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response
