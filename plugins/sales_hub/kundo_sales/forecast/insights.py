"""What helps an open deal close: activity, open tasks, stage age against the pipeline's average, next step.

The suggestion is the first rule that applies, most urgent first, so a rep gets one
clear next action instead of a list of warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kundo.crm import tasks_for, timeline_for
from kundo.platform.clock import now
from kundo_sales.deals.models import Deal, StageChange
from kundo_sales.pipelines.models import Stage

HUMAN_ACTIVITY = ("note", "call", "email", "meeting")
QUIET_DAYS = 14


@dataclass(frozen=True)
class DealInsights:
    days_since_activity: int | None  # None: nothing logged yet
    last_activity_at: object
    open_tasks: int
    overdue_tasks: int
    stage_age_days: int
    stage_average_days: float | None  # None: no deal has left this stage yet
    missing_next_step: bool
    rotting: bool
    suggestion: str | None
    suggestion_key: str | None


def stage_average_days(session: Session, stage_id: int) -> float | None:
    """How long deals stayed in `stage_id` before they moved on, on average (days)."""
    stays = (select(StageChange.to_stage_id.label("stage_id"),
                    (func.lead(StageChange.changed_at).over(partition_by=StageChange.deal_id,
                                                            order_by=(StageChange.changed_at, StageChange.id))
                     - StageChange.changed_at).label("stay"))
             .where(StageChange.deal_id.in_(select(StageChange.deal_id).where(StageChange.to_stage_id == stage_id)))
             .subquery())
    seconds = session.scalar(select(func.avg(func.extract("epoch", stays.c.stay)))
                             .where(stays.c.stage_id == stage_id, stays.c.stay.is_not(None)))
    return round(float(seconds) / 86400, 1) if seconds is not None else None


def deal_insights(session: Session, deal: Deal) -> DealInsights:
    moment = now()
    last = timeline_for(session, "deal", deal.id, types=HUMAN_ACTIVITY, limit=1).activities
    last_at = last[0].occurred_at if last else None
    days_quiet = (moment - last_at).days if last_at else None
    tasks = tasks_for(session, "deal", deal.id, include_done=False)
    overdue = sum(1 for task in tasks if task.due_at is not None and task.due_at < moment)
    stage = session.get(Stage, deal.stage_id)
    age = max(0, (moment - deal.stage_entered_at).days)
    average = stage_average_days(session, deal.stage_id) if deal.status == "open" else None
    rotting = bool(deal.status == "open" and stage is not None and stage.rotting_days
                   and age >= stage.rotting_days)
    missing = deal.status == "open" and not deal.next_step
    key, text = _suggest(deal, days_quiet, len(tasks), overdue, age, average, missing, rotting)
    return DealInsights(days_quiet, last_at, len(tasks), overdue, age, average, missing, rotting, text, key)


def _suggest(deal, days_quiet, open_tasks, overdue, age, average, missing, rotting):
    if deal.status != "open":
        return None, None
    if overdue:
        return "overdue_tasks", _("Finish the overdue tasks on this deal first.")
    if days_quiet is None:
        return "first_contact", _("Nothing is logged yet: call or e-mail the buyer and note what you agreed.")
    if days_quiet >= QUIET_DAYS:
        return "reengage", _("No one has been in touch for %(days)s days: call the buyer to re-engage.",
                             days=days_quiet)
    if rotting or (average is not None and age > 2 * max(average, 1)):
        return "stuck", _("The deal has been in this stage longer than usual: agree on the next step with the "
                          "buyer or close it as lost.")
    if missing:
        return "next_step", _("Write down the next step, so everybody knows what moves this deal forward.")
    if not open_tasks:
        return "plan_task", _("Plan a follow-up task, so the deal does not go quiet.")
    if deal.expected_close_date is None:
        return "close_date", _("Set an expected close date, so the deal counts in the forecast.")
    return None, None

