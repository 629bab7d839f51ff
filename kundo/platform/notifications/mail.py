"""The e-mail copy of a notification, sent by a durable timer.

The timer is written in the notifying transaction; its handler marks the notification
`emailed_at` in the tenant transaction that fires the timer, so a retried or duplicated
timer run does not mail twice once the first has committed.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundo.platform.auth.models import User
from kundo.platform.clock import now as clock_now
from kundo.platform.db import db
from kundo.platform.jobs.models import Timer
from kundo.platform.mail.service import send_mail
from kundo.platform.notifications.models import Notification
from kundo.tenants.models import Tenant

EMAIL_TIMER = "notifications.email"


def absolute_link(slug: str, link: str | None) -> str | None:
    """A workspace path made into an address that works from a mail program."""
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return current_app.config["KUNDO"].workspace_url(slug) + (link if link.startswith("/") else "/" + link)


def send_notification_email(session: Session, payload: dict, timer: Timer) -> None:  # noqa: ARG001
    notification = session.get(Notification, payload["notification_id"], with_for_update=True)
    if notification is None or notification.emailed_at is not None:
        return
    user = db.session.get(User, notification.user_id)
    if user is None:
        return
    scope = session.scope
    tenant = db.session.get(Tenant, scope.tenant_id)
    base = current_app.config["KUNDO"].workspace_url(scope.slug)
    with force_locale(user.locale or (tenant.locale if tenant else None) or "en"):
        lines = [notification.body.strip()] if notification.body.strip() else []
        link = absolute_link(scope.slug, notification.link)
        if link:
            lines.append(_("Open it in Kundo: %(link)s", link=link))
        settings_link = base + "/notifications"
        lines.append("—\n" + _("You get this e-mail because you are a member of %(workspace)s. "
                               "Turn these e-mails off on %(link)s", workspace=tenant.name if tenant else scope.slug,
                               link=settings_link))
        send_mail(user.email, notification.title, "\n\n".join(lines))
    db.session.commit()
    notification.emailed_at = clock_now()
