"""The CRM figures the dashboard shows: how many contacts and companies, and my open tasks.

Counts stop at COUNT_CAP, so the dashboard of a workspace with a million contacts
costs a bounded index scan, not a full count, and says "10,000+".
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g
from sqlalchemy import func, select

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact
from kundo.crm.tasks.models import Task
from kundo.platform.db import utcnow
from kundo.tenants.resolution import current_tenant_db

COUNT_CAP = 10_000


@dataclass(frozen=True)
class CrmSummary:
    contacts: int
    companies: int
    open_tasks: int
    overdue_tasks: int
    cap: int = COUNT_CAP


def _capped(session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.limit(COUNT_CAP + 1).subquery()))


def crm_summary() -> CrmSummary:
    """The signed-in member's figures in the current workspace."""
    session = current_tenant_db()
    mine = select(Task.id).where(Task.owner_id == g.user.id, Task.done_at.is_(None))
    return CrmSummary(
        contacts=_capped(session, select(Contact.id).where(Contact.erased_at.is_(None))),
        companies=_capped(session, select(Company.id)),
        open_tasks=_capped(session, mine),
        overdue_tasks=_capped(session, mine.where(Task.due_at < utcnow())),
    )
