"""GDPR: hand a person everything Kundo holds about them, or erase it.

`export_contact` answers an access request (Art. 15) or a portability request
(Art. 20) with one JSON document. `erase_contact` answers an erasure request
(Art. 17): the contact row stays, anonymous, so reports, deals and company
timelines keep their counts; what identified the person goes. The audit entry is
the caller's job, because it belongs to the control-plane transaction; the result
says what to record, and records no personal data itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import String, cast, delete, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.errors import ContactNotFound
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.gdpr.scrubbing import Scrubber
from kundo.crm.properties.service import definitions_for
from kundo.crm.tasks.models import Task, TaskLink
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.platform.db import utcnow
from kundo.platform.events import OutboxEvent, emit_event

EXPORT_FORMAT = "kundo.contact-export/1"
ERASED_PAYLOAD = {"erased": True}

__all__ = ["ContactNotFound", "ErasureResult", "erase_contact", "export_contact"]


# ---- export --------------------------------------------------------------------------------


def export_contact(session: Session, contact_id: int) -> dict:
    """Everything about one contact as JSON-ready data: the record, addresses, phones,
    companies, custom values, consent and its history, timeline, tasks and events."""
    contact = session.scalar(select(Contact).where(Contact.id == contact_id).options(selectinload(Contact.emails)))
    if contact is None:
        raise ContactNotFound(contact_id)
    activities = _activities_of(session, contact_id)
    tasks = _tasks_of(session, contact_id)
    definitions = definitions_for(session, "contact")
    return _jsonable({
        "format": EXPORT_FORMAT,
        "exported_at": utcnow(),
        "contact": {
            "id": contact.id, "first_name": contact.first_name, "last_name": contact.last_name,
            "job_title": contact.job_title, "owner_id": contact.owner_id,
            "primary_company_id": contact.primary_company_id, "lifecycle_stage": contact.lifecycle_stage,
            "lifecycle_dates": contact.lifecycle_dates, "lead_status": contact.lead_status, "source": contact.source,
            "tags": contact.tags, "created_at": contact.created_at, "updated_at": contact.updated_at,
            "erased_at": contact.erased_at,
        },
        "emails": [{"email": row.email, "is_primary": row.is_primary} for row in contact.emails],
        "phones": contact.phones,
        "companies": [
            {"id": company.id, "name": company.name, "domain": company.domain, "role": link.role,
             "is_primary": link.is_primary, "linked_at": link.created_at}
            for company, link in session.execute(
                select(Company, ContactCompany).join(ContactCompany, ContactCompany.company_id == Company.id)
                .where(ContactCompany.contact_id == contact_id).order_by(Company.id))
        ],
        "custom_values": [
            {"key": key, "label": definitions[key].label if key in definitions else key, "value": value}
            for key, value in sorted(contact.custom.items())
        ],
        "consent": {
            "status": contact.consent_status, "at": contact.consent_at, "source": contact.consent_source,
            "history": [_activity_export(a) for a in activities if (a.payload or {}).get("kind") == "consent"],
        },
        "activities": [_activity_export(activity) for activity in activities],
        "tasks": [_task_export(task) for task in tasks],
        "events": [
            {"id": e.id, "type": e.type, "object_type": e.object_type, "object_id": e.object_id,
             "occurred_at": e.occurred_at, "actor_id": e.actor_id, "payload": e.payload}
            for e in _events_about(session, contact_id, [a.id for a in activities], [t.id for t in tasks])
        ],
    })


def _activities_of(session: Session, contact_id: int) -> list[Activity]:
    linked = select(ActivityLink.activity_id).where(ActivityLink.object_type == "contact",
                                                    ActivityLink.object_id == contact_id)
    return list(session.scalars(select(Activity).where(Activity.id.in_(linked))
                                .options(selectinload(Activity.links))
                                .order_by(Activity.occurred_at, Activity.id)))


def _tasks_of(session: Session, contact_id: int) -> list[Task]:
    linked = select(TaskLink.task_id).where(TaskLink.object_type == "contact", TaskLink.object_id == contact_id)
    return list(session.scalars(select(Task).where(Task.id.in_(linked)).options(selectinload(Task.links))
                                .order_by(Task.id)))


def _events_about(session: Session, contact_id: int, activity_ids: list[int], task_ids: list[int]):
    about = [("contact", contact_id), *(("activity", i) for i in activity_ids), *(("task", i) for i in task_ids)]
    return session.scalars(select(OutboxEvent)
                           .where(tuple_(OutboxEvent.object_type, OutboxEvent.object_id).in_(about))
                           .order_by(OutboxEvent.id))


def _activity_export(activity: Activity) -> dict:
    return {
        "id": activity.id, "type": activity.type, "occurred_at": activity.occurred_at, "actor_id": activity.actor_id,
        "subject": activity.subject, "body": activity.body, "payload": activity.payload, "source": activity.source,
        "external_id": activity.external_id, "created_at": activity.created_at,
        "links": [{"object_type": link.object_type, "object_id": link.object_id} for link in activity.links],
    }


def _task_export(task: Task) -> dict:
    return {
        "id": task.id, "title": task.title, "type": task.type, "notes": task.notes, "due_at": task.due_at,
        "reminder_at": task.reminder_at, "owner_id": task.owner_id, "done_at": task.done_at,
        "created_at": task.created_at,
        "links": [{"object_type": link.object_type, "object_id": link.object_id} for link in task.links],
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# ---- erasure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    contact_id: int
    erased_at: datetime
    #: True when the contact had been erased before: nothing changed this time.
    already_erased: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def audit(self) -> dict:
        """Keyword arguments for `record_audit`: ids and counts, never personal data."""
        return {"action": "contact.erased", "target": f"contact:{self.contact_id}", "data": dict(self.counts)}


def erase_contact(session: Session, contact_id: int, *, actor_id: int | None) -> ErasureResult:
    """Remove the personal data of one contact from its record, its timeline, its tasks
    and the event outbox; see the module docstring. Erasing again changes nothing."""
    contact = session.scalar(select(Contact).where(Contact.id == contact_id).with_for_update()
                             .options(selectinload(Contact.emails)))
    if contact is None:
        raise ContactNotFound(contact_id)
    if contact.erased_at is not None:
        return ErasureResult(contact_id, contact.erased_at, already_erased=True)
    emails = [row.email for row in contact.emails]
    full_name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    scrubber = Scrubber(words=[full_name, contact.first_name, contact.last_name, contact.job_title],
                        literals=[*emails, *contact.phones, *contact.phone_digits.split()])
    activities = _activities_of(session, contact_id)
    tasks = _tasks_of(session, contact_id)
    counts = {
        **_erase_from_timeline(session, contact_id, activities, scrubber),
        "tasks_scrubbed": _scrub_tasks(tasks, scrubber),
        "events_scrubbed": _scrub_events(session, contact_id, activities, tasks, scrubber, emails),
        "emails_deleted": len(emails),
    }
    session.execute(delete(ContactEmail).where(ContactEmail.contact_id == contact_id))
    session.expire(contact, ["emails"])
    contact.first_name = contact.last_name = contact.job_title = None
    contact.phones, contact.phone_digits = [], ""
    contact.custom, contact.tags = {}, []
    contact.consent_source = None
    contact.erased_at = utcnow()
    session.flush()
    # Hubs listen for this to erase what they keep about the person (deal notes, tickets …).
    emit_event(session, "contact.erased", object_type="contact", object_id=contact_id, actor_id=actor_id,
               payload=dict(ERASED_PAYLOAD))
    return ErasureResult(contact_id, contact.erased_at, already_erased=False, counts=counts)


def _erase_from_timeline(session: Session, contact_id: int, activities: list[Activity], scrubber: Scrubber) -> dict:
    blanked = unlinked = 0
    for activity in activities:
        shared = any(link.object_type == "contact" and link.object_id != contact_id for link in activity.links)
        if shared:
            # The others' record of the conversation stays, without this person in it.
            session.execute(delete(ActivityLink).where(
                ActivityLink.activity_id == activity.id, ActivityLink.object_type == "contact",
                ActivityLink.object_id == contact_id))
            activity.subject = scrubber.text(activity.subject)
            activity.body = scrubber.text(activity.body)
            activity.payload = scrubber.json(activity.payload)
            unlinked += 1
        else:
            # Type and time stay, so activity counts and reports still add up.
            activity.subject = activity.body = None
            activity.payload = {}
            blanked += 1
        if scrubber.mentions(activity.external_id):
            activity.external_id = f"erased:{activity.id}"
    session.flush()
    return {"activities_blanked": blanked, "activities_unlinked": unlinked}


def _scrub_tasks(tasks: list[Task], scrubber: Scrubber) -> int:
    for task in tasks:
        task.title = scrubber.text(task.title)
        task.notes = scrubber.text(task.notes)
    return len(tasks)


def _scrub_events(session: Session, contact_id: int, activities: list[Activity], tasks: list[Task],
                  scrubber: Scrubber, emails: list[str]) -> int:
    """Events about the contact lose their payload; events about its activities and tasks,
    and any other event naming one of its addresses (a merge, a hub's event), are scrubbed."""
    scrubbed = 0
    related = {e.id: e for e in _events_about(session, contact_id, [a.id for a in activities], [t.id for t in tasks])}
    if emails:
        mentioning = or_(*(cast(OutboxEvent.payload, String).ilike(f"%{_like_escaped(e)}%") for e in emails))
        related.update((e.id, e) for e in session.scalars(select(OutboxEvent).where(mentioning)))
    for event in related.values():
        if event.object_type == "contact" and event.object_id == contact_id:
            event.payload = dict(ERASED_PAYLOAD)
        else:
            event.payload = scrubber.json(event.payload)
        scrubbed += 1
    return scrubbed


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
