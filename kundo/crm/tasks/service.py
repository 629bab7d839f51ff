"""Tasks: what a person has to do next (call back, send the quote), and when.

"Today" is the workspace's day, not the server's: a sales team in Berlin expects a
task due at 00:30 local time on its list for that day, even while it is still the
previous day in UTC. `emit_due_tasks` is called periodically by the jobs system and
announces each task's due time exactly once (`due_notified_at`), however often it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from kundo.crm.tasks.models import Task, TaskLink, TaskType
from kundo.crm.tasks.reminders import cancel_task_timers, sync_task_timers, timer_keys
from kundo.crm.timeline.links import LinkError, LinkTargetNotFound, check_links
from kundo.platform.db import utcnow
from kundo.platform.events import emit_event
from kundo.tenants.workspace import workspace_zone

TASK_TYPES = tuple(kind.value for kind in TaskType)
#: Sort key of tasks without a due date: after every dated one.
NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)
EDITABLE = ("title", "type", "notes", "due_at", "reminder_at", "owner_id", "links")
MAX_BUCKET = 100

__all__ = [
    "LinkError", "LinkTargetNotFound", "TaskValidationError", "complete_task", "create_task", "delete_task",
    "emit_due_tasks", "get_task", "list_tasks", "my_tasks", "reopen_task", "tasks_for", "update_task",
    "workspace_day",
]


class TaskValidationError(ValueError):
    """`errors` maps each field to fix to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


class TaskNotFound(LookupError):
    pass


@dataclass(frozen=True)
class WorkspaceDay:
    """The workspace's current day as UTC instants: [start, end)."""

    start: datetime
    end: datetime


def workspace_day(session: Session, now: datetime) -> WorkspaceDay:
    """Today in the workspace's time zone, around `now`."""
    zone = workspace_zone(session)
    local_date = _aware(now).astimezone(zone).date()
    # Midnight is built per date (not now + 24 h), so days with a DST switch are 23 or 25 h long.
    start = datetime.combine(local_date, time.min, tzinfo=zone)
    end = datetime.combine(local_date + timedelta(days=1), time.min, tzinfo=zone)
    return WorkspaceDay(start.astimezone(UTC), end.astimezone(UTC))


def create_task(
    session: Session,
    *,
    title: str,
    type: str = "todo",  # noqa: A002 - the field's name everywhere else
    due_at: datetime | None = None,
    reminder_at: datetime | None = None,
    owner_id: int | None = None,
    notes: str | None = None,
    links: Iterable[tuple[str, int]] = (),
    created_by: int | None = None,
) -> Task:
    """Create a task (owner_id: a workspace member, checked by the caller) and emit task.created.

    :raises TaskValidationError: naming the fields to fix.
    :raises LinkError / LinkTargetNotFound: bad links, or links to missing contacts/companies.
    """
    values = _validated({"title": title, "type": type, "due_at": due_at, "reminder_at": reminder_at,
                         "notes": notes, "owner_id": owner_id})
    links = check_links(session, links, required=False)
    task = Task(created_by=created_by, **values)
    task.links = [TaskLink(object_type=t, object_id=i) for t, i in links]
    session.add(task)
    session.flush()
    emit_event(session, "task.created", object_type="task", object_id=task.id, actor_id=created_by,
               payload=_event_payload(task))
    sync_task_timers(session, task)
    return task


def get_task(session: Session, task_id: int) -> Task:
    task = session.scalar(select(Task).where(Task.id == task_id).options(selectinload(Task.links)))
    if task is None:
        raise TaskNotFound(task_id)
    return task


