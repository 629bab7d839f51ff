"""Shared pieces of the hub's API: refusals as problem+json, commit on success."""

from __future__ import annotations

from flask import abort

from kundo.platform.errors import Problem
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.errors import SalesNotFound, SalesValidationError

ID = "int(max=9223372036854775807)"


def saved(change):
    """Run `change(session)`; a SalesValidationError is a 422 naming the fields, SalesNotFound a 404."""
    session = current_tenant_db()
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
    try:
        return lookup(current_tenant_db())
    except SalesNotFound as error:
        abort(404, description=str(error))
