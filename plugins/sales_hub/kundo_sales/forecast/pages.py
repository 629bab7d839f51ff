"""The forecast page: forecast by month, owner or pipeline, targets with attainment, and the sales metrics."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.platform.clock import now
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.access import (
    is_admin,
    member_names,
    prepare,
    visible_deals,
    workspace_members,
    workspace_timezone,
)
from kundo_sales.deals.forms import first_errors, owner_from
from kundo_sales.errors import SalesValidationError
from kundo_sales.forecast import service
from kundo_sales.pipelines.service import list_pipelines


def parse_month(raw: str | None, default: date) -> date:
    text = (raw or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text + "-01" if len(text) == 7 else text).replace(day=1)
    except ValueError as error:
        raise SalesValidationError({"start": [_("Give the month as YYYY-MM.")]}) from error


def parse_day(raw: str | None, default: date, field: str) -> date:
    text = (raw or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise SalesValidationError({field: [_("Give the date as YYYY-MM-DD.")]}) from error


def period(session, args):
    """The metrics period [from, to] as workspace-local days, default the last 90 days."""
    tz = workspace_timezone(session)
    today = now().astimezone(ZoneInfo(tz)).date()
    start = parse_day(args.get("from"), today - timedelta(days=89), "from")
    end = parse_day(args.get("to"), today, "to")
    if end < start:
        raise SalesValidationError({"to": [_("The end comes before the start.")]})
    zone = ZoneInfo(tz)
    after = end + timedelta(days=1)
    return start, end, datetime.combine(start, time.min, zone), datetime.combine(after, time.min, zone)


def forecast_page():
    session = current_tenant_db()
    prepare(session)
    if request.method == "POST":
        return _save_target(session)
    pipelines = list_pipelines(session)
    tz = workspace_timezone(session)
    today = now().astimezone(ZoneInfo(tz)).date()
    errors = {}
    args = request.args
    group_by = args.get("group_by", "month") if args.get("group_by") in service.GROUPS else "month"
    pipeline_id = int(args["pipeline_id"]) if args.get("pipeline_id", "").isdigit() else None
    owner_id = int(args["owner_id"]) if args.get("owner_id", "").isdigit() else None
    try:
        start = parse_month(args.get("start"), today.replace(day=1))
        months = int(args.get("months", "6")) if args.get("months", "6").isdigit() else 6
        months = min(max(months, 1), 12)
        rows = service.forecast(session, group_by=group_by, start=start, months=months, pipeline_id=pipeline_id,
                                owner_id=owner_id, timezone=tz,
                                deal_scope=lambda q: visible_deals(session, q))
        day_from, day_to, start_at, end_at = period(session, args)
        metrics_pipeline = next((p for p in pipelines if p.id == pipeline_id), pipelines[0])
        figures = service.metrics(session, pipeline_id=metrics_pipeline.id, start_at=start_at, end_at=end_at,
                                  owner_id=owner_id,
                                  deal_scope=lambda q: visible_deals(session, q))
    except SalesValidationError as error:
        errors = first_errors(error)
        start, months, rows = today.replace(day=1), 6, []
        day_from, day_to, figures, metrics_pipeline = today - timedelta(days=89), today, None, pipelines[0]
    owners = member_names()
    if group_by == "owner":
        for row in rows:
            row.label = owners.get(row.key, _("No owner"))
    return render_template(
        "sales/forecast/forecast.html", rows=rows, total=service.totals(rows), group_by=group_by, start=start,
        months=months, pipelines=pipelines, pipeline_id=pipeline_id, owner_id=owner_id, members=workspace_members(),
        errors=errors, figures=figures, metrics_pipeline=metrics_pipeline, day_from=day_from, day_to=day_to,
        is_admin=is_admin(), categories=service.CATEGORIES, this_month=today.replace(day=1),
    ), 400 if errors else 200


def _save_target(session):
    if not is_admin():
        abort(403, description=_("Only admins and owners of this workspace can do this. Ask one of them."))
    try:
        owner = owner_from(request.form.get("owner_id"))
        if owner is None:
            raise SalesValidationError({"owner_id": [_("Choose an owner from the members of this workspace.")]})
        month = parse_month(request.form.get("month"), date.today())
        service.set_target(session, owner_id=owner, month=month, amount=request.form.get("amount"),
                           created_by=g.user.id)
    except SalesValidationError as error:
        session.rollback()
        flash(" ".join(first_errors(error).values()), "error")
    else:
        session.commit()
        flash(_("Target saved."), "success")
    return redirect(url_for("sales.forecast", group_by="owner", start=request.form.get("month") or None))
