"""What the hub's API modules share: service refusals as problem+json, commits, the default pipeline."""

from __future__ import annotations

from flask import abort, g
from flask_babel import gettext as _

from kundo.platform.errors import Problem
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.access import is_member, prepare
from kundo_sales.errors import SalesNotFound, SalesValidationError

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


def tenant_db():
    """The request's tenant session, with the default pipeline made on first use."""
    session = current_tenant_db()
    prepare(session)
    return session


def saved(change):
    """Run a service change; refusals become 422 (fields) or 404, success commits."""
    session = tenant_db()
    try:
        result = change(session)
    except SalesValidationError as error:
        session.rollback()
        raise Problem(422, str(error), errors=error.errors) from error
    except SalesNotFound as error:
        session.rollback()
        abort(404, description=str(error))
    session.commit()
    return result


def found(lookup):
    """Run a read; SalesNotFound becomes a 404."""
    try:
        return lookup(tenant_db())
    except SalesNotFound as error:
        abort(404, description=str(error))


def check_owner(owner_id) -> None:
    if owner_id is None:
        return
    if not is_member(owner_id):
        message = _("The owner must be a member of this workspace. Use a user id from GET /api/v1/members.")
        raise Problem(422, message, errors={"owner_id": [message]})


def me() -> int:
    return g.user.id
