"""The one timeline: every call, e-mail, meeting, form, invoice … of a workspace.

`log_activity` is the only way in. Hubs and integrations all append through it, so
each activity is checked the same way (its type, its type's payload, its links) and
announced once with `activity.logged`. Integrations that re-sync pass the provider's
id as `external_id`; logging the same id again returns the activity already stored,
even when two workers sync the same item at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import BigInteger, String, column, select, true, tuple_, values
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload

from kundo.crm.companies.models import ContactCompany
from kundo.crm.timeline.links import LinkError, LinkTargetNotFound, check_links
from kundo.crm.timeline.models import Activity, ActivityLink, ActivityType
from kundo.crm.timeline.payloads import clean_payload
from kundo.platform.db import utcnow
from kundo.platform.events import emit_event

ACTIVITY_TYPES = tuple(kind.value for kind in ActivityType)
MAX_TIMELINE_PAGE = 200

__all__ = [
    "ACTIVITY_TYPES", "ActivityValidationError", "LinkError", "LinkTargetNotFound", "TimelinePage",
    "log_activity", "record_activity", "timeline_for",
]


class ActivityValidationError(ValueError):
    """`errors` maps each field to fix (`type`, `subject`, `payload.<key>` …) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class TimelinePage:
    activities: list[Activity]
    #: (occurred_at, id) of the last activity, to pass as `before` for the next page; None on the last page.
    next_before: tuple[datetime, int] | None


def log_activity(
    session: Session,
    activity_type: str,
    *,
    links: Iterable[tuple[str, int]],
    occurred_at: datetime | None = None,
    actor_id: int | None = None,
    subject: str | None = None,
    body: str | None = None,
    payload: dict | None = None,
    source: str = "ui",
    external_id: str | None = None,
) -> Activity:
    """Append an activity to the timelines of `links`; see the module docstring.

    :param links: (object_type, object_id) pairs, e.g. [("contact", 7), ("deal", 3)].
    :raises ActivityValidationError: a bad type, payload or text, naming the field.
    :raises LinkError: malformed links.
    :raises LinkTargetNotFound: a linked contact or company does not exist.
    """
    activity, _created = record_activity(
        session, activity_type, links=links, occurred_at=occurred_at, actor_id=actor_id, subject=subject,
        body=body, payload=payload, source=source, external_id=external_id,
    )
    return activity


def record_activity(session: Session, activity_type: str, *, links, occurred_at=None, actor_id=None, subject=None,
                    body=None, payload=None, source="ui", external_id=None) -> tuple[Activity, bool]:
    """`log_activity`, also saying whether the activity is new (False: external_id was known)."""
    values = _validated(activity_type, occurred_at, subject, body, payload, source, external_id)
    if external_id is not None:
        existing = _by_external_id(session, external_id)
        if existing is not None:
            return existing, False
    links = check_links(session, links)
    if external_id is None:
        activity = Activity(actor_id=actor_id, **values)
        session.add(activity)
        session.flush()
    else:
        # ON CONFLICT DO NOTHING waits for a concurrent insert of the same id to commit
        # or roll back, so exactly one of two racing writers creates the activity.
        new_id = session.scalar(
            insert(Activity).values(actor_id=actor_id, **values)
            .on_conflict_do_nothing(index_elements=[Activity.external_id])
            .returning(Activity.id)
        )
        if new_id is None:
            return _by_external_id(session, external_id), False
        activity = session.get(Activity, new_id)
    session.add_all(ActivityLink(activity_id=activity.id, object_type=t, object_id=i, occurred_at=activity.occurred_at)
                    for t, i in links)
    session.flush()
    session.refresh(activity, ["links"])
    emit_event(
        session, "activity.logged", object_type="activity", object_id=activity.id, actor_id=actor_id,
        payload={"type": activity.type, "source": activity.source, "links": [list(link) for link in links]},
    )
    return activity, True


def _by_external_id(session: Session, external_id: str) -> Activity | None:
    return session.scalar(select(Activity).where(Activity.external_id == external_id)
                          .options(selectinload(Activity.links)))


