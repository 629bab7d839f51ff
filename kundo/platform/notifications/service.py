"""Writing, listing and marking notifications; a member sees only their own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from kundo.platform.clock import now as clock_now
from kundo.platform.jobs import schedule_timer
from kundo.platform.notifications.models import Notification, NotificationPreference

KINDS = ("info", "success", "warning", "reminder", "workflow", "webhook")
MAX_TITLE = 300


class NotificationNotFound(LookupError):
    pass


def notify(
    session: Session,
    *,
    user_id: int,
    title: str,
    body: str = "",
    link: str | None = None,
    kind: str = "info",
    email: bool = False,
) -> Notification:
    """Tell member `user_id` something, in the caller's tenant transaction.

    :param link: a path inside the workspace (``/tasks``) or an absolute address.
    :param email: also e-mail it, unless the member turned e-mails off for this workspace;
        the mail is sent by a timer committed together with the notification.
    """
    from kundo.platform.notifications.mail import EMAIL_TIMER

    notification = Notification(
        user_id=user_id, title=(title.strip() or "…")[:MAX_TITLE], body=body or "", link=link or None,
        kind=kind if kind in KINDS else "info",
    )
    session.add(notification)
    session.flush()
    if email and email_enabled(session, user_id):
        schedule_timer(session, handler=EMAIL_TIMER, due_at=clock_now(), payload={"notification_id": notification.id},
                       key=f"notification-email:{notification.id}")
    return notification


def email_enabled(session: Session, user_id: int) -> bool:
    choice = session.scalar(select(NotificationPreference.email_enabled).where(
        NotificationPreference.user_id == user_id))
    return True if choice is None else choice


def set_email_enabled(session: Session, user_id: int, enabled: bool) -> None:
    session.execute(
        insert(NotificationPreference).values(user_id=user_id, email_enabled=enabled)
        .on_conflict_do_update(index_elements=["user_id"],
                               set_={"email_enabled": enabled, "updated_at": func.now()})
    )


def notifications_of(
    session: Session, user_id: int, *, unread_only: bool = False, before_id: int | None = None, limit: int = 50,
) -> tuple[list[Notification], int | None]:
    """Newest first; returns (page, id to pass as `before_id` for the next page or None)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1].id


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def get_notification(session: Session, user_id: int, notification_id: int) -> Notification:
    notification = session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id))
    if notification is None:
        raise NotificationNotFound(notification_id)
    return notification


def mark_read(session: Session, notification: Notification, *, at: datetime | None = None) -> Notification:
    if notification.read_at is None:
        notification.read_at = at or clock_now()
        session.flush()
    return notification


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the member read; returns how many."""
    result = session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=clock_now()).execution_options(synchronize_session=False)
    )
    return result.rowcount
