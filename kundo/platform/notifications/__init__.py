"""In-app notifications (the bell) and their e-mail copies.

`notify` is the one way to tell a member something: reminders, workflow actions and
plugins call it inside their tenant transaction. The e-mail, if asked for and wanted,
goes out through a durable timer written in the same transaction, so it is sent once
the change commits and never for a change that rolled back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundo.platform.notifications.service import notify, unread_count

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["init_app", "notify", "unread_count"]


def init_app(app: Flask) -> None:
    from kundo.platform.jobs import register_timer_handler
    from kundo.platform.notifications.mail import EMAIL_TIMER, send_notification_email
    from kundo.platform.notifications.views import blueprint, unread_for_bell

    register_timer_handler(app, EMAIL_TIMER, send_notification_email)
    app.register_blueprint(blueprint)
    # The layout's bell asks for the count only on pages of a signed-in member.
    app.jinja_env.globals["unread_notifications"] = unread_for_bell