def _validated(activity_type, occurred_at, subject, body, payload, source, external_id) -> dict:
    errors: dict[str, list[str]] = {}
    if activity_type not in ACTIVITY_TYPES:
        errors["type"] = [_("Use one of the activity types: %(types)s.", types=", ".join(ACTIVITY_TYPES))]
        clean = {}
    else:
        clean, payload_errors = clean_payload(activity_type, payload)
        errors.update(payload_errors)
    for field, value, limit in (("subject", subject, 300), ("source", source, 100), ("external_id", external_id, 200)):
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[field] = [_("Use text of at most %(limit)s characters.", limit=limit)]
    if not source:
        errors["source"] = [_("Say where the activity comes from, e.g. ui, api or email-sync.")]
    if external_id is not None and not (isinstance(external_id, str) and external_id.strip()):
        errors["external_id"] = [_("Leave external_id out, or give the provider's id of the item.")]
    if body is not None and not isinstance(body, str):
        errors["body"] = [_("Use text.")]
    if occurred_at is not None and not isinstance(occurred_at, datetime):
        errors["occurred_at"] = [_("Use a date and time.")]
    if errors:
        raise ActivityValidationError(errors)
    if occurred_at is not None:
        occurred_at = occurred_at.astimezone(UTC) if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    return {
        "type": ActivityType(activity_type).value, "occurred_at": occurred_at or utcnow(), "subject": subject or None,
        "body": body or None, "payload": clean, "source": source, "external_id": external_id,
    }


def timeline_for(
    session: Session,
    object_type: str,
    object_id: int,
    *,
    types: Sequence[str] | None = None,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
    include_company: bool = False,
) -> TimelinePage:
    """The activities linked to one object, newest first, one page at a time.

    :param before: `next_before` of the previous page (keyset pagination: no item is
        skipped or repeated when activities arrive between pages).
    :param include_company: on a contact, add the activities of the contact's
        companies; on a company, add the activities of its contacts.
    """
    if types:
        unknown = [kind for kind in types if kind not in ACTIVITY_TYPES]
        if unknown:
            raise ActivityValidationError({"types": [
                _("Use activity types from: %(types)s.", types=", ".join(ACTIVITY_TYPES))]})
    limit = max(1, min(limit, MAX_TIMELINE_PAGE))
    targets = [(object_type, object_id), *(_related(session, object_type, object_id) if include_company else [])]
    keys = session.execute(_newest_links(targets, types, before, limit + 1)).all()
    by_id = {a.id: a for a in session.scalars(select(Activity).where(Activity.id.in_([k.activity_id for k in keys]))
                                              .options(selectinload(Activity.links)))}
    rows = [by_id[key.activity_id] for key in keys]
    if len(rows) <= limit:
        return TimelinePage(rows, None)
    rows = rows[:limit]
    return TimelinePage(rows, (rows[-1].occurred_at, rows[-1].id))


def _newest_links(targets: list[tuple[str, int]], types, before, count: int):
    """(activity_id, occurred_at) of the newest `count` activities linked to any target.

    Each target reads at most `count` entries of ix_activity_links_timeline (a LATERAL
    per target), so a page costs the same for 20 activities or 200,000, and the plan
    has one shape whatever the targets, which suits PostgreSQL's cached generic plans.
    """
    wanted = values(column("object_type", String), column("object_id", BigInteger), name="targets").data(targets)
    per_target = (select(ActivityLink.activity_id, ActivityLink.occurred_at)
                  .where(ActivityLink.object_type == wanted.c.object_type,
                         ActivityLink.object_id == wanted.c.object_id))
    if types:
        per_target = per_target.join(Activity, Activity.id == ActivityLink.activity_id).where(
            Activity.type.in_(list(types)))
    if before is not None:
        per_target = per_target.where(tuple_(ActivityLink.occurred_at, ActivityLink.activity_id) < tuple_(*before))
    newest = (per_target.order_by(ActivityLink.occurred_at.desc(), ActivityLink.activity_id.desc())
              .limit(count).lateral("newest"))
    # An activity linked to a contact and its company is listed once.
    return (select(newest.c.activity_id, newest.c.occurred_at).select_from(wanted).join(newest, true()).distinct()
            .order_by(newest.c.occurred_at.desc(), newest.c.activity_id.desc()).limit(count))


def _related(session: Session, object_type: str, object_id: int) -> list[tuple[str, int]]:
    if object_type == "contact":
        ids = session.scalars(select(ContactCompany.company_id).where(ContactCompany.contact_id == object_id))
        return [("company", company_id) for company_id in ids]
    if object_type == "company":
        ids = session.scalars(select(ContactCompany.contact_id).where(ContactCompany.company_id == object_id))
        return [("contact", contact_id) for contact_id in ids]
    return []
