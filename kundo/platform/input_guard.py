"""Refuse text with NUL characters before it reaches a service.

PostgreSQL cannot store U+0000 in text or JSONB; without this guard such input got as far
as the INSERT and ended in a 500. One check at the door answers every form, query string
and JSON body with a 422 that names the field, instead of a check in every schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _

from kundo.platform.errors import Problem

NUL = "\x00"


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            label = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield label
            yield from _nul_paths(item, label)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}" if path else str(index))


def _first_nul_field() -> str | None:
    for source in (request.args, request.form):
        for key, values in source.lists():
            if NUL in key or any(NUL in value for value in values):
                return key
    if request.is_json:
        body = request.get_json(silent=True)
        return next(_nul_paths(body, ""), None) if body is not None else None
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters():
        field = _first_nul_field()
        if field is not None:
            message = _("Text may not contain NUL characters (\\u0000). Remove them and send it again.")
            raise Problem(422, message, errors={field or "body": [message]})
