"""Who is signed in: the browser session (per workspace host) or an API token."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kundo.platform.auth.models import User
from kundo.platform.db import db, utcnow
from kundo.platform.security import hash_secret
from kundo.tenants.models import Membership, Role


def _password_fingerprint(user: User) -> str:
    # Changes when the password changes, which signs out every other session.
    return hash_secret(user.password_hash)[:16]


def login_user(user: User) -> None:
    session.clear()
    session["uid"] = user.id
    session["pwf"] = _password_fingerprint(user)
    session.permanent = True
    user.last_login_at = utcnow()


def logout_user() -> None:
    session.clear()


def _load_session_user() -> User | None:
    uid = session.get("uid")
    if not uid:
        return None
    user = db.session.get(User, uid)
    if user is None or session.get("pwf") != _password_fingerprint(user):
        session.clear()
        return None
    return user


def load_membership(tenant_id: int, user_id: int) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    )


def init_app(app: Flask) -> None:
    @app.before_request
    def _load_user():
        g.user = None
        g.membership = None
        g.api_token = None
        if request.path.startswith("/api/"):
            return  # the API authenticates with bearer tokens (kundo.platform.api)
        g.user = _load_session_user()
        tenant = g.get("tenant")
        if g.user is not None and tenant is not None:
            g.membership = load_membership(tenant.id, g.user.id)


def login_required(view):
    """Pages of a workspace need a signed-in member; others are sent to log in."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if g.get("tenant") is not None and g.get("membership") is None:
            abort(403, description=_(
                "You are not a member of this workspace. Ask one of its admins for an invitation."
            ))
        return view(*args, **kwargs)

    return wrapper


def role_required(role: Role | str):
    """At least `role` in the current workspace (owner > admin > member)."""
    needed = Role(role)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            membership = g.get("membership")
            if membership is None or not Role(membership.role).at_least(needed):
                abort(403, description=_("This needs the %(role)s role in this workspace.", role=needed.value))
            return view(*args, **kwargs)

        return wrapper

    return decorator
