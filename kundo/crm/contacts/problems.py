"""One way for the contacts, companies, matching and properties APIs to run a service call.

`tenant_work` hands out the request's tenant session, commits when asked, rolls back
on any error, and turns the services' refusals into problem+json answers: wrong
input → 422 naming the field, taken e-mails and domains → 409 naming the record that
has them, unknown ids → 404.

Like every Kundo problem, `errors` is keyed by the request's top-level fields; a
message about a nested item starts with its path, so a custom property's refusal is
`{"custom": ["budget: Expected a number …"]}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from flask_babel import gettext as _

from kundo.crm.companies.errors import CompanyError, CompanyNotFound, DuplicateDomainError
from kundo.crm.contacts.errors import ContactError, ContactNotFound, DuplicateEmailError, MergeError
from kundo.crm.properties.service import PropertyInUseError, PropertyNotFound, PropertyValidationError
from kundo.platform.errors import Problem
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.service import get_member
from kundo.tenants.session import TenantSession


def field_errors(field: str | None, message: str, within: str | None = None) -> dict[str, list[str]]:
    """{top-level field: [message]}; a dotted service field (`consent.source`) becomes
    `{"consent": ["source: …"]}`, or `{"source": [...]}` when the request body is `within` it."""
    field = field or "body"
    if within and field.startswith(f"{within}."):
        field = field[len(within) + 1:]
    key, _dot, path = field.partition(".")
    return {key: [f"{path}: {message}" if path else message]}


def problem_for(error: Exception, *, properties_field: str | None = "custom", within: str | None = None,
                missing_as: dict | None = None) -> Problem:
    """The API answer for a service refusal; see the module docstring.

    :param properties_field: the request field holding custom values (None: the keys are request fields).
    :param within: the request body is this nested service field (POST …/consent is `consent`).
    :param missing_as: {CompanyNotFound: "company_id"} makes an unknown id sent in a field a 422 on it.
    """
    for kind, field in (missing_as or {}).items():
        if isinstance(error, kind):
            return Problem(422, str(error), errors={field: [str(error)]})
    if isinstance(error, PropertyValidationError):
        if properties_field is None:
            errors = {key: [message] for key, message in error.errors.items()}
        else:
            errors = {properties_field: [f"{key}: {message}" for key, message in error.errors.items()]}
        return Problem(422, _("Check the properties %(keys)s: see `errors`.", keys=", ".join(error.errors)),
                       errors=errors)
    if isinstance(error, DuplicateEmailError):
        return Problem(409, str(error), errors={"emails": [str(error)]})
    if isinstance(error, DuplicateDomainError):
        return Problem(409, str(error), errors={"domain": [str(error)]})
    if isinstance(error, (ContactError, CompanyError)):
        return Problem(422, str(error), errors=field_errors(error.field, str(error), within))
    if isinstance(error, (ContactNotFound, CompanyNotFound, PropertyNotFound)):
        return Problem(404, str(error))
    if isinstance(error, MergeError):
        return Problem(422, str(error), errors={"merge_id": [str(error)]})
    if isinstance(error, PropertyInUseError):
        return Problem(409, str(error))
    raise TypeError(f"no problem for {type(error).__name__}")


_REFUSALS = (PropertyValidationError, ContactError, CompanyError, ContactNotFound, CompanyNotFound, MergeError,
             PropertyNotFound, PropertyInUseError)


@contextmanager
def tenant_work(*, commit: bool = True, **problem_options) -> Iterator[TenantSession]:
    """The request's tenant session for one service call; `problem_options` go to `problem_for`."""
    session = current_tenant_db()
    try:
        yield session
        if commit:
            session.commit()
    except _REFUSALS as error:
        session.rollback()
        raise problem_for(error, **problem_options) from error
    except BaseException:
        session.rollback()
        raise


def check_owner(owner_id: int | None) -> None:
    """Owners are members of this workspace (control plane), so no foreign key can check them."""
    if owner_id is None:
        return
    try:
        get_member(g.tenant, owner_id)
    except LookupError:
        message = _("No member with id %(id)s in this workspace. Use the id of a member (GET /api/v1/members).",
                    id=owner_id)
        raise Problem(422, message, errors={"owner_id": [message]}) from None


def actor_id() -> int:
    return g.user.id
