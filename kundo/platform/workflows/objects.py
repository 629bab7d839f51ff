"""The enrolled object as conditions and merge fields see it: a flat mapping of properties.

Workflows look at an object's *current* properties (loaded through the CRM's models when
the step runs), not at a snapshot from the event, so a delay followed by a branch decides
on what is true then. For tasks and activities the contact they are about is the one
e-mail, tag and property actions act on (`related_contact_id`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundo.crm import Company, Contact
from kundo.crm.tasks.models import Task, TaskLink
from kundo.crm.timeline.models import Activity, ActivityLink

#: Properties offered in the builder per object type (custom.<key> comes on top).
STANDARD_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "last_name", "email", "job_title", "lifecycle_stage", "lead_status", "source",
                "tags", "owner_id", "consent_status", "created_at"),
    "company": ("name", "domain", "industry", "size", "city", "country", "owner_id", "created_at"),
    "task": ("title", "type", "due_at", "owner_id", "done", "created_at"),
    "activity": ("type", "source", "subject", "occurred_at"),
}


def contact_properties(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id, "first_name": contact.first_name, "last_name": contact.last_name, "name": contact.name,
        "email": contact.primary_email, "job_title": contact.job_title, "lifecycle_stage": contact.lifecycle_stage,
        "lead_status": contact.lead_status, "source": contact.source, "tags": list(contact.tags or []),
        "owner_id": contact.owner_id, "consent_status": contact.consent_status,
        "created_at": contact.created_at.isoformat() if contact.created_at else None,
        "lifecycle_dates": dict(contact.lifecycle_dates or {}), "custom": dict(contact.custom or {}),
    }


def company_properties(company: Company) -> dict[str, Any]:
    return {
        "id": company.id, "name": company.name, "domain": company.domain, "industry": company.industry,
        "size": company.size, "city": company.city, "country": company.country, "owner_id": company.owner_id,
        "created_at": company.created_at.isoformat() if company.created_at else None,
        "custom": dict(company.custom or {}),
    }


def object_properties(session: Session, object_type: str, object_id: int) -> dict[str, Any] | None:
    """The object's current properties, or None when it no longer exists (or is not a core object)."""
    if object_type == "contact":
        contact = session.get(Contact, object_id)
        return contact_properties(contact) if contact is not None and contact.erased_at is None else None
    if object_type == "company":
        company = session.get(Company, object_id)
        return company_properties(company) if company is not None else None
    if object_type == "task":
        task = session.get(Task, object_id)
        if task is None:
            return None
        return {"id": task.id, "title": task.title, "type": task.type, "owner_id": task.owner_id,
                "due_at": task.due_at.isoformat() if task.due_at else None, "done": task.done_at is not None,
                "created_at": task.created_at.isoformat() if task.created_at else None}
    if object_type == "activity":
        activity = session.get(Activity, object_id)
        if activity is None:
            return None
        return {"id": activity.id, "type": activity.type, "source": activity.source, "subject": activity.subject,
                "occurred_at": activity.occurred_at.isoformat() if activity.occurred_at else None}
    return None


def related_contact_id(session: Session, object_type: str, object_id: int) -> int | None:
    """The contact an action about this object acts on: itself, or the first contact a task/activity links."""
    if object_type == "contact":
        return object_id
    if object_type == "task":
        return session.scalar(select(TaskLink.object_id).where(
            TaskLink.task_id == object_id, TaskLink.object_type == "contact").order_by(TaskLink.object_id).limit(1))
    if object_type == "activity":
        return session.scalar(select(ActivityLink.object_id).where(
            ActivityLink.activity_id == object_id, ActivityLink.object_type == "contact")
            .order_by(ActivityLink.object_id).limit(1))
    return None


def merge_context(session: Session, object_type: str, object_id: int, workspace_name: str | None = None) -> dict:
    """What e-mail templates and task titles may use: {{ contact.first_name }}, {{ company.name }}, {{ object.* }}."""
    context: dict[str, Any] = {"object": object_properties(session, object_type, object_id) or {},
                               "workspace": {"name": workspace_name or ""}}
    contact_id = related_contact_id(session, object_type, object_id)
    contact = session.get(Contact, contact_id) if contact_id else None
    context["contact"] = contact_properties(contact) if contact is not None else {}
    company = None
    if object_type == "company":
        company = session.get(Company, object_id)
    elif contact is not None and contact.primary_company_id:
        company = session.get(Company, contact.primary_company_id)
    context["company"] = company_properties(company) if company is not None else {}
    return context
