"""Pages: your notifications (all or unread), mark read, open, e-mail preference; the bell's count."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.platform.auth.session import login_required
from kundo.platform.notifications import service
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("notifications", __name__, template_folder="templates")

ID = "int(max=9223372036854775807)"
PAGE_SIZE = 30


def unread_for_bell() -> int | None:
    """The signed-in member's unread count, or None where the layout shows no bell."""
    if g.get("tenant") is None or g.get("membership") is None or g.get("user") is None:
        return None
    return service.unread_count(current_tenant_db(), g.user.id)


def _notification(notification_id: int):
    try:
        return service.get_notification(current_tenant_db(), g.user.id, notification_id)
    except service.NotificationNotFound:
        abort(404)


def _back():
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("notifications.index"))


@blueprint.get("/notifications")
@login_required
def index():
    session = current_tenant_db()
    unread_only = request.args.get("filter") == "unread"
    before = request.args.get("before", type=int)
    items, next_before = service.notifications_of(session, g.user.id, unread_only=unread_only, before_id=before,
                                                  limit=PAGE_SIZE)
    return render_template(
        "notifications/index.html", items=items, next_before=next_before, unread_only=unread_only,
        unread=service.unread_count(session, g.user.id), email_enabled=service.email_enabled(session, g.user.id),
    )


@blueprint.post(f"/notifications/<{ID}:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    session = current_tenant_db()
    service.mark_read(session, _notification(notification_id))
    session.commit()
    return _back()


@blueprint.post(f"/notifications/<{ID}:notification_id>/open")
@login_required
def open_notification(notification_id: int):
    """Mark read and go where the notification points (inside the workspace only)."""
    session = current_tenant_db()
    notification = service.mark_read(session, _notification(notification_id))
    session.commit()
    link = notification.link or ""
    if link.startswith("/") and not link.startswith("//"):
        return redirect(link)
    return redirect(url_for("notifications.index"))


@blueprint.post("/notifications/read-all")
@login_required
def mark_all_read():
    session = current_tenant_db()
    marked = service.mark_all_read(session, g.user.id)
    session.commit()
    if marked:
        flash(_("All notifications are marked as read."), "success")
    return _back()


@blueprint.post("/notifications/preferences")
@login_required
def preferences():
    session = current_tenant_db()
    enabled = request.form.get("email_enabled") == "on"
    service.set_email_enabled(session, g.user.id, enabled)
    session.commit()
    flash(_("You get notifications by e-mail as well.") if enabled
          else _("You get notifications in Kundo only, no e-mails."), "success")
    return redirect(url_for("notifications.index"))
