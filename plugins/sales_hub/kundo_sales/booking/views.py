"""The member's booking settings (hours per weekday, duration, buffer, horizon) and upcoming meetings.

The visitor's pages live in `booking.public`.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant, current_tenant_db
from kundo_sales.booking import service
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.workspace import workspace_zone

ID = "int(max=9223372036854775807)"
NUMBERS = ("duration_minutes", "buffer_minutes", "horizon_days", "notice_minutes", "reminder_minutes")


def register(blueprint) -> None:
    blueprint.add_url_rule("/booking", "booking", settings_page, methods=["GET", "POST"])
    blueprint.add_url_rule(f"/booking/meetings/<{ID}:meeting_id>/cancel", "cancel_meeting", host_cancel,
                           methods=["POST"])
    from kundo_sales.booking import public

    public.register(blueprint)


def availability_from_form(form) -> dict:
    """Weekday rows of the form (day_<n>_on, day_<n>_from, day_<n>_to) → the page's availability."""
    value: dict[str, list[list[str]]] = {}
    for day in range(1, 8):
        if form.get(f"day_{day}_on"):
            value[str(day)] = [[form.get(f"day_{day}_from", ""), form.get(f"day_{day}_to", "")]]
    return value


@login_required
def settings_page():
    session = current_tenant_db()
    page = service.ensure_page(session, g.user.id, g.user.name)
    session.commit()
    errors: dict[str, str] = {}
    if request.method == "POST":
        changes = {field: request.form.get(field) for field in ("slug", "title", "location", "description", *NUMBERS)}
        changes["availability"] = availability_from_form(request.form)
        changes["active"] = request.form.get("active") == "1"
        try:
            service.update_page(session, page, changes)
        except SalesValidationError as error:
            session.rollback()
            errors = {field: " ".join(messages) for field, messages in error.errors.items()}
            page = service.page_of_user(session, g.user.id)
        else:
            session.commit()
            flash(_("Booking page saved."), "success")
            return redirect(url_for("sales.booking"))
    public_url = current_app.config["KUNDO"].workspace_url(current_tenant().slug) + url_for(
        "sales.book", slug=page.slug)
    day_names = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
    return render_template("sales/booking/settings.html", page=page, errors=errors, public_url=public_url,
                           meetings=service.upcoming_meetings(session, g.user.id), day_names=day_names,
                           zone=workspace_zone(session)), 400 if errors else 200


@login_required
def host_cancel(meeting_id: int):
    session = current_tenant_db()
    try:
        meeting = service.get_meeting(session, meeting_id, lock=True)
    except SalesNotFound:
        abort(404)
    if meeting.host_user_id != g.user.id:
        abort(404)
    try:
        service.cancel(session, meeting, by="host", reason=request.form.get("reason"))
    except SalesValidationError as error:
        session.rollback()
        flash(" ".join(m for messages in error.errors.values() for m in messages), "error")
        return redirect(url_for("sales.booking"))
    session.commit()
    flash(_("Meeting cancelled; %(name)s gets an e-mail.", name=meeting.visitor_name), "success")
    return redirect(url_for("sales.booking"))