def update_task(session: Session, task: Task, changes: dict) -> Task:
    """Apply `changes` (any of EDITABLE); a new due time re-arms the task.due announcement."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TaskValidationError({key: [_("This field cannot be changed.")] for key in sorted(unknown)})
    current = {key: getattr(task, key) for key in ("title", "type", "due_at", "reminder_at", "notes", "owner_id")}
    values = _validated({**current, **{k: v for k, v in changes.items() if k != "links"}})
    if "links" in changes:
        links = check_links(session, changes["links"], required=False)
        kept = {(link.object_type, link.object_id): link for link in task.links}
        task.links = [kept.get(key) or TaskLink(object_type=key[0], object_id=key[1]) for key in links]
    if values["due_at"] != task.due_at:
        task.due_notified_at = None
    previous_keys = timer_keys(task)
    for key, value in values.items():
        setattr(task, key, value)
    session.flush()
    sync_task_timers(session, task, previous_keys=previous_keys)
    return task


def complete_task(session: Session, task: Task, *, actor_id: int | None = None, now: datetime | None = None) -> Task:
    """Mark done and emit task.completed; completing a done task changes nothing."""
    if task.done_at is None:
        task.done_at = _aware(now) if now else utcnow()
        emit_event(session, "task.completed", object_type="task", object_id=task.id, actor_id=actor_id,
                   payload=_event_payload(task))
        session.flush()
        sync_task_timers(session, task)  # done tasks neither remind nor fall due
    return task


def reopen_task(session: Session, task: Task) -> Task:
    task.done_at = None
    session.flush()
    sync_task_timers(session, task)
    return task


def delete_task(session: Session, task: Task) -> None:
    cancel_task_timers(session, task)
    session.delete(task)
    session.flush()


def my_tasks(session: Session, owner_id: int, *, now: datetime, limit: int = MAX_BUCKET) -> dict[str, list[Task]]:
    """A member's open tasks: overdue (due before now), today (the rest of the workspace's
    day) and upcoming (later, then those without a due date), each soonest first."""
    now = _aware(now)
    day = workspace_day(session, now)
    base = (select(Task).where(Task.owner_id == owner_id, Task.done_at.is_(None))
            .options(selectinload(Task.links)).limit(limit))
    # due_at's own order (NULLS LAST) lets ix_tasks_open_by_owner deliver the rows sorted.
    sort = (Task.due_at.asc().nulls_last(), Task.id)
    return {
        "overdue": list(session.scalars(base.where(Task.due_at < now).order_by(*sort))),
        "today": list(session.scalars(base.where(Task.due_at >= now, Task.due_at < day.end).order_by(*sort))),
        "upcoming": _upcoming(session, base, day.end, limit),
    }


def _upcoming(session: Session, base, day_end: datetime, limit: int) -> list[Task]:
    # Two queries rather than one with OR: each reads its own range of the owner index
    # (one OR-query walked past every overdue task first: 55 ms at 10,000 open tasks).
    dated = list(session.scalars(base.where(Task.due_at >= day_end).order_by(Task.due_at, Task.id)))
    if len(dated) < limit:
        dated += session.scalars(base.where(Task.due_at.is_(None)).order_by(Task.id).limit(limit - len(dated)))
    return dated


def tasks_for(session: Session, object_type: str, object_id: int, *, include_done: bool = True) -> list[Task]:
    """The tasks linked to one object: open ones first (soonest due first), then done ones."""
    query = (select(Task).join(TaskLink).where(TaskLink.object_type == object_type, TaskLink.object_id == object_id)
             .options(selectinload(Task.links)))
    if not include_done:
        query = query.where(Task.done_at.is_(None))
    query = query.order_by(Task.done_at.is_not(None), func.coalesce(Task.due_at, NO_DUE_DATE), Task.id)
    return list(session.scalars(query))


def list_tasks(
    session: Session,
    *,
    now: datetime,
    owner_id: int | None = None,
    status: str = "open",
    overdue: bool = False,
    today: bool = False,
    object_type: str | None = None,
    object_id: int | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> tuple[list[Task], tuple[datetime, int] | None]:
    """Tasks by due time (undated last), filtered; returns (tasks, key to pass as `after`).

    `overdue` and `today` select open tasks due before now / due during the rest of the
    workspace's day; both together select everything due before the day ends.
    """
    sort_key = func.coalesce(Task.due_at, NO_DUE_DATE)
    query = select(Task).options(selectinload(Task.links))
    if owner_id is not None:
        query = query.where(Task.owner_id == owner_id)
    if status == "open" or overdue or today:
        query = query.where(Task.done_at.is_(None))
    elif status == "done":
        query = query.where(Task.done_at.is_not(None))
    if overdue or today:
        now = _aware(now)
        end = workspace_day(session, now).end if today else now
        query = query.where(Task.due_at < end)
        if not overdue:
            query = query.where(Task.due_at >= now)
    if object_type is not None:
        query = query.where(Task.id.in_(select(TaskLink.task_id).where(
            TaskLink.object_type == object_type, TaskLink.object_id == object_id)))
    if after is not None:
        query = query.where(tuple_(sort_key, Task.id) > tuple_(*after))
    rows = list(session.scalars(query.order_by(sort_key, Task.id).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, (rows[-1].due_at or NO_DUE_DATE, rows[-1].id)


def emit_due_tasks(session: Session, now: datetime, *, batch: int = 1000) -> int:
    """Emit task.due for each open task whose due time has passed, once; returns how many.

    One UPDATE claims the tasks (SKIP LOCKED: two workers running at once split the
    work instead of announcing a task twice) and marks them notified.
    """
    now = _aware(now)
    due = (select(Task.id).where(Task.done_at.is_(None), Task.due_notified_at.is_(None), Task.due_at <= now)
           .order_by(Task.due_at, Task.id).limit(batch).with_for_update(skip_locked=True).cte("due"))
    claimed = session.execute(
        update(Task).where(Task.id == due.c.id).values(due_notified_at=now)
        .returning(Task.id, Task.type, Task.owner_id, Task.due_at)
        # Tasks already in the session learn they were announced: a later due_at change re-arms them.
        .execution_options(synchronize_session="fetch")
    ).all()
    links: dict[int, list] = {}
    for task_id, object_type, object_id in session.execute(
            select(TaskLink.task_id, TaskLink.object_type, TaskLink.object_id)
            .where(TaskLink.task_id.in_([row.id for row in claimed])).order_by(TaskLink.task_id)):
        links.setdefault(task_id, []).append([object_type, object_id])
    for row in claimed:
        emit_event(session, "task.due", object_type="task", object_id=row.id, payload={
            "type": row.type, "owner_id": row.owner_id, "due_at": row.due_at.isoformat(),
            "links": links.get(row.id, [])})
    session.flush()
    return len(claimed)


def _event_payload(task: Task) -> dict:
    # No title: it often names a person, and events outlive a GDPR erasure in the relay's hands.
    return {
        "type": task.type, "owner_id": task.owner_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "links": [[link.object_type, link.object_id] for link in task.links],
    }


def _aware(moment: datetime) -> datetime:
    """In UTC, reading a naive time as UTC; stored and returned times then look alike."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _validated(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    title = values.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = [_("Give the task a title.")]
    elif len(title.strip()) > 300:
        errors["title"] = [_("Keep the title to 300 characters.")]
    if values.get("type") not in TASK_TYPES:
        errors["type"] = [_("Use one of the task types: %(types)s.", types=", ".join(TASK_TYPES))]
    for field in ("due_at", "reminder_at"):
        if values.get(field) is not None and not isinstance(values[field], datetime):
            errors[field] = [_("Use a date and time.")]
    notes = values.get("notes")
    if notes is not None and not isinstance(notes, str):
        errors["notes"] = [_("Use text.")]
    owner_id = values.get("owner_id")
    if owner_id is not None and (isinstance(owner_id, bool) or not isinstance(owner_id, int)):
        errors["owner_id"] = [_("Use the id of a workspace member.")]
    if errors:
        raise TaskValidationError(errors)
    due_at = _aware(values["due_at"]) if values.get("due_at") else None
    reminder_at = _aware(values["reminder_at"]) if values.get("reminder_at") else None
    if due_at and reminder_at and reminder_at > due_at:
        raise TaskValidationError({"reminder_at": [_("Set the reminder before the task is due.")]})
    return {"title": title.strip(), "type": TaskType(values["type"]).value, "due_at": due_at,
            "reminder_at": reminder_at, "notes": notes or None, "owner_id": owner_id}
