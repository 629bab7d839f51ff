"""Dead letters: jobs and timers that failed after every retry, visible to admins.

Each broker keeps its own dead-letter place (a rejected row, RabbitMQ's `.XQ` queue, a
Redis set); Kundo records every one in `control.dead_letters` as well, with the tenant,
so a tenant admin sees and retries their own and nothing of anyone else's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dramatiq.middleware import Middleware
from sqlalchemy import select

from kundo.platform.db import db, utcnow
from kundo.platform.jobs.models import DeadLetter

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


class DeadLetterRecorder(Middleware):
    def __init__(self, app: Flask) -> None:
        self.app = app

    def after_nack(self, broker, message) -> None:
        from kundo.platform.jobs import jobs_of

        args = list(message.args)
        tenant_id = args[0] if jobs_of(self.app).is_tenant_job(message.actor_name) and args else None
        error = message.options.get("traceback") or ""
        with self.app.app_context():
            record_dead_letter(kind="job", actor=message.actor_name, args=args, tenant_id=tenant_id, error=error)
        log.error("job %s failed for good (tenant %s)", message.actor_name, tenant_id,
                  extra={"tenant_id": tenant_id, "actor": message.actor_name})


def record_dead_letter(*, kind: str, actor: str, args: list, tenant_id: int | None, error: str) -> DeadLetter:
    letter = DeadLetter(kind=kind, actor=actor, args=args, tenant_id=tenant_id, error=error[-20_000:])
    db.session.add(letter)
    db.session.commit()
    return letter


def dead_letters_of(tenant_id: int, *, include_retried: bool = False, limit: int = 100) -> list[DeadLetter]:
    query = select(DeadLetter).where(DeadLetter.tenant_id == tenant_id)
    if not include_retried:
        query = query.where(DeadLetter.retried_at.is_(None))
    return list(db.session.scalars(query.order_by(DeadLetter.id.desc()).limit(limit)))


class DeadLetterNotFound(LookupError):
    pass


def retry_dead_letter(tenant_id: int, letter_id: int, *, user_id: int | None) -> DeadLetter:
    """Send a dead job again (fresh retries) or re-arm a dead timer; each letter once."""
    from kundo.platform.jobs import jobs_of
    from kundo.platform.jobs.timers import rearm_timer

    letter = db.session.scalar(
        select(DeadLetter).where(DeadLetter.id == letter_id, DeadLetter.tenant_id == tenant_id,
                                 DeadLetter.retried_at.is_(None)).with_for_update()
    )
    if letter is None:
        raise DeadLetterNotFound(letter_id)
    if letter.kind == "timer":
        rearm_timer(tenant_id, letter.args[0])
    else:
        from flask import current_app

        jobs_of(current_app).send(letter.actor, *letter.args)
    letter.retried_at, letter.retried_by = utcnow(), user_id
    db.session.commit()
    return letter
