"""Deal pages: board (Kanban), list with bulk actions, new deal, the deal record page.

Handlers call `deals.service` with the request's tenant session and show its refusals
next to the fields. The board's drag and drop posts to `move` and gets JSON back: the
card stays where it was dropped only when the move was saved.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kundo.crm import Company, Contact, log_activity, timeline_for
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.access import may_see, member_names, prepare, workspace_members
from kundo_sales.deals import service
from kundo_sales.deals.forms import deal_values, first_errors
from kundo_sales.deals.models import Deal, ForecastCategory
from kundo_sales.deals.panels import DEAL_PANELS
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.pipelines.models import Stage
from kundo_sales.pipelines.service import get_pipeline, list_pipelines

ID = "int(max=9223372036854775807)"


def register(blueprint) -> None:
    blueprint.add_url_rule("/deals/new", "new_deal", new_deal, methods=["GET", "POST"])
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>", "deal", deal_page)
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>", "update_deal", update_deal, methods=["POST"])
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>/stage", "change_stage", change_stage, methods=["POST"])
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>/note", "deal_note", deal_note, methods=["POST"])
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>/delete", "delete_deal", delete_deal, methods=["POST"])
    from kundo_sales.deals import board

    board.register(blueprint)


def _deal_or_404(session, deal_id: int, *, lock: bool = False) -> Deal:
    try:
        deal = service.get_deal(session, deal_id, lock=lock)
    except SalesNotFound:
        abort(404)
    if not may_see(session, deal):
        abort(404)
    return deal


@login_required
def new_deal():
    session = current_tenant_db()
    prepare(session)
    pipelines = list_pipelines(session)
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form
        try:
            values = deal_values(form)
            deal = service.create_deal(session, pipeline_id=form.get("pipeline_id"), stage_id=form.get("stage_id"),
                                       actor_id=g.user.id, **values)
        except SalesValidationError as error:
            errors = first_errors(error)
        else:
            session.commit()
            flash(_("Deal “%(name)s” created.", name=deal.name), "success")
            return redirect(url_for("sales.deal", deal_id=deal.id))
    else:
        form = {"owner_id": str(g.user.id), "pipeline_id": request.args.get("pipeline", ""),
                "stage_id": request.args.get("stage", ""), "currency": "EUR"}
    return render_template("sales/deals/new.html", pipelines=pipelines, members=workspace_members(), form=form,
                           errors=errors, companies=_company_choices(session),
                           categories=[c.value for c in ForecastCategory]), 422 if errors else 200


def _company_choices(session):
    return session.execute(select(Company.id, Company.name).order_by(Company.name).limit(500)).all()


def _render_deal(session, deal: Deal, *, errors=None, form=None, status=200):
    pipeline = get_pipeline(session, deal.pipeline_id)
    stage = next(s for s in pipeline.stages if s.id == deal.stage_id)
    contacts = session.scalars(select(Contact).where(Contact.id.in_(deal.contact_ids))).all() if deal.contacts else []
    company = session.get(Company, deal.company_id) if deal.company_id else None
    history = deal.history
    stage_names = {s.id: s.name for s in session.scalars(select(Stage)).all()}
    from kundo_sales.forecast.insights import deal_insights

    insights = deal_insights(session, deal)
    timeline = timeline_for(session, "deal", deal.id, limit=50)
    panels = [(panel, panel.data(session, deal)) for panel in DEAL_PANELS]
    return render_template(
        "sales/deals/record.html", deal=deal, pipeline=pipeline, stage=stage, contacts=contacts, company=company,
        history=history, stage_names=stage_names, owners=member_names(), members=workspace_members(),
        insights=insights, timeline=timeline, deal_panels=panels, errors=errors or {}, form=form or {},
        companies=_company_choices(session), categories=[c.value for c in ForecastCategory],
    ), status


@login_required
def deal_page(deal_id: int):
    session = current_tenant_db()
    return _render_deal(session, _deal_or_404(session, deal_id))


@login_required
def update_deal(deal_id: int):
    session = current_tenant_db()
    deal = _deal_or_404(session, deal_id, lock=True)
    try:
        service.update_deal(session, deal, deal_values(request.form), actor_id=g.user.id)
    except SalesValidationError as error:
        session.rollback()
        return _render_deal(session, _deal_or_404(session, deal_id), errors=first_errors(error),
                            form=request.form, status=422)
    session.commit()
    flash(_("Changes saved."), "success")
    return redirect(url_for("sales.deal", deal_id=deal_id))


@login_required
def change_stage(deal_id: int):
    session = current_tenant_db()
    deal = _deal_or_404(session, deal_id, lock=True)
    try:
        service.move_deal(session, deal, request.form.get("stage_id"), pipeline_id=request.form.get("pipeline_id"),
                          user_id=g.user.id, lost_reason=request.form.get("lost_reason"))
    except SalesValidationError as error:
        session.rollback()
        return _render_deal(session, _deal_or_404(session, deal_id), errors=first_errors(error),
                            form=request.form, status=422)
    session.commit()
    flash(_("Stage changed."), "success")
    return redirect(url_for("sales.deal", deal_id=deal_id))


@login_required
def deal_note(deal_id: int):
    session = current_tenant_db()
    deal = _deal_or_404(session, deal_id)
    body = (request.form.get("body") or "").strip()
    if not body:
        return _render_deal(session, deal, errors={"body": _("Write something first.")}, status=422)
    links = [("deal", deal.id), *(("contact", cid) for cid in deal.contact_ids)]
    if deal.company_id:
        links.append(("company", deal.company_id))
    log_activity(session, "note", links=links, actor_id=g.user.id, body=body[:20000], source="ui")
    session.commit()
    flash(_("Note added."), "success")
    return redirect(url_for("sales.deal", deal_id=deal_id) + "#timeline")


@login_required
def delete_deal(deal_id: int):
    session = current_tenant_db()
    deal = _deal_or_404(session, deal_id)
    name = deal.name
    service.delete_deal(session, deal, actor_id=g.user.id)
    session.commit()
    flash(_("Deal “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("sales.deals"))

