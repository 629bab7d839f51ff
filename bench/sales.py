"""Sales Hub benchmark: the board of a pipeline with 10,000 open deals, and the forecast page over 100,000 deals.

Not a test: it prints figures and writes bench/results/sales.json. It works in its own
throw-away database, on the server at DATABASE_URL or on an embedded PostgreSQL under
var/bench-pgdata, and drops it at the end.

One workspace with ten members enables the Sales Hub (its migrations run as on any
enable). Three pipelines hold 100,000 deals, generated in SQL (INSERT … SELECT
generate_series inside the tenant session, so as the tenant's role): the board's
pipeline 10,000 open deals spread over its open stages plus won and lost ones, the
other two the rest (open, won, lost); each deal has one or two stage-history rows;
every member has a target per month. Amounts, close dates, owners and stage ages
vary the way a real pipeline's do.

Each scenario runs ≥ 200 times (after 10 warm-up runs), through the service functions
alone (SQL and Python: `board_columns`, `forecast` + `metrics` as the page calls them)
and through the page (Flask test client with a signed-in session: routing, session,
tenant, template). The budget for lists in DESIGN.md is p95 < 30 ms.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/sales.py
    .venv/bin/python bench/sales.py --deals 5000 --board-open 1000 --runs 20   # checks the script
    .venv/bin/python bench/sales.py --keep        # keeps the database for EXPLAIN (prints its URL)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import select, text

from kundo.platform.app import create_app
from kundo.platform.auth.service import create_user
from kundo.platform.config import Settings, libpq_url
from kundo.platform.db import db, utcnow
from kundo.plugins.installs import enable_plugin
from kundo.tenants.migrations import upgrade_control_plane
from kundo.tenants.models import Membership, Role
from kundo.tenants.service import create_workspace
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.database import create_database, drop_database
from kundo.testing.web import HostClient

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "sales.json"
PASSWORD = "bench horse battery staple"  # noqa: S105 - a throw-away database
DOMAIN = "kundo.test"
SLUG = "bench"
BUDGET_MS = 30
WARM_UP = 10
SALES_TABLES = ("sales_deals", "sales_deal_stage_history", "sales_stages", "sales_pipelines", "sales_targets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000, help="deals in the workspace")
    parser.add_argument("--board-open", type=int, default=10_000, help="open deals in the board's pipeline")
    parser.add_argument("--runs", type=int, default=300, help="timed runs per scenario (at least 200 for figures)")
    parser.add_argument("--keep", action="store_true", help="keep the database (for EXPLAIN); drop it yourself")
    args = parser.parse_args()

    started = time.perf_counter()
    admin_url = _server_admin_url()
    url = create_database(admin_url, prefix="kundo_bench")
    results: dict = {"machine": _machine(), "load_average_at_start": os.getloadavg(), "deals": args.deals,
                     "board_open_deals": args.board_open, "runs": args.runs, "budget_p95_ms": BUDGET_MS}
    try:
        app = create_app(Settings.from_env({}, database_url=url, domain=DOMAIN, log_json=False,
                                           ratelimit_enabled=False, argon2_profile="fast"))
        with app.app_context():
            upgrade_control_plane(db.engine)
            results["server"] = db.session.scalar(text("SHOW server_version"))
            db.session.rollback()
            scope, members = _workspace()
            pipelines = _pipelines(scope)
            results["load"] = load_deals(url, scope, members, pipelines, args.deals, args.board_open)
            board_pipeline = pipelines[0]["id"]
            gc.freeze()  # as wsgi.py and `kundo serve` do after start-up
            results["service"] = bench_service(scope, board_pipeline, members, args.runs)
            results["pages"] = bench_pages(app, scope, board_pipeline, members, args.runs)
            db.session.remove()
            db.engine.dispose()
    finally:
        if args.keep:
            print(f"kept the database: {url}", file=sys.stderr)
        else:
            drop_database(admin_url, url)
    results["total_runtime_s"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _print_summary(results)


# ---- set-up -----------------------------------------------------------------------------------


def _server_admin_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from kundo.platform.embedded import start_embedded_postgres, var_dir

    return start_embedded_postgres(var_dir() / "bench-pgdata", database="postgres")


def _machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def _workspace() -> tuple[TenantScope, list[int]]:
    """A workspace with ten members (deal owners) and the Sales Hub enabled by its owner."""
    users = []
    for number in range(10):
        user = create_user(email=f"member{number}@bench.example", name=f"Member {number}", password=PASSWORD)
        user.email_verified_at = utcnow()
        users.append(user)
    db.session.flush()
    tenant = create_workspace(slug=SLUG, name="Bench GmbH", owner=users[0])
    for user in users[1:]:
        db.session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=Role.MEMBER))
    db.session.commit()
    from kundo.plugins.host import loaded_plugins

    sales = loaded_plugins()["sales"]
    enable_plugin(tenant, "sales", user=users[0], consented_scopes=set(sales.manifest.permissions))
    return TenantScope.of(tenant), [user.id for user in users]


def _pipelines(scope: TenantScope) -> list[dict]:
    """The default pipeline (the board's) and two more, each with the default stages."""
    from kundo_sales.pipelines.service import create_pipeline, ensure_default_pipeline, list_pipelines

    with tenant_session(scope) as session:
        ensure_default_pipeline(session, "en")
        create_pipeline(session, "Renewals")
        create_pipeline(session, "Partners")
        session.flush()
        found = []
        for pipeline in list_pipelines(session):
            stages = pipeline.stages
            found.append({"id": pipeline.id, "name": pipeline.name,
                          "open": [s.id for s in stages if s.kind == "open"],
                          "won": next(s.id for s in stages if s.kind == "won"),
                          "lost": next(s.id for s in stages if s.kind == "lost")})
    return found


def load_deals(url: str, scope: TenantScope, members: list[int], pipelines: list[dict], deals: int,
               board_open: int) -> dict:
    """Deals, stage history and targets in SQL as the tenant's role; then VACUUM ANALYZE."""
    timings: dict = {}
    board, others = pipelines[0], pipelines[1:]
    # The board's pipeline: `board_open` open deals, plus a half as many closed ones.
    board_closed = board_open // 2
    rest = max(0, deals - board_open - board_closed)
    # (pipeline, deals, share of them open, share of the closed ones won)
    plan = [(board, board_open + board_closed, board_open / max(1, board_open + board_closed), 0.6)]
    for index, pipeline in enumerate(others):
        count = rest // len(others) + (rest % len(others) if index == 0 else 0)
        plan.append((pipeline, count, 0.35, 0.6))
    started = time.perf_counter()
    with tenant_session(scope) as session:
        session.execute(text("SELECT setseed(0.42)"))
        for pipeline, count, open_share, won_share in plan:
            if not count:
                continue
            session.execute(text("""
                INSERT INTO sales_deals (name, amount, currency, pipeline_id, stage_id, owner_id, company_id,
                                         expected_close_date, status, lost_reason, next_step, source,
                                         forecast_category, created_at, updated_at, stage_entered_at, closed_at)
                SELECT 'Deal ' || g || ' ' || (ARRAY['Rahmenvertrag','Lizenzen','Wartung','Beratung','Rollout',
                                                     'Erweiterung','Pilot','Schulung'])[1 + g % 8],
                       round((500 + random() ^ 3 * 150000)::numeric, 2),
                       CASE WHEN random() < 0.95 THEN 'EUR' ELSE 'CHF' END,
                       :pipeline,
                       CASE s.status WHEN 'open' THEN k.stages[1 + (random() * (cardinality(k.stages) - 1))::int]
                                     WHEN 'won' THEN :won ELSE :lost END,
                       CASE WHEN random() < 0.95 THEN k.members[1 + (random() * (cardinality(k.members) - 1))::int]
                       END,
                       CASE WHEN random() < 0.7 THEN 1 + (random() * 5000)::int END,
                       CASE s.status WHEN 'open' THEN
                                CASE WHEN random() < 0.9 THEN current_date + (random() * 300 - 60)::int END
                            ELSE (t.closed)::date END,
                       s.status,
                       CASE WHEN s.status = 'lost' THEN (ARRAY['Too expensive','Chose a competitor','No budget',
                                                              'No decision'])[1 + g % 4] END,
                       CASE WHEN s.status = 'open' AND random() < 0.6 THEN 'Call back about the offer' END,
                       (ARRAY['web','referral','event','outbound','partner'])[1 + g % 5],
                       CASE WHEN s.status = 'open' AND random() < 0.2
                            THEN (ARRAY['pipeline','best_case','commit'])[1 + g % 3] END,
                       t.created, greatest(t.entered, t.closed), t.entered,
                       CASE WHEN s.status <> 'open' THEN t.closed END
                FROM generate_series(1, :n) g,
                     (SELECT CAST(:open_stages AS bigint[]) AS stages, CAST(:members AS bigint[]) AS members) k,
                     LATERAL (SELECT CASE WHEN g <= :n * :open_share THEN 'open'
                                          WHEN random() < :won_share THEN 'won' ELSE 'lost' END AS status) s,
                     LATERAL (SELECT now() - random() * interval '730 days' AS created WHERE g > 0) c,
                     LATERAL (SELECT c.created,
                                     c.created + random() * (now() - c.created) AS entered,
                                     CASE WHEN s.status <> 'open'
                                          THEN c.created + random() * least(now() - c.created, interval '200 days')
                                     END AS closed) t
            """), {"pipeline": pipeline["id"], "open_stages": pipeline["open"], "won": pipeline["won"],
                   "lost": pipeline["lost"], "members": members, "n": count, "open_share": open_share,
                   "won_share": won_share})
        # A closed deal entered its closing stage when it closed.
        session.execute(text("UPDATE sales_deals SET stage_entered_at = closed_at WHERE status <> 'open'"))
        timings["deals_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        # Stage history: every deal entered its pipeline's first stage when it was made, and
        # (unless it is still there) its current stage when it moved.
        session.execute(text("""
            WITH first AS (SELECT DISTINCT ON (pipeline_id) pipeline_id, id FROM sales_stages
                           ORDER BY pipeline_id, position)
            INSERT INTO sales_deal_stage_history (deal_id, pipeline_id, from_stage_id, to_stage_id, changed_by,
                                                  changed_at)
            SELECT d.id, d.pipeline_id, NULL, f.id, d.owner_id, d.created_at
            FROM sales_deals d JOIN first f ON f.pipeline_id = d.pipeline_id
            UNION ALL
            SELECT d.id, d.pipeline_id, f.id, d.stage_id, d.owner_id, d.stage_entered_at
            FROM sales_deals d JOIN first f ON f.pipeline_id = d.pipeline_id WHERE d.stage_id <> f.id
        """))
        session.execute(text("""
            INSERT INTO sales_targets (owner_id, month, amount, currency)
            SELECT m, (date_trunc('month', current_date) + make_interval(months => k))::date,
                   round((200000 + random() * 300000)::numeric, -3), 'EUR'
            FROM unnest(CAST(:members AS bigint[])) m, generate_series(-12, 11) k
        """), {"members": members})
        timings["history_and_targets_s"] = round(time.perf_counter() - started, 1)
        counts = session.execute(text("""
            SELECT count(*), count(*) FILTER (WHERE pipeline_id = :board AND status = 'open'),
                   (SELECT count(*) FROM sales_deal_stage_history)
            FROM sales_deals"""), {"board": board["id"]}).one()
    timings["deals"], timings["board_open_deals"], timings["stage_history_rows"] = counts
    started = time.perf_counter()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for table in SALES_TABLES:
            conn.execute(f'VACUUM ANALYZE "{scope.schema_name}".{table}')
        timings["deals_total_size"] = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size(%s))", (f"{scope.schema_name}.sales_deals",)).fetchone()[0]
    timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
    print(f"  loaded: {json.dumps(timings)}", file=sys.stderr, flush=True)
    return timings


# ---- measurements ------------------------------------------------------------------------------


def _stats(durations: list[float]) -> dict:
    ordered = sorted(durations)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return {"runs": len(ordered), "p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2),
            "max_ms": round(ordered[-1], 2), "within_budget": p95 <= BUDGET_MS}


def _timed(name: str, kind: str, call, runs: int) -> dict:
    durations = []
    for run in range(WARM_UP + runs):
        started = time.perf_counter()
        call(run)
        if run >= WARM_UP:
            durations.append((time.perf_counter() - started) * 1000)
    figures = _stats(durations)
    print(f"  {kind} {name}: {figures}", file=sys.stderr, flush=True)
    return figures


def _forecast_args(run: int, members: list[int]) -> dict:
    """The page's default (by month), every fifth run by owner, every seventh one owner's."""
    if run % 5 == 4:
        return {"group_by": "owner"}
    if run % 7 == 6:
        return {"group_by": "month", "owner_id": members[run % len(members)]}
    return {"group_by": "month"}


def bench_service(scope: TenantScope, board_pipeline: int, members: list[int], runs: int) -> dict:
    """The queries of the two pages without HTTP, session or template: the board's columns; forecast + metrics."""
    from kundo_sales.deals.board import board_columns
    from kundo_sales.deals.models import Deal
    from kundo_sales.deals.query import DealFilters, apply_filters
    from kundo_sales.forecast import service

    results = {}

    def board(run: int) -> None:
        filters = DealFilters(pipeline_id=board_pipeline, owner_id=members[run % 10] if run % 4 == 3 else None)
        with tenant_session(scope) as session:
            totals, _sums, cards = board_columns(session, apply_filters(select(Deal), filters))
            assert cards and all(len(column) <= 50 for column in cards.values()), "capped columns"
            assert sum(entry["count"] for entry in totals.values()) >= len(cards)

    def forecast(run: int) -> None:
        today = date.today()
        options = _forecast_args(run, members)
        with tenant_session(scope) as session:
            rows = service.forecast(session, start=today.replace(day=1), months=6, timezone="Europe/Berlin",
                                    group_by=options["group_by"], owner_id=options.get("owner_id"))
            assert rows
            zone_start = utcnow() - timedelta(days=90)
            service.metrics(session, pipeline_id=board_pipeline, start_at=zone_start, end_at=utcnow(),
                            owner_id=options.get("owner_id"))

    results["board"] = _timed("board", "service", board, runs)
    results["forecast"] = _timed("forecast", "service", forecast, runs)
    return results


def bench_pages(app, scope: TenantScope, board_pipeline: int, members: list[int], runs: int) -> dict:
    """GET the board and the forecast page as the signed-in owner (an admin: sees every deal)."""
    browser = HostClient(app.test_client(), f"{SLUG}.{DOMAIN}")
    signed_in = browser.submit("/login", {"email": "member0@bench.example", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code
    results = {}

    def board(run: int) -> None:
        owner = f"&owner_id={members[run % 10]}" if run % 4 == 3 else ""
        response = browser.get(f"/apps/sales/board?pipeline_id={board_pipeline}{owner}")
        assert response.status_code == 200, response.status_code
        if run == 0:
            html = response.get_data(as_text=True)
            cards = len(re.findall(r'data-testid="deal-\d+"', html))
            assert 0 < cards <= 50 * 7, cards
            print(f"  board page: {cards} cards, {len(html) // 1024} KiB of HTML", file=sys.stderr)

    def forecast(run: int) -> None:
        options = _forecast_args(run, members)
        query = "&".join(f"{k}={v}" for k, v in options.items())
        response = browser.get(f"/apps/sales/forecast?{query}")
        assert response.status_code == 200, response.status_code

    results["board"] = _timed("board", "page", board, runs)
    results["forecast"] = _timed("forecast", "page", forecast, runs)
    return results


def _print_summary(results: dict) -> None:
    print(f"\nSales Hub benchmark — {results['deals']:,} deals, board pipeline with {results['board_open_deals']:,} "
          f"open deals, {results['server']}, {results['machine']['cpus']} CPUs, {results['runs']} runs per scenario "
          f"(budget p95 ≤ {BUDGET_MS} ms)")
    print(f"load: {results['load']}")
    print(f"{'scenario':12} {'service p50':>11} {'p95':>8} {'page p50':>9} {'p95':>8}")
    for name, figures in results["service"].items():
        page = results["pages"][name]
        print(f"{name:12} {figures['p50_ms']:>11} {figures['p95_ms']:>8} {page['p50_ms']:>9} {page['p95_ms']:>8}")
    print(f"total runtime {results['total_runtime_s']} s; load average {results['load_average_at_start']} → "
          f"{results['load_average_at_end']}; results in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
