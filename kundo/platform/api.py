"""The REST API base: flask-smorest at /api/v1, bearer tokens, problem+json, rate limits.

Resources register their blueprints through `kundo.platform.api_resources`. Every
request is authenticated by a personal API token, which belongs to exactly one
workspace; on a workspace host the token must belong to that workspace, on the root
host it picks its workspace itself.
"""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from flask import Flask, abort, current_app, g, request
from flask_smorest import Api
from werkzeug.datastructures import WWWAuthenticate

from kundo.platform.api_pagination import PageArgsSchema, paginate
from kundo.platform.api_schemas import ProblemSchema
from kundo.platform.security import csrf, limiter
from kundo.tenants.models import Role

PROBLEM_CONTENT_TYPE = "application/problem+json"
DEFAULT_API_RATE_LIMIT = "600 per minute"

#: Scopes nest: a token with `write` may also read, one with `admin` may do anything.
SCOPE_RANKS = {"read": 1, "write": 2, "admin": 3}


class KundoApi(Api):
    """flask-smorest's Api with Kundo's one error format (problem+json) in code and docs."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        # flask-smorest registers this for every HTTPException of the app, replacing
        # Kundo's handler; delegating keeps a single error format.
        from kundo.platform.errors import handle_http_error

        return handle_http_error(error)

    def _register_responses(self):
        """Document every error response as problem+json instead of smorest's own format."""
        problem = {"content": {PROBLEM_CONTENT_TYPE: {"schema": self.ERROR_SCHEMA}}}
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response.update(problem)
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME, {"description": "An error, as RFC 9457 problem details", **problem},
            lazy=True,
        )


def _api_rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_API_RATE_LIMIT)


def _api_rate_key() -> str:
    """One bucket per token (by its public prefix), else per client address."""
    parts = _bearer_value().split("_", 2)
    if len(parts) == 3 and parts[0] == "kundo" and parts[1]:
        return f"api-token:{parts[1]}"
    return f"api-addr:{request.remote_addr}"


#: One limit shared by every API blueprint; created once so registering the same
#: blueprints in a second app (tests) does not add the limit twice.
_shared_api_limit = limiter.shared_limit(
    _api_rate_limit, scope="api", key_func=_api_rate_key,
    error_message="Too many API requests. Wait until the time in Retry-After and try again.",
)


def _bearer_value() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(detail: str):
    abort(401, description=detail,
          www_authenticate=WWWAuthenticate("bearer", {"realm": "Kundo API"}))


def token_required(scope: str = "read", role: Role | str = Role.MEMBER):
    """Authenticate the bearer token, then check its scope and the member's role.

    Adds the requirement to the route's OpenAPI description, so the docs say what a
    token needs.
    """
    needed_role = Role(role)
    needed_rank = SCOPE_RANKS[scope]

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            _authenticate_bearer()
            token_rank = max((SCOPE_RANKS.get(s, 0) for s in g.api_token.scopes), default=0)
            if token_rank < needed_rank:
                abort(403, description=f"This token lacks the `{scope}` scope. Create a token with it.")
            if not Role(g.membership.role).at_least(needed_role):
                abort(403, description=f"This needs the {needed_role.value} role in the workspace.")
            return view(*args, **kwargs)

        needs = f"Needs a token with the `{scope}` scope"
        if needed_role != Role.MEMBER:
            needs += f" and the {needed_role.value} role (or higher) in the workspace"
        wrapper.__doc__ = f"{(view.__doc__ or '').strip()}\n\n{needs}."
        return wrapper

    return decorator


def _authenticate_bearer() -> None:
    from kundo.platform.auth.service import authenticate_api_token
    from kundo.platform.auth.session import load_membership
    from kundo.platform.db import db
    from kundo.tenants.models import Tenant
    from kundo.tenants.resolution import ensure_tenant_usable

    raw = _bearer_value()
    if not raw:
        _unauthorized("Send a personal API token as `Authorization: Bearer <token>`.")
    token = authenticate_api_token(raw)
    if token is None:
        _unauthorized("The API token is unknown or revoked. Create a new one under Account → API tokens.")
    host_tenant = g.get("tenant")
    if host_tenant is not None and host_tenant.id != token.tenant_id:
        # Not 403: a token must not even learn that another workspace exists here.
        abort(404, description="No such workspace for this token. Use the token on its own workspace's address.")
    # No autoflush: a new last_used_at (written at most once a minute) stays visibly
    # dirty, so only then is there a commit. Committing on every request expired the
    # token, tenant and membership, and reloading them cost four queries per API call.
    with db.session.no_autoflush:
        tenant = host_tenant or db.session.get(Tenant, token.tenant_id)
        ensure_tenant_usable(tenant)
        membership = load_membership(tenant.id, token.user_id)
    if membership is None:
        _unauthorized("The token's user is no longer a member of this workspace.")
    if db.session.dirty:
        db.session.commit()  # persists last_used_at
    g.tenant, g.user, g.membership, g.api_token = tenant, token.user, membership, token


def register_api_blueprint(api: KundoApi, blueprint, **options) -> None:
    """Register an API blueprint like every other (the plugin host mounts plugins' through this)."""
    # The API is token-authenticated; CSRF protects cookie-authenticated forms only.
    csrf.exempt(blueprint)
    _shared_api_limit(blueprint)
    api.register_blueprint(blueprint, **options)


def init_app(app: Flask) -> KundoApi:
    """Create this app's Api (one per app: flask-smorest keeps the app and spec on it)."""
    api = KundoApi(app)
    from kundo.platform.api_resources import blueprints

    for blueprint in blueprints():
        register_api_blueprint(api, blueprint)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer",
                   "description": "A personal API token `kundo_<prefix>_<secret>` (Account → API tokens)."},
    )
    api.spec.options["security"] = [{"bearer": []}]
    app.extensions["kundo.api"] = api
    return api


__all__ = ["KundoApi", "PageArgsSchema", "init_app", "paginate", "register_api_blueprint", "token_required"]
