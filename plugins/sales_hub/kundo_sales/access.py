"""Who may see which deals, and the workspace facts every page and API call of the hub needs.

A workspace setting (`sales_settings.deal_visibility`) lets members see all deals
("all", the default) or only the deals they own ("own"); admins and owners always see
all. Pages and the API both filter through `visible_deals`, so the rule holds everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g
from sqlalchemy.orm import Session

from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant
from kundo.tenants.service import members_of
from kundo_sales.forecast.models import SalesSettings
from kundo_sales.pipelines.service import ensure_default_pipeline

VISIBILITY = ("all", "own")


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    email: str


def workspace_members() -> list[Member]:
    """The workspace's members by name (deal owners), once per request."""
    if "sales_members" not in g:
        g.sales_members = [Member(m.user_id, m.user.name, m.user.email) for m in members_of(current_tenant())]
    return g.sales_members


def member_names() -> dict[int, str]:
    return {member.user_id: member.name for member in workspace_members()}


def is_member(user_id) -> bool:
    return user_id in member_names()


def is_admin() -> bool:
    membership = g.get("membership")
    return membership is not None and Role(membership.role).at_least(Role.ADMIN)


def settings(session: Session) -> SalesSettings:
    row = session.get(SalesSettings, 1)
    return row if row is not None else SalesSettings(id=1, deal_visibility="all")


def save_visibility(session: Session, value: str) -> SalesSettings:
    row = session.get(SalesSettings, 1) or SalesSettings(id=1)
    row.deal_visibility = value if value in VISIBILITY else "all"
    session.add(row)
    session.flush()
    return row


def own_deals_only(session: Session) -> bool:
    """True when the current user may see only the deals they own."""
    return not is_admin() and settings(session).deal_visibility == "own"


def visible_deals(session: Session, query):
    """Narrow a select() of Deal to what the current user may see."""
    from kundo_sales.deals.models import Deal

    if own_deals_only(session):
        user = g.get("user")
        return query.where(Deal.owner_id == (user.id if user is not None else -1))
    return query


def may_see(session: Session, deal) -> bool:
    user = g.get("user")
    return not own_deals_only(session) or (user is not None and deal.owner_id == user.id)


def workspace_locale() -> str:
    return getattr(current_tenant(), "locale", None) or "en"


def prepare(session: Session) -> None:
    """First use in a workspace: make the default pipeline in the workspace's language."""
    if ensure_default_pipeline(session, workspace_locale()) is not None:
        session.commit()



def workspace_timezone(session: Session) -> str:
    """The workspace's time zone (close months and "today" are the team's, not the server's)."""
    from kundo.tenants.workspace import workspace_zone

    return workspace_zone(session).key

