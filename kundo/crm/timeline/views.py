"""Pages: the record page's composer (a note, a logged call) and the timeline's pieces
that htmx loads (type filter, "load more")."""

from __future__ import annotations

import re
from datetime import datetime

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.crm.pages import local_datetime, member_names, wants_fragment
from kundo.crm.records import load_company, load_contact, render_record, timeline_page, timeline_types
from kundo.crm.tasks.service import TaskValidationError
from kundo.crm.timeline.links import LinkTargetNotFound
from kundo.crm.timeline.service import ActivityValidationError, log_activity
from kundo.crm.views import ID, blueprint
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db

OBJECT = "<any(contacts, companies):plural>"
_OBJECT_TYPES = {"contacts": "contact", "companies": "company"}
#: Payload errors of a call, shown next to the composer's inputs.
_CALL_FIELDS = {"payload.direction": "direction", "payload.duration_seconds": "duration", "payload.outcome": "outcome"}


def _record(object_type: str, object_id: int):
    return load_contact(object_id) if object_type == "contact" else load_company(object_id)


def _duration_seconds(raw: str | None) -> int | None:
    """Minutes as typed: "5", "5:30" (minutes:seconds) or "1,5"."""
    text = (raw or "").strip().replace(",", ".")
    if match := re.fullmatch(r"(\d{1,5}):([0-5]\d)", text):
        return int(match[1]) * 60 + int(match[2])
    try:
        minutes = float(text)
    except ValueError:
        raise ActivityValidationError({"duration": [_("Enter the duration in minutes, e.g. 5 or 4:30.")]}) from None
    if not 0 <= minutes <= 7 * 24 * 60:
        raise ActivityValidationError({"duration": [_("Enter the duration in minutes, e.g. 5 or 4:30.")]})
    return round(minutes * 60)


def _activity(kind: str) -> dict:
    form = request.form
    body = (form.get("body") or "").strip()
    if kind == "note":
        if not body:
            raise ActivityValidationError({"body": [_("Write the note first.")]})
        return {"body": body}
    payload = {"direction": form.get("direction"), "duration_seconds": _duration_seconds(form.get("duration")),
               "outcome": form.get("outcome")}
    return {"subject": (form.get("subject") or "").strip() or None, "body": body or None, "payload": payload}


@blueprint.post(f"/{OBJECT}/<{ID}:object_id>/activities")
@login_required
def log_record_activity(plural: str, object_id: int):
    object_type = _OBJECT_TYPES[plural]
    record = _record(object_type, object_id)
    kind = request.form.get("kind", "note")
    if kind not in ("note", "call"):
        abort(400)
    session = current_tenant_db()
    try:
        occurred_at: datetime | None = local_datetime(request.form.get("occurred_at"), "occurred_at")
        log_activity(session, kind, links=[(object_type, record.id)], actor_id=g.user.id, occurred_at=occurred_at,
                     source="ui", **_activity(kind))
    except (ActivityValidationError, TaskValidationError, LinkTargetNotFound) as error:
        session.rollback()
        errors = {_CALL_FIELDS.get(field, field): " ".join(messages)
                  for field, messages in getattr(error, "errors", {"form": [str(error)]}).items()}
        return render_record(object_type, _record(object_type, object_id), errors=errors, status=400, tab=kind)
    session.commit()
    flash(_("Call logged.") if kind == "call" else _("Note added."), "success")
    endpoint = "crm_views.contact" if object_type == "contact" else "crm_views.company"
    return redirect(url_for(endpoint, **{f"{object_type}_id": record.id}) + "#timeline")


def _before(raw: str | None):
    """The `before` key of a "load more" link: an ISO time and an id."""
    if not raw:
        return None
    moment, _sep, last_id = raw.rpartition("~")
    try:
        return datetime.fromisoformat(moment), int(last_id)
    except ValueError:
        abort(400)


@blueprint.get(f"/{OBJECT}/<{ID}:object_id>/timeline")
@login_required
def timeline(plural: str, object_id: int):
    """The timeline card (type filter) or, with `before`, the next items (load more)."""
    object_type = _OBJECT_TYPES[plural]
    record = _record(object_type, object_id)
    page = timeline_page(object_type, record.id, before=_before(request.args.get("before")))
    endpoint = "crm_views.contact" if object_type == "contact" else "crm_views.company"
    if not wants_fragment():
        return redirect(url_for(endpoint, **{f"{object_type}_id": record.id}, type=timeline_types()) + "#timeline")
    template = "crm/_timeline_items.html" if request.args.get("before") else "crm/_timeline.html"
    return render_template(template, timeline=page, timeline_types=timeline_types(), owners=member_names(),
                           more=bool(request.args.get("before")),
                           object_type=object_type, record=record)
