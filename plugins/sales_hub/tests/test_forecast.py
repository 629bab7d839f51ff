"""Forecast, targets and metrics on a known data set: the exact figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from kundo_sales.deals import service
from kundo_sales.deals.models import Deal, StageChange
from kundo_sales.forecast import service as forecast
from kundo_sales.pipelines.service import ensure_default_pipeline
from sqlalchemy import update

from kundo.testing.web import HostClient

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _at(session, deal_id, *moments):
    """Rewrite a deal's history times (creation first) to the given moments."""
    changes = session.query(StageChange).filter(StageChange.deal_id == deal_id).order_by(StageChange.id).all()
    for change, moment in zip(changes, moments, strict=True):
        change.changed_at = moment
    session.execute(update(Deal).where(Deal.id == deal_id).values(
        created_at=moments[0], stage_entered_at=moments[-1],
        closed_at=moments[-1] if session.get(Deal, deal_id).status != "open" else None))
    session.flush()


def _data(session, owner, other):
    """Pipeline: Qualified 10 %, Appointment 20 %, Proposal 50 %, Negotiation 75 %, Won, Lost.

    A 10,000 won: Q → A → P → N → Won (days 0, 2, 6, 16, 20)
    B 20,000 lost: Q → A → Lost (days 0, 4, 10)
    C 5,000 open in Proposal, closes 2026-02-15, owner `other`
    D 8,000 open in Negotiation, closes 2026-02-20, forecast category best_case
    E 4,000 open in Qualified, closes 2026-03-10
    """
    p = ensure_default_pipeline(session, "en")
    q, a, pr, n, won, lost = (s.id for s in p.stages)
    day = timedelta(days=1)
    d_a = service.create_deal(session, name="A", pipeline_id=p.id, amount=10000, owner_id=owner)
    for stage in (a, pr, n, won):
        service.move_deal(session, d_a, stage)
    _at(session, d_a.id, T0, T0 + 2 * day, T0 + 6 * day, T0 + 16 * day, T0 + 20 * day)
    d_b = service.create_deal(session, name="B", pipeline_id=p.id, amount=20000, owner_id=owner)
    service.move_deal(session, d_b, a)
    service.move_deal(session, d_b, lost, lost_reason="Budget")
    _at(session, d_b.id, T0, T0 + 4 * day, T0 + 10 * day)
    d_c = service.create_deal(session, name="C", pipeline_id=p.id, amount=5000, owner_id=other, stage_id=pr,
                              expected_close_date="2026-02-15")
    _at(session, d_c.id, T0 + day)
    d_d = service.create_deal(session, name="D", pipeline_id=p.id, amount=8000, owner_id=owner, stage_id=n,
                              expected_close_date="2026-02-20", forecast_category="best_case")
    _at(session, d_d.id, T0 + day)
    d_e = service.create_deal(session, name="E", pipeline_id=p.id, amount=4000, owner_id=owner, stage_id=q,
                              expected_close_date="2026-03-10")
    _at(session, d_e.id, T0 + day)
    forecast.set_target(session, owner_id=owner, month=date(2026, 1, 1), amount="8000")
    forecast.set_target(session, owner_id=owner, month=date(2026, 2, 1), amount="20000")
    return p


def test_forecast_by_month_owner_and_pipeline(sales_workspace, add_member):
    ws = sales_workspace()
    other, _email = add_member(ws.workspace)
    owner = ws.workspace.owner_id
    with ws.session() as session:
        pipeline = _data(session, owner, other)
        rows = forecast.forecast(session, group_by="month", start=date(2026, 1, 1), months=3)
        by_month = {r.key: r for r in rows}
        jan, feb, mar = by_month[date(2026, 1, 1)], by_month[date(2026, 2, 1)], by_month[date(2026, 3, 1)]
        assert (jan.won, jan.open_count, jan.target, jan.attainment) == (Decimal("10000.00"), 0, Decimal("8000.00"),
                                                                         125.0)
        assert (feb.open_count, feb.unweighted, feb.weighted) == (2, Decimal("13000.00"), Decimal("8500.00"))
        assert feb.categories == {"pipeline": Decimal("0.00"), "best_case": Decimal("13000.00"),
                                  "commit": Decimal("0.00"), "closed": Decimal("0.00")}, "C by 50 %, D chosen"
        assert (feb.target, feb.attainment) == (Decimal("20000.00"), 0.0)
        assert (mar.unweighted, mar.weighted, mar.categories["pipeline"]) == (
            Decimal("4000.00"), Decimal("400.00"), Decimal("4000.00"))
        owners = {r.key: r for r in forecast.forecast(session, group_by="owner", start=date(2026, 1, 1), months=3)}
        assert (owners[owner].won, owners[owner].weighted, owners[owner].target) == (
            Decimal("10000.00"), Decimal("6400.00"), Decimal("28000.00"))
        assert owners[other].weighted == Decimal("2500.00")
        pipelines = forecast.forecast(session, group_by="pipeline", start=date(2026, 1, 1), months=3)
        assert [(r.key, r.label, r.unweighted) for r in pipelines] == [(pipeline.id, pipeline.name,
                                                                         Decimal("17000.00"))]


def test_metrics_on_known_data(sales_workspace, add_member):
    ws = sales_workspace()
    other, _email = add_member(ws.workspace)
    with ws.session() as session:
        pipeline = _data(session, ws.workspace.owner_id, other)
        figures = forecast.metrics(session, pipeline_id=pipeline.id, start_at=datetime(2026, 1, 1, tzinfo=UTC),
                                   end_at=datetime(2026, 2, 1, tzinfo=UTC))
        assert (figures.won, figures.lost, figures.open, figures.win_rate) == (1, 1, 3, 50.0)
        assert (figures.avg_deal_size, figures.cycle_days) == (Decimal("10000.00"), 20.0)
        assert figures.velocity == Decimal("750.00"), "3 open × 50 % × 10,000 / 20 days"
        stages = [(s.name, s.reached, s.advanced, s.conversion, s.avg_days) for s in figures.stages]
        assert stages == [
            ("Qualified", 5, 4, 80.0, 3.0),  # A 2 d, B 4 d
            ("Appointment scheduled", 4, 3, 75.0, 5.0),  # A 4 d, B 6 d
            ("Proposal", 3, 2, 66.7, 10.0),  # A 10 d
            ("Negotiation", 2, 1, 50.0, 4.0),  # A 4 d; D still there; the last step is won
        ]
        mine = forecast.metrics(session, pipeline_id=pipeline.id, owner_id=other,
                                start_at=datetime(2026, 1, 1, tzinfo=UTC), end_at=datetime(2026, 2, 1, tzinfo=UTC))
        assert (mine.won, mine.lost, mine.open, mine.win_rate, mine.velocity) == (0, 0, 1, None, None)


def test_forecast_page_renders_and_saves_targets(client, sales_workspace):
    ws = sales_workspace()
    page = HostClient(client, ws.workspace.host)
    page.submit("/login", {"email": ws.workspace.owner_email, "password": ws.workspace.password})
    html = page.get("/apps/sales/forecast?start=2026-01&group_by=owner").get_data(as_text=True)
    assert 'data-testid="forecast-table"' in html and 'data-testid="metrics"' in html
    saved = page.submit("/apps/sales/forecast", {"owner_id": ws.workspace.owner_id, "month": "2026-01",
                                                 "amount": "5000"})
    assert saved.status_code == 302
    html = page.get("/apps/sales/forecast?start=2026-01&group_by=owner").get_data(as_text=True)
    assert "5,000" in html
    assert page.get("/apps/sales/forecast?start=2026-13").status_code == 400
