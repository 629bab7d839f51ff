"""What every CRM page shares: workspace members, the workspace's clock, form errors.

Page handlers call the services with the request's tenant session and turn the
services' refusals into per-field messages with `field_errors`, so a form shows
each problem next to the input that caused it (custom properties as `custom.<key>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from kundo.crm.companies.errors import CompanyError
from kundo.crm.contacts.errors import ContactError
from kundo.crm.properties.service import PropertyValidationError
from kundo.crm.tasks.service import TaskValidationError
from kundo.crm.timeline.links import LinkError, LinkTargetNotFound
from kundo.crm.timeline.service import ActivityValidationError
from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.tenants.models import Membership, Role
from kundo.tenants.resolution import current_tenant_db
from kundo.tenants.workspace import workspace_zone

#: Refusals a form can show next to its fields.
FORM_REFUSALS = (ContactError, CompanyError, PropertyValidationError, TaskValidationError, ActivityValidationError,
                 LinkError, LinkTargetNotFound)


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    email: str


def members() -> list[Member]:
    """The workspace's members by name (owners of records, tasks and views)."""
    if "crm_members" not in g:
        rows = db.session.execute(
            select(User.id, User.name, User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == g.tenant.id).order_by(User.name)
        ).all()
        g.crm_members = [Member(*row) for row in rows]
    return g.crm_members


def member_names() -> dict[int, str]:
    return {member.user_id: member.name for member in members()}


def member_id(raw) -> int | None:
    """A member's id from a form value; blank is no one, anything else not a member is refused."""
    text = str(raw or "").strip()
    if not text:
        return None
    if text.isdigit() and int(text) in member_names():
        return int(text)
    raise ContactError(_("Choose an owner from the members of this workspace."), field="owner_id")


def is_admin() -> bool:
    return Role(g.membership.role).at_least(Role.ADMIN)


def require_admin() -> None:
    if not is_admin():
        abort(403, description=_("Only admins and owners of this workspace can do this. Ask one of them."))


def zone() -> ZoneInfo:
    """The workspace's time zone: dates on pages and in forms are the team's, not the server's."""
    if "crm_zone" not in g:
        g.crm_zone = workspace_zone(current_tenant_db())
    return g.crm_zone


def local_datetime(raw: str | None, field: str) -> datetime | None:
    """A `datetime-local` (or date) form value read in the workspace's time zone, as UTC."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TaskValidationError({field: [_("Enter a date and time like 2026-03-31 09:30.")]}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(UTC)


def field_errors(error: Exception) -> dict[str, str]:
    """{form field: message} for a service refusal; `form` when no field is named."""
    if isinstance(error, PropertyValidationError):
        return {f"custom.{key}": message for key, message in error.errors.items()}
    if isinstance(error, (TaskValidationError, ActivityValidationError)):
        return {field: " ".join(messages) for field, messages in error.errors.items()}
    if isinstance(error, (ContactError, CompanyError)):
        return {error.field or "form": str(error)}
    if isinstance(error, LinkError):
        return {"links": str(error)}
    return {"form": str(error)}


def custom_values(definitions: dict) -> dict:
    """The custom property inputs of a form (`custom.<key>`), as entered; the service checks them.

    A checkbox that is not ticked sends nothing, so booleans come from a select
    (yes / no / not set) instead, and every key of the form is sent every time.
    """
    return {key: request.form.get(f"custom.{key}", "").strip() or None
            for key in definitions if f"custom.{key}" in request.form}


def split_list(raw: str | None) -> list[str]:
    """Comma- or line-separated values of one input (phones, tags)."""
    return [part.strip() for part in (raw or "").replace("\n", ",").split(",") if part.strip()]


def wants_fragment() -> bool:
    """htmx asked for a piece of the page, not the whole of it."""
    return request.headers.get("HX-Request") == "true"
