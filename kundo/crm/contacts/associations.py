"""A record's timeline and task links: moved when records merge, dropped when one is deleted.

Activities and tasks point at contacts and companies through generic
(object_type, object_id) link rows without foreign keys, so the database cannot
cascade them; these helpers keep them from pointing at records that are gone.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import BigInteger, String, delete, exists, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from kundo.crm.tasks.models import TaskLink
from kundo.crm.timeline.models import Activity, ActivityLink, ActivityType
from kundo.crm.timeline.service import log_activity
from kundo.platform.events import emit_event

_LINK_MODELS = ((ActivityLink, "activity_id"), (TaskLink, "task_id"))


def repoint_associations(session: Session, object_type: str, from_id: int, to_id: int) -> None:
    """Link every activity and task of `from_id` to `to_id` instead (once, if both had it)."""
    for model, key in _LINK_MODELS:
        # Activity links carry their activity's time (the timeline's sort key) along.
        extra = ["occurred_at"] if model is ActivityLink else []
        session.execute(
            insert(model).from_select(
                [key, "object_type", "object_id", *extra],
                select(getattr(model, key), literal(object_type, String), literal(to_id, BigInteger),
                       *(getattr(model, name) for name in extra))
                .where(model.object_type == object_type, model.object_id == from_id),
            ).on_conflict_do_nothing()
        )
        session.execute(delete(model).where(model.object_type == object_type, model.object_id == from_id)
                        .execution_options(synchronize_session=False))


def drop_associations(session: Session, object_type: str, object_id: int) -> None:
    """Unlink a deleted record; activities it alone was linked to go too, since nothing could show them.

    Tasks stay: they remain on their owner's task list even without a record.
    """
    activity_ids = session.scalars(select(ActivityLink.activity_id).where(
        ActivityLink.object_type == object_type, ActivityLink.object_id == object_id)).all()
    for model, _key in _LINK_MODELS:
        session.execute(delete(model).where(model.object_type == object_type, model.object_id == object_id)
                        .execution_options(synchronize_session=False))
    if activity_ids:
        session.execute(
            delete(Activity).where(Activity.id.in_(activity_ids),
                                   ~exists().where(ActivityLink.activity_id == Activity.id))
            .execution_options(synchronize_session=False)
        )


def finish_merge(session: Session, object_type: str, keep, gone, summary: dict, *, actor_id: int | None):
    """The last steps every merge shares: move links, note it on the timeline, delete, announce.

    Contacts and companies merge their own fields first; this keeps the rest identical
    for both, so a merged record always leaves the same trace.
    """
    repoint_associations(session, object_type, gone.id, keep.id)
    log_activity(
        session, ActivityType.SYSTEM.value, links=[(object_type, keep.id)], actor_id=actor_id, source="merge",
        subject=_("Merged with %(name)s", name=summary["merged_name"]), payload={"kind": "merge", **summary},
    )
    session.delete(gone)
    session.flush()
    emit_event(session, f"{object_type}.merged", object_type=object_type, object_id=keep.id, actor_id=actor_id,
               payload={"kept_id": keep.id, **summary})
    return keep
