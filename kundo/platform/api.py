"""The REST API base: flask-smorest at /api/v1, bearer tokens, problem+json, cursors.

Resources register their blueprints through `api.register_blueprint` in `init_app`.
Every request is authenticated by a personal API token, which belongs to exactly one
workspace; on a workspace host the token must belong to that workspace.
"""

from __future__ import annotations

import base64
import json
from functools import wraps

from flask import Flask, abort, g, request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields, validate

from kundo.platform.security import csrf
from kundo.tenants.models import Role


class KundoApi(Api):
    """flask-smorest's Api with Kundo's one error format (problem+json)."""

    def handle_http_exception(self, error):
        from kundo.platform.errors import handle_http_error

        return handle_http_error(error)


api = KundoApi()


class CursorError(ValueError):
    pass


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as error:
        raise CursorError("The cursor is not valid; start again without it.") from error
    if not isinstance(values, list):
        raise CursorError("The cursor is not valid; start again without it.")
    return values


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           metadata={"description": "Items per page (1–200)."})
    cursor = fields.String(load_default=None, metadata={"description": "`next_cursor` of the previous page."})


def paginate(query, *, key_columns, limit: int, cursor: str | None, session):
    """Keyset pagination over `key_columns` (ascending, unique together).

    Returns (items, next_cursor). Cursors are opaque to clients and survive inserts,
    unlike offsets.
    """
    from sqlalchemy import tuple_

    if cursor:
        try:
            values = decode_cursor(cursor)
        except CursorError as error:
            abort(400, description=str(error))
        if len(values) != len(key_columns):
            abort(400, description="The cursor is not valid; start again without it.")
        query = query.where(tuple_(*key_columns) > tuple_(*values))
    rows = session.scalars(query.order_by(*key_columns).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, column.key) for column in key_columns])
    return rows, next_cursor


def token_required(scope: str = "read", role: Role | str = Role.MEMBER):
    """Authenticate the bearer token and check its scope and the member's role."""
    needed_role = Role(role)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            _authenticate_bearer()
            token = g.api_token
            if scope not in token.scopes and "admin" not in token.scopes:
                abort(403, description=f"This token lacks the `{scope}` scope. Create a token with it.")
            if not Role(g.membership.role).at_least(needed_role):
                abort(403, description=f"This needs the {needed_role.value} role in the workspace.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _authenticate_bearer() -> None:
    from kundo.platform.auth.service import authenticate_api_token
    from kundo.platform.auth.session import load_membership
    from kundo.platform.db import db
    from kundo.tenants.models import Tenant
    from kundo.tenants.resolution import ensure_tenant_usable

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        abort(401, description="Send a personal API token as `Authorization: Bearer <token>`.")
    token = authenticate_api_token(header[len("Bearer "):].strip())
    if token is None:
        abort(401, description="The API token is unknown or revoked.")
    host_tenant = g.get("tenant")
    if host_tenant is not None and host_tenant.id != token.tenant_id:
        abort(404, description="No such workspace for this token.")
    tenant = host_tenant or db.session.get(Tenant, token.tenant_id)
    ensure_tenant_usable(tenant)
    membership = load_membership(tenant.id, token.user_id)
    if membership is None:
        abort(401, description="The token's user is no longer a member of this workspace.")
    db.session.commit()  # persists last_used_at
    g.tenant, g.user, g.membership, g.api_token = tenant, token.user, membership, token


def init_app(app: Flask) -> None:
    api.init_app(app)
    from kundo.platform.api_resources import blueprints

    for blueprint in blueprints():
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    # The API is token-authenticated; CSRF protects cookie-authenticated forms only.
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]


__all__ = ["api", "SmorestBlueprint", "PageArgsSchema", "paginate", "token_required"]
