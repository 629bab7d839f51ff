"""Forecast, targets and sales metrics, computed in SQL over the deals and their stage history.

Forecast: open deals count in the month of their expected close date, weighted by their
stage's win probability; won deals count in the month they were won. Each deal has a
forecast category — the one a rep chose, or by default commit from 75 %, best case from
40 %, pipeline below; won deals are "closed", lost ones "omitted".

Metrics for a period (deals closed in it, or created in it for conversion):
- win rate = won / (won + lost) of the deals closed in the period;
- average deal size = average amount of the deals won in the period;
- sales cycle = average days from creation to win of the deals won in the period;
- stage conversion: of the deals created in the period, how many reached each open stage
  (or a later one) and how many of those went on to the next; the last step is "won";
- time in stage = average days deals stayed in a stage before they moved on (stays that
  ended in the period);
- velocity = open deals × win rate × average deal size ÷ sales cycle days (value per day).

Amounts are summed as they are: a workspace that sells in several currencies sees each
deal at face value (no exchange rates are applied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import DateTime, Integer, case, cast, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from kundo_sales.deals.models import Deal, StageChange
from kundo_sales.errors import SalesValidationError
from kundo_sales.forecast.models import Target
from kundo_sales.pipelines.models import Pipeline, Stage

CATEGORIES = ("pipeline", "best_case", "commit", "closed")
GROUPS = ("month", "owner", "pipeline")
CENT = Decimal("0.01")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def category_expression():
    """The forecast category of a deal, in SQL (chosen, else by status and stage probability)."""
    return case(
        (Deal.status == "won", literal("closed")),
        (Deal.status == "lost", literal("omitted")),
        (Deal.forecast_category.is_not(None), Deal.forecast_category),
        (Stage.probability >= 75, literal("commit")),
        (Stage.probability >= 40, literal("best_case")),
        else_=literal("pipeline"),
    )


@dataclass
class ForecastRow:
    key: object  # a month (date), an owner id or a pipeline id; None = no close date / no owner
    label: str = ""
    open_count: int = 0
    unweighted: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    won: Decimal = Decimal("0.00")
    categories: dict = field(default_factory=lambda: {c: Decimal("0.00") for c in CATEGORIES})
    target: Decimal | None = None

    @property
    def attainment(self) -> float | None:
        if not self.target:
            return None
        return round(float(self.won / self.target * 100), 1)

    def as_dict(self) -> dict:
        return {
            "key": self.key.isoformat() if isinstance(self.key, date) else self.key, "label": self.label,
            "open_count": self.open_count, "unweighted": str(self.unweighted), "weighted": str(self.weighted),
            "won": str(self.won), "categories": {k: str(v) for k, v in self.categories.items()},
            "target": str(self.target) if self.target is not None else None, "attainment": self.attainment,
        }


def forecast(session: Session, *, group_by: str = "month", start: date, months: int = 6,
             pipeline_id: int | None = None, owner_id: int | None = None, deal_scope=None,
             timezone: str = "UTC") -> list[ForecastRow]:
    """Forecast rows for the months [start, start + months), grouped by close month, owner or pipeline.

    :param deal_scope: a callable narrowing a select() of Deal (visibility); None = all deals.
    """
    if group_by not in GROUPS:
        raise SalesValidationError({"group_by": [_("Use one of: %(values)s.", values=", ".join(GROUPS))]})
    if not 1 <= months <= 24:
        raise SalesValidationError({"months": [_("Give 1 to 24 months.")]})
    start = month_start(start)
    end = add_months(start, months)
    zone = ZoneInfo(timezone)
    start_at = datetime.combine(start, time.min, zone)
    end_at = datetime.combine(end, time.min, zone)
    closed_month = func.date_trunc("month", func.timezone(timezone, Deal.closed_at))
    bucket = {
        "month": case((Deal.status == "won", cast(closed_month, Deal.expected_close_date.type)),
                      else_=cast(func.date_trunc("month", cast(Deal.expected_close_date, DateTime)),
                                Deal.expected_close_date.type)),
        "owner": Deal.owner_id,
        "pipeline": Deal.pipeline_id,
    }[group_by]
    in_period = (
        ((Deal.status == "open") & (Deal.expected_close_date >= start) & (Deal.expected_close_date < end))
        | ((Deal.status == "won") & (Deal.closed_at >= start_at) & (Deal.closed_at < end_at))
    )
    # Grouped by plain columns (stage, chosen category) without the stages join; the few
    # hundred groups get their probability and category here. Classifying and weighting
    # each of tens of thousands of rows in SQL took twice as long (bench/sales.py).
    query = (select(bucket.label("bucket"), Deal.status, Deal.stage_id, Deal.forecast_category,
                    func.count().label("n"), func.coalesce(func.sum(Deal.amount), 0).label("amount"))
             .where(in_period)
             .group_by(bucket, Deal.status, Deal.stage_id, Deal.forecast_category))
    if pipeline_id:
        query = query.where(Deal.pipeline_id == pipeline_id)
    if owner_id:
        query = query.where(Deal.owner_id == owner_id)
    if deal_scope is not None:
        query = deal_scope(query)
    probability = dict(session.execute(select(Stage.id, Stage.probability)).all())
    rows: dict[object, ForecastRow] = {}
    if group_by == "month":
        for index in range(months):
            month = add_months(start, index)
            rows[month] = ForecastRow(month)
    weighted: dict[object, Decimal] = {}
    for key, status, stage_id, chosen, count, amount in session.execute(query):
        row = rows.setdefault(key, ForecastRow(key))
        amount = Decimal(amount).quantize(CENT)
        if status == "won":
            row.won += amount
            row.categories["closed"] += amount
        else:
            percent = probability.get(stage_id, 0)
            row.open_count += count
            row.unweighted += amount
            weighted[key] = weighted.get(key, Decimal("0")) + amount * percent / 100
            category = chosen or ("commit" if percent >= 75 else "best_case" if percent >= 40 else "pipeline")
            if category in row.categories:
                row.categories[category] += amount
    for key, value in weighted.items():
        rows[key].weighted = value.quantize(CENT)
    _add_targets(session, rows, group_by, start, end, owner_id)
    if group_by == "pipeline":
        names = dict(session.execute(select(Pipeline.id, Pipeline.name)).all())
        for row in rows.values():
            row.label = names.get(row.key, "")
    return sorted(rows.values(), key=lambda r: (r.key is None, r.key if r.key is not None else 0))


def _add_targets(session, rows, group_by, start, end, owner_id) -> None:
    if group_by == "pipeline":
        return
    query = select(Target.owner_id if group_by == "owner" else Target.month, func.sum(Target.amount)).where(
        Target.month >= start, Target.month < end)
    if owner_id:
        query = query.where(Target.owner_id == owner_id)
    query = query.group_by(Target.owner_id if group_by == "owner" else Target.month)
    for key, amount in session.execute(query):
        row = rows.setdefault(key, ForecastRow(key))
        row.target = Decimal(amount).quantize(CENT)


def totals(rows: list[ForecastRow]) -> ForecastRow:
    total = ForecastRow("total")
    for row in rows:
        total.open_count += row.open_count
        total.unweighted += row.unweighted
        total.weighted += row.weighted
        total.won += row.won
        for key in CATEGORIES:
            total.categories[key] += row.categories[key]
        if row.target is not None:
            total.target = (total.target or Decimal("0.00")) + row.target
    return total


# -- targets ---------------------------------------------------------------------------------------------------------

def set_target(session: Session, *, owner_id: int, month: date, amount, currency: str = "EUR",
               created_by: int | None = None) -> Target | None:
    """Set (or with amount 0/empty, remove) what `owner_id` should win in `month`."""
    from sqlalchemy.dialects.postgresql import insert

    month = month_start(month)
    try:
        value = Decimal(str(amount or "0").replace(",", ".")).quantize(CENT)
    except ArithmeticError as error:
        raise SalesValidationError({"amount": [_("Give the amount as a number, e.g. 12500.50.")]}) from error
    if value < 0 or value > Decimal("999999999999.99"):
        raise SalesValidationError({"amount": [_("Give an amount from 0 to 999,999,999,999.99.")]})
    if value == 0:
        session.execute(Target.__table__.delete().where(Target.owner_id == owner_id, Target.month == month))
        return None
    statement = insert(Target).values(owner_id=owner_id, month=month, amount=value, currency=currency,
                                      created_by=created_by)
    statement = statement.on_conflict_do_update(constraint="uq_sales_targets_owner_month",
                                                set_={"amount": value, "currency": currency})
    session.execute(statement)
    return session.scalar(select(Target).where(Target.owner_id == owner_id, Target.month == month)
                          .execution_options(populate_existing=True))


# -- metrics ---------------------------------------------------------------------------------------------------------

@dataclass
class StageMetric:
    stage_id: int
    name: str
    reached: int
    advanced: int
    conversion: float | None  # percent of `reached` that went on to the next step
    avg_days: float | None  # average time in the stage (ended stays in the period)


@dataclass
class Metrics:
    won: int
    lost: int
    open: int
    win_rate: float | None
    avg_deal_size: Decimal | None
    cycle_days: float | None
    velocity: Decimal | None  # value per day
    stages: list[StageMetric]

    def as_dict(self) -> dict:
        return {
            "won": self.won, "lost": self.lost, "open": self.open, "win_rate": self.win_rate,
            "avg_deal_size": str(self.avg_deal_size) if self.avg_deal_size is not None else None,
            "cycle_days": self.cycle_days, "velocity": str(self.velocity) if self.velocity is not None else None,
            "stages": [{"stage_id": s.stage_id, "name": s.name, "reached": s.reached, "advanced": s.advanced,
                        "conversion": s.conversion, "avg_days": s.avg_days} for s in self.stages],
        }


def metrics(session: Session, *, pipeline_id: int, start_at: datetime, end_at: datetime,
            owner_id: int | None = None, deal_scope=None) -> Metrics:
    """Sales metrics of one pipeline for [start_at, end_at); see the module docstring."""
    def scoped(query):
        query = query.where(Deal.pipeline_id == pipeline_id)
        if owner_id:
            query = query.where(Deal.owner_id == owner_id)
        return deal_scope(query) if deal_scope is not None else query

    closed = scoped(select(
        func.count().filter(Deal.status == "won"), func.count().filter(Deal.status == "lost"),
        func.avg(Deal.amount).filter(Deal.status == "won"),
        func.avg(func.extract("epoch", Deal.closed_at - Deal.created_at)).filter(Deal.status == "won"),
    ).where(Deal.closed_at >= start_at, Deal.closed_at < end_at, Deal.status != "open"))
    won, lost, avg_amount, cycle_seconds = session.execute(closed).one()
    open_count = session.scalar(scoped(select(func.count()).select_from(Deal).where(Deal.status == "open")))
    win_rate = round(won / (won + lost) * 100, 1) if won + lost else None
    avg_deal = Decimal(avg_amount).quantize(CENT) if avg_amount is not None else None
    cycle = round(float(cycle_seconds) / 86400, 1) if cycle_seconds is not None else None
    velocity = None
    if win_rate is not None and avg_deal is not None and cycle:
        velocity = (Decimal(open_count) * Decimal(str(win_rate)) / 100 * avg_deal / Decimal(str(cycle))).quantize(CENT)
    return Metrics(won, lost, open_count, win_rate, avg_deal, cycle, velocity,
                   _stage_metrics(session, pipeline_id, start_at, end_at, scoped))


def _stage_metrics(session, pipeline_id, start_at, end_at, scoped) -> list[StageMetric]:
    stages = session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)).all()
    open_stages = [s for s in stages if s.kind == "open"]
    if not open_stages:
        return []
    # How far each deal created in the period got: the highest open-stage position it entered, and whether it won.
    # Per deal of the cohort (LATERAL): its history through ix_sales_stage_history_deal,
    # rather than a hash join over the whole history table.
    cohort = scoped(select(Deal.id).where(Deal.created_at >= start_at, Deal.created_at < end_at)).subquery()
    furthest = (select(func.max(case((Stage.kind == "open", Stage.position), else_=-1)).label("furthest"),
                       func.max(cast(Stage.kind == "won", Integer)).label("won"))
                .select_from(StageChange).join(Stage, Stage.id == StageChange.to_stage_id)
                .where(StageChange.deal_id == cohort.c.id)).lateral("furthest")
    reach = (select(furthest.c.furthest, furthest.c.won).select_from(cohort).join(furthest, literal(True))
             .where(furthest.c.furthest.is_not(None))).subquery()
    reached_rows = session.execute(select(reach.c.furthest, reach.c.won, func.count()).group_by(
        reach.c.furthest, reach.c.won)).all()

    def reached(position: int) -> int:
        # A won deal went through every open stage, whichever it skipped.
        return sum(n for furthest, won, n in reached_rows if won or furthest >= position)

    won_total = sum(n for _f, won, n in reached_rows if won)
    # A stay in a stage ended when the deal's next history row (in this pipeline) was
    # written: the rows written in the period, each with its predecessor (LATERAL, through
    # ix_sales_stage_history_deal), are exactly the stays that ended in the period.
    left = aliased(StageChange)
    entered = (select(StageChange.to_stage_id.label("stage_id"), StageChange.changed_at.label("at"))
               .where(StageChange.deal_id == left.deal_id, StageChange.pipeline_id == pipeline_id,
                      tuple_(StageChange.changed_at, StageChange.id) < tuple_(left.changed_at, left.id))
               .order_by(StageChange.changed_at.desc(), StageChange.id.desc()).limit(1)).lateral("entered")
    durations = dict(session.execute(
        select(entered.c.stage_id, func.avg(func.extract("epoch", left.changed_at - entered.c.at)))
        .select_from(left).join(entered, literal(True))
        .where(left.pipeline_id == pipeline_id, left.changed_at >= start_at, left.changed_at < end_at,
               left.deal_id.in_(scoped(select(Deal.id)).scalar_subquery()))
        .group_by(entered.c.stage_id)).all())
    result = []
    for index, stage in enumerate(open_stages):
        count = reached(stage.position)
        following = reached(open_stages[index + 1].position) if index + 1 < len(open_stages) else won_total
        seconds = durations.get(stage.id)
        result.append(StageMetric(stage.id, stage.name, count, following,
                                  round(following / count * 100, 1) if count else None,
                                  round(float(seconds) / 86400, 1) if seconds is not None else None))
    return result
