"""The Kanban board of a pipeline, the deal list with bulk actions, and the board's move endpoint.

The board shows every stage as a column with its deal count and sum (over all matching
deals) and the first cards of each. Dragging a card posts to `move`; the answer is JSON
so the page can keep the card in its new column, or put it back with the message.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import aliased

from kundo.platform.auth.session import login_required
from kundo.platform.clock import now
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.access import may_see, member_names, prepare, visible_deals, workspace_members
from kundo_sales.deals import service
from kundo_sales.deals.forms import first_errors, owner_from
from kundo_sales.deals.models import Deal
from kundo_sales.deals.query import DealFilters, apply_filters, parse_filters
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.pipelines.service import list_pipelines

ID = "int(max=9223372036854775807)"
CARDS_PER_COLUMN = 50
LIST_PAGE = 50
BULK_MAX = 500


def register(blueprint) -> None:
    blueprint.add_url_rule("/board", "board", board)
    blueprint.add_url_rule("/deals", "deals", deal_list)
    blueprint.add_url_rule("/deals/bulk", "bulk_deals", bulk, methods=["POST"])
    blueprint.add_url_rule(f"/deals/<{ID}:deal_id>/move", "move_deal", move, methods=["POST"])


def _filters():
    try:
        return parse_filters(request.args, me=g.user.id), {}
    except SalesValidationError as error:
        return DealFilters(), first_errors(error)


def _pipeline_for(session, filters: DealFilters):
    pipelines = list_pipelines(session)
    chosen = next((p for p in pipelines if p.id == filters.pipeline_id), None)
    if filters.pipeline_id and chosen is None:
        abort(404)
    return pipelines, chosen or pipelines[0]


@login_required
def board():
    session = current_tenant_db()
    prepare(session)
    filters, errors = _filters()
    pipelines, pipeline = _pipeline_for(session, filters)
    filters.pipeline_id = pipeline.id
    filters.status = None
    base = visible_deals(session, apply_filters(select(Deal), filters))
    totals, raw_sums, cards = board_columns(session, base)
    moment = now()
    rotting = {}
    for stage in pipeline.stages:
        for deal in cards.get(stage.id, ()):
            age = (moment - deal.stage_entered_at).days
            rotting[deal.id] = bool(stage.kind == "open" and stage.rotting_days and age >= stage.rotting_days)
    return render_template("sales/deals/board.html", pipelines=pipelines, pipeline=pipeline, cards=cards,
                           totals=totals, raw_sums=raw_sums, rotting=rotting, filters=filters, errors=errors,
                           members=workspace_members(), owners=member_names(), moment=moment,
                           per_column=CARDS_PER_COLUMN), 400 if errors else 200


def board_columns(session, base, per_column: int = CARDS_PER_COLUMN):
    """The board's columns for the deals of `base` (a select() of Deal, filtered and narrowed to what the user sees).

    Returns (totals, raw_sums, cards): count and sum per currency of every matching deal
    per stage, the same sums as floats (the page's drag and drop recomputes them), and
    the `per_column` most recently moved deals of each stage — a board of thousands of
    deals shows the newest cards and links the rest to the list.
    """
    totals = {}
    for stage_id, currency, count, amount in session.execute(_totals_query(base)):
        entry = totals.setdefault(stage_id, {"count": 0, "sums": {}})
        entry["count"] += count
        entry["sums"][currency] = entry["sums"].get(currency, Decimal("0")) + amount
    raw_sums = {stage_id: {cur: float(amount) for cur, amount in entry["sums"].items()}
                for stage_id, entry in totals.items()}
    cards = defaultdict(list)
    if not totals:
        return totals, raw_sums, cards
    # One LIMITed branch per stage that has deals, each walking ix_sales_deals_stage_recent
    # from its newest card: ranking every deal of the pipeline (a window over all of them)
    # read the whole table at 100,000 deals.
    newest = (Deal.stage_entered_at.desc(), Deal.id.desc())
    branches = [base.where(Deal.stage_id == stage_id).order_by(*newest).limit(per_column)
                .subquery().select() for stage_id in sorted(totals)]
    shown = aliased(Deal, union_all(*branches).subquery("shown"))
    for deal in session.scalars(select(shown).order_by(shown.stage_entered_at.desc(), shown.id.desc())):
        cards[deal.stage_id].append(deal)
    return totals, raw_sums, cards


def _totals_query(base):
    sub = base.subquery()
    return (select(sub.c.stage_id, sub.c.currency, func.count(), func.coalesce(func.sum(sub.c.amount), 0))
            .group_by(sub.c.stage_id, sub.c.currency))


@login_required
def move(deal_id: int):
    """The board's drag and drop: JSON in ({stage_id, lost_reason}), JSON out ({ok, message, deal})."""
    session = current_tenant_db()
    payload = request.get_json(silent=True) or request.form
    try:
        deal = service.get_deal(session, deal_id, lock=True)
    except SalesNotFound:
        return jsonify({"ok": False, "message": _("This deal no longer exists. Reload the board.")}), 404
    if not may_see(session, deal):
        return jsonify({"ok": False, "message": _("This deal no longer exists. Reload the board.")}), 404
    try:
        service.move_deal(session, deal, payload.get("stage_id"), user_id=g.user.id,
                          lost_reason=payload.get("lost_reason"))
    except SalesValidationError as error:
        session.rollback()
        messages = first_errors(error)
        return jsonify({"ok": False, "errors": messages,
                        "message": " ".join(messages.values()) or _("The deal could not be moved.")}), 422
    session.commit()
    return jsonify({"ok": True, "deal": service.deal_payload(deal),
                    "message": _("“%(deal)s” moved.", deal=deal.name)})


@login_required
def deal_list():
    session = current_tenant_db()
    prepare(session)
    filters, errors = _filters()
    pipelines = list_pipelines(session)
    if filters.status is None and "status" not in request.args:
        filters.status = "open"
    query = visible_deals(session, apply_filters(select(Deal), filters))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(1, int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1)
    sort = request.args.get("sort", "-updated")
    column = {"name": Deal.name, "amount": Deal.amount, "close": Deal.expected_close_date,
              "updated": Deal.updated_at}.get(sort.lstrip("-"), Deal.updated_at)
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    rows = session.scalars(query.order_by(order, Deal.id.desc()).offset((page - 1) * LIST_PAGE).limit(LIST_PAGE)).all()
    stages = {s.id: s for p in pipelines for s in p.stages}
    pages = max(1, -(-total // LIST_PAGE))
    return render_template("sales/deals/list.html", rows=rows, total=total, page=page, pages=pages,
                           filters=filters, errors=errors, pipelines=pipelines, stages=stages,
                           members=workspace_members(), owners=member_names(), sort=sort), 400 if errors else 200


BULK_ACTIONS = ("owner", "stage", "delete")


@login_required
def bulk():
    """Bulk actions on the selected deals: give them an owner, move them to a stage, delete them."""
    session = current_tenant_db()
    action = request.form.get("action")
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()][:BULK_MAX]
    back = request.form.get("next") or url_for("sales.deals")
    if not back.startswith("/"):
        back = url_for("sales.deals")
    if action not in BULK_ACTIONS or not ids:
        flash(_("Select deals and an action first."), "error")
        return redirect(back)
    deals = session.scalars(visible_deals(session, select(Deal).where(Deal.id.in_(ids))).order_by(Deal.id)
                            .with_for_update(of=Deal)).all()
    try:
        if action == "owner":
            owner = owner_from(request.form.get("owner_id"))
            for deal in deals:
                service.update_deal(session, deal, {"owner_id": owner}, actor_id=g.user.id)
        elif action == "stage":
            stage_id = request.form.get("stage_id")
            for deal in deals:
                service.move_deal(session, deal, stage_id, pipeline_id=_pipeline_of_stage(session, stage_id),
                                  user_id=g.user.id, lost_reason=request.form.get("lost_reason"))
        else:
            for deal in deals:
                service.delete_deal(session, deal, actor_id=g.user.id)
    except SalesValidationError as error:
        session.rollback()
        flash(" ".join(first_errors(error).values()), "error")
        return redirect(back)
    session.commit()
    flash(_("%(count)s deals updated.", count=len(deals)) if action != "delete"
          else _("%(count)s deals deleted.", count=len(deals)), "success")
    return redirect(back)


def _pipeline_of_stage(session, stage_id):
    from kundo_sales.pipelines.models import Stage

    stage = session.get(Stage, int(stage_id)) if str(stage_id or "").isdigit() else None
    if stage is None:
        raise SalesValidationError({"stage_id": [_("Choose a stage.")]})
    return stage.pipeline_id

