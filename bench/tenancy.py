"""Tenancy benchmark: sign-up provisioning, per-transaction overhead, `kundo db upgrade`
across 1,000 tenants, and backend memory of one connection that touches 2,000 tenants.

Not a test: it prints figures and writes bench/results/tenancy.json. It works in its own
throw-away database, on the server at DATABASE_URL or on an embedded PostgreSQL under
var/bench-pgdata, and drops it at the end.

    make bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/tenancy.py
    .venv/bin/python bench/tenancy.py --quick      # small numbers, to check the script itself
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from kundo.platform.app import create_app
from kundo.platform.auth.service import create_user
from kundo.platform.config import Settings
from kundo.platform.db import db, limit_connection_uses
from kundo.platform.security import hash_password
from kundo.tenants.migrations import migrations_root, upgrade_control_plane
from kundo.tenants.models import Tenant
from kundo.tenants.provisioning import provision_spare_schema, tenant_head_revision
from kundo.tenants.service import create_workspace, database_name, sign_up
from kundo.tenants.session import TenantScope, tenant_session
from kundo.tenants.spares import spare_counts
from kundo.tenants.tables import tenant_metadata
from kundo.tenants.workspace import WorkspaceProfile
from kundo.testing.database import create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "tenancy.json"
KUNDO = Path(sys.executable).with_name("kundo")
PASSWORD = "bench horse battery staple"  # noqa: S105 - a throw-away database

BUDGETS = {  # (budget, target); DESIGN.md has the budgets, the brief the targets
    "signup_provisioning_p50_ms": (100, 20),
    "signup_provisioning_built_at_sign_up_p50_ms": (100, 20),
    "tenancy_overhead_ms": (0.5, 0.1),
    "upgrade_1000_tenants_s": (60, 15),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=200, help="timed workspace provisionings")
    parser.add_argument("--upgrade-tenants", type=int, default=1000, help="tenants migrated by `kundo db upgrade`")
    parser.add_argument("--memory-tenants", type=int, default=2000, help="tenants one connection touches")
    parser.add_argument("--max-uses", type=int, nargs="+", default=[Settings.db_conn_max_uses, 100],
                        help="KUNDO_DB_CONN_MAX_USES values for the recycled runs")
    parser.add_argument("--quick", action="store_true", help="20 / 60 / 120 tenants: checks the script, not Kundo")
    parser.add_argument("--only", nargs="+", choices=STEPS, default=STEPS,
                        help="run these measurements only (the tenants they need are made anyway)")
    args = parser.parse_args()
    if args.quick:
        args.signups, args.upgrade_tenants, args.memory_tenants, args.max_uses = 20, 60, 120, [50]

    started = time.perf_counter()
    admin_url = _server_admin_url()
    url = create_database(admin_url, prefix="kundo_bench")
    results: dict = {"machine": _machine(), "load_average_at_start": os.getloadavg()}
    try:
        app = create_app(Settings.from_env({}, database_url=url, domain="kundo.test", log_json=False,
                                           ratelimit_enabled=False))
        with app.app_context():
            upgrade_control_plane(db.engine)
            results["server"] = db.session.scalar(text("SHOW server_version"))
            db.session.rollback()
            owner_id = _owner()
            steps = [
                ("provisioning", lambda: bench_provisioning(owner_id, args.signups)),
                ("signup_with_password", bench_signup_with_password),
                ("tenancy_overhead", lambda: bench_tenancy_overhead(owner_id)),
                ("fill_to_upgrade", lambda: fill_tenants(app, owner_id, args.upgrade_tenants)),
                ("upgrade", lambda: bench_upgrade(url, args.upgrade_tenants)),
                ("fill_to_memory", lambda: fill_tenants(app, owner_id, args.memory_tenants)),
                ("memory", lambda: bench_memory(url, args.memory_tenants, args.max_uses)),
            ]
            for name, step in steps:
                if name not in args.only and not (name.startswith("fill_") and _needs_fill(name, args.only)):
                    continue
                step_started = time.perf_counter()
                results[name] = step()
                print(f"  {name}: {time.perf_counter() - step_started:.1f} s", file=sys.stderr, flush=True)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(admin_url, url)
    results["total_runtime_s"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = os.getloadavg()
    results["verdicts"] = _verdicts(results) if set(args.only) == set(STEPS) else {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _print_summary(results)


# ---- set-up ---------------------------------------------------------------------------------


STEPS = ["provisioning", "signup_with_password", "tenancy_overhead", "upgrade", "memory"]


def _needs_fill(fill: str, only: list[str]) -> bool:
    return ("upgrade" in only) if fill == "fill_to_upgrade" else ("memory" in only)


def _server_admin_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from kundo.platform.embedded import start_embedded_postgres, var_dir

    return start_embedded_postgres(var_dir() / "bench-pgdata", database="postgres")


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _owner() -> int:
    user = create_user(email="owner@bench.example", name="Bench Owner", password=PASSWORD)
    db.session.commit()
    return user.id


def _percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "max_ms": round(ordered[-1], 3),
    }


_slugs = iter(range(10**9))


def _provision_one(owner_id: int) -> Tenant:
    """What sign-up does for the workspace: provision_tenant + owner membership, one commit."""
    from kundo.platform.auth.models import User

    tenant = create_workspace(slug=f"bench-{next(_slugs)}", name="Bench GmbH", owner=db.session.get(User, owner_id))
    db.session.commit()
    return tenant


# ---- 1. sign-up provisioning ----------------------------------------------------------------------


def bench_provisioning(owner_id: int, count: int) -> dict:
    """Sign-up's workspace step, built on the spot and claimed from ready spare schemas."""
    for _ in range(5):  # warm-up: DDL compile cache, connection pool, catalog caches
        _provision_one(owner_id)
    built = _time_provisioning(owner_id, count)
    filling = []
    for _ in range(count):
        start = time.perf_counter()
        provision_spare_schema(db.session, database_name=database_name())
        db.session.commit()
        filling.append((time.perf_counter() - start) * 1000)
    claimed = _time_provisioning(owner_id, count)
    left = sum(spare_counts(db.session).values())
    db.session.rollback()
    tables = len(tenant_metadata.sorted_tables)
    indexes = sum(len(table.indexes) for table in tenant_metadata.sorted_tables)
    return {
        "what": "create_workspace (provision_tenant + owner membership) + commit, no password hashing",
        "tenant_tables": tables, "tenant_indexes": indexes,
        "built_at_sign_up": _percentiles(built),
        "from_spare": {**_percentiles(claimed), "spares_left": left},
        "making_one_spare": _percentiles(filling),
    }


def _time_provisioning(owner_id: int, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        _provision_one(owner_id)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def bench_signup_with_password(count: int = 10) -> dict:
    hashing = []
    for _ in range(count):
        start = time.perf_counter()
        hash_password(PASSWORD)
        hashing.append((time.perf_counter() - start) * 1000)
    full = []
    for n in range(count):
        start = time.perf_counter()
        sign_up(company_name="Signup AG", slug=f"signup-{n}", name="Sig Nup", email=f"signup{n}@bench.example",
                password=PASSWORD)
        db.session.commit()
        full.append((time.perf_counter() - start) * 1000)
    return {"argon2_hash": _percentiles(hashing),
            "full_sign_up": {"what": "service.sign_up: user (argon2) + workspace + mail + audit, one commit",
                             **_percentiles(full)}}


# ---- 2. tenancy overhead per transaction ----------------------------------------------------------


def bench_tenancy_overhead(owner_id: int, rounds: int = 10, per_round: int = 200) -> dict:
    """The same one-row query, in a tenant session versus a plain session on the same pool."""
    tenant = db.session.scalar(select(Tenant).order_by(Tenant.id).limit(1)) or _provision_one(owner_id)
    scope = TenantScope.of(tenant)
    db.session.rollback()
    plain_bind = db.engine.execution_options(schema_translate_map={"tenant": scope.schema_name})
    query = select(WorkspaceProfile.company_name).where(WorkspaceProfile.id == 1)

    def tenanted() -> None:
        with tenant_session(scope) as session:
            session.execute(query).scalar_one()

    def untenanted() -> None:
        with Session(bind=plain_bind, expire_on_commit=False) as session, session.begin():
            session.execute(query).scalar_one()

    samples: dict[str, list[float]] = {"tenant": [], "plain": []}
    for _ in range(per_round):  # warm-up
        tenanted()
        untenanted()
    for round_ in range(rounds):  # alternate the order so drift hits both sides alike
        order = (("tenant", tenanted), ("plain", untenanted))
        for name, run in order if round_ % 2 == 0 else order[::-1]:
            for _ in range(per_round):
                start = time.perf_counter()
                run()
                samples[name].append((time.perf_counter() - start) * 1000)
    tenant_stats, plain_stats = _percentiles(samples["tenant"]), _percentiles(samples["plain"])
    return {
        "what": "select one row in its own transaction: tenant_session vs plain Session, same pool",
        "tenant": tenant_stats,
        "plain": plain_stats,
        "overhead_p50_ms": round(tenant_stats["p50_ms"] - plain_stats["p50_ms"], 3),
        "overhead_mean_ms": round(tenant_stats["mean_ms"] - plain_stats["mean_ms"], 3),
    }


# ---- 3. kundo db upgrade across 1,000 tenants --------------------------------------------------------


def fill_tenants(app, owner_id: int, total: int) -> dict:
    """Provision until `total` tenants exist, two at a time (one per core)."""
    missing = total - db.session.scalar(select(db.func.count()).select_from(Tenant))
    db.session.rollback()
    start = time.perf_counter()

    def provision(n: int) -> None:
        with app.app_context():
            for _ in range(n):
                _provision_one(owner_id)
            db.session.remove()

    if missing > 0:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(provision, [missing // 2, missing - missing // 2]))
    seconds = time.perf_counter() - start
    return {"provisioned": max(missing, 0), "seconds": round(seconds, 1),
            "per_second": round(max(missing, 0) / seconds, 1) if seconds else None}


@contextmanager
def migrations_with_extra_column():
    """A copy of migrations/ with one more tenant revision that adds a column."""
    with tempfile.TemporaryDirectory(prefix="kundo-bench-migrations-") as folder:
        copy = Path(folder) / "migrations"
        shutil.copytree(migrations_root(), copy, ignore=shutil.ignore_patterns("__pycache__"))
        (copy / "tenant" / "versions" / "bench_add_column.py").write_text(textwrap.dedent(f'''\
            """bench: add one column to every tenant"""
            import sqlalchemy as sa
            from alembic import op

            revision = "bench_add_column"
            down_revision = "{tenant_head_revision()}"
            branch_labels = None
            depends_on = None


            def upgrade():
                op.add_column("workspace_profile", sa.Column("bench_note", sa.String(100)))


            def downgrade():
                op.drop_column("workspace_profile", "bench_note")
            '''))
        yield copy


def _kundo_db_upgrade(url: str, migrations: Path, workers: int = 2) -> tuple[float, str]:
    env = {**os.environ, "DATABASE_URL": url, "KUNDO_MIGRATIONS_DIR": str(migrations), "KUNDO_LOG_JSON": "0"}
    start = time.perf_counter()
    done = subprocess.run([str(KUNDO), "db", "upgrade", "--workers", str(workers)], env=env, capture_output=True,
                          text=True, check=False, timeout=900)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"kundo db upgrade failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout.strip().splitlines()[-1]


def bench_upgrade(url: str, tenants: int) -> dict:
    with migrations_with_extra_column() as migrations:
        seconds, summary = _kundo_db_upgrade(url, migrations)
        again, summary_again = _kundo_db_upgrade(url, migrations)
    columns = db.session.scalar(text(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'bench_note'"))
    db.session.rollback()
    return {"what": f"`kundo db upgrade --workers 2` (a real process) adding one column in {tenants} tenant schemas",
            "tenants": tenants, "seconds": round(seconds, 2), "summary": summary,
            "schemas_with_new_column": columns,
            "second_run_all_at_head_seconds": round(again, 2), "second_run_summary": summary_again}


# ---- 4. backend memory of one connection across 2,000 tenants ------------------------------------------

_MEMORY_SQL = """
SELECT pg_backend_pid(),
       (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
       (SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext')
"""


def _rss_anon_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _touch_every_table_sql() -> str:
    """One request that reads every tenant table once (the worst case for catalog caches)."""
    return "SELECT " + ", ".join(
        f'(SELECT count(*) FROM "{table.name}")' for table in tenant_metadata.sorted_tables
    )


def _walk(url: str, scopes: list[TenantScope], max_uses: int, sample_every: int) -> dict:
    """One tenant transaction per tenant through a one-connection pool, as a web worker would.

    The memory is read in the same checkout, right after the tenant transaction, so the
    reading neither counts as a use of its own nor lands on a fresh backend.
    """
    engine = create_engine(url, pool_size=1, max_overflow=0)
    limit_connection_uses(engine, max_uses)
    touch = text(_touch_every_table_sql())
    samples, backends = [], set()
    start = time.perf_counter()
    for n, scope in enumerate(scopes, start=1):
        with engine.connect() as connection:
            with connection.begin():  # what tenant_session does: SET LOCAL ROLE + search_path, then the work
                connection.exec_driver_sql(scope.enter_sql)
                connection.execute(touch).one()
            if n % sample_every == 0 or n == len(scopes):
                pid, total, cache = connection.exec_driver_sql(_MEMORY_SQL).one()
                connection.rollback()
                backends.add(pid)
                samples.append({"tenants": n, "backend_pid": pid, "contexts_mib": round(int(total) / 2**20, 1),
                                "cache_mib": round(int(cache) / 2**20, 1), "rss_anon_mib": _mib(_rss_anon_kib(pid))})
    seconds = time.perf_counter() - start
    engine.dispose()
    return {
        "max_uses": max_uses or None,
        "backends_used": len(backends),
        "peak_contexts_mib": max(s["contexts_mib"] for s in samples),
        "final_contexts_mib": samples[-1]["contexts_mib"],
        "peak_rss_anon_mib": max((s["rss_anon_mib"] or 0) for s in samples) or None,
        "mib_per_tenant_without_recycling": None if max_uses else round(samples[-1]["contexts_mib"] / len(scopes), 3),
        "seconds": round(seconds, 1),
        "samples": samples,
    }


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def bench_memory(url: str, tenants: int, max_uses: list[int]) -> dict:
    scopes = [TenantScope.of(t) for t in db.session.scalars(select(Tenant).order_by(Tenant.id).limit(tenants))]
    db.session.rollback()
    sample_every = max(1, tenants // 100)
    return {
        "what": f"one pooled connection runs one transaction in each of {len(scopes)} tenants, "
                f"each reading all {len(tenant_metadata.sorted_tables)} tenant tables; "
                "memory = sum of pg_backend_memory_contexts (RssAnon from /proc where readable)",
        "without_recycling": _walk(url, scopes, 0, sample_every),
        **{f"recycled_after_{uses}_uses": _walk(url, scopes, uses, sample_every) for uses in max_uses},
    }


# ---- report ----------------------------------------------------------------------------------------------


def _verdicts(results: dict) -> dict:
    figures = {
        "signup_provisioning_p50_ms": results["provisioning"]["from_spare"]["p50_ms"],
        "signup_provisioning_built_at_sign_up_p50_ms": results["provisioning"]["built_at_sign_up"]["p50_ms"],
        "tenancy_overhead_ms": results["tenancy_overhead"]["overhead_p50_ms"],
        "upgrade_1000_tenants_s": results["upgrade"]["seconds"],
    }
    verdicts = {}
    for key, value in figures.items():
        budget, target = BUDGETS[key]
        verdicts[key] = {"value": value, "budget": budget, "target": target,
                         "within_budget": value <= budget, "within_target": value <= target}
    memory = results["memory"]
    without = memory["without_recycling"]["peak_contexts_mib"]
    for name, walk in memory.items():
        if name.startswith("recycled_after_"):
            verdicts[f"memory_{name}"] = {"peak_without_mib": without, "peak_with_mib": walk["peak_contexts_mib"],
                                          "bounded": walk["peak_contexts_mib"] < without}
    return verdicts


def _print_summary(results: dict) -> None:
    if not results["verdicts"]:  # a partial run (--only): the figures as they are
        print(json.dumps({k: v for k, v in results.items() if k != "memory"}, indent=2))
        return
    p, s, o, u, m = (results[k] for k in ("provisioning", "signup_with_password", "tenancy_overhead", "upgrade",
                                           "memory"))
    print(f"PostgreSQL {results['server']}, {results['machine']['cpus']} CPUs, total {results['total_runtime_s']} s, "
          f"load average {results['load_average_at_start'][0]:.1f} at start, "
          f"{results['load_average_at_end'][0]:.1f} at end\n")
    print(f"sign-up provisioning ({p['tenant_tables']} tables, {p['tenant_indexes']} indexes per tenant):")
    for label, key in (("built at sign-up", "built_at_sign_up"), ("from a spare", "from_spare"),
                       ("making one spare", "making_one_spare")):
        figures = p[key]
        print(f"  {label:<17} n={figures['n']}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
              f"max {figures['max_ms']} ms")
    print(f"  argon2 hash alone: p50 {s['argon2_hash']['p50_ms']} ms;  "
          f"full sign_up with password: p50 {s['full_sign_up']['p50_ms']} ms, p95 {s['full_sign_up']['p95_ms']} ms")
    print(f"tenancy overhead per transaction: {o['overhead_p50_ms']} ms at p50 ({o['overhead_mean_ms']} ms mean); "
          f"tenant p50 {o['tenant']['p50_ms']} ms vs plain p50 {o['plain']['p50_ms']} ms")
    print(f"kundo db upgrade, one column in {u['tenants']} tenants, 2 workers: {u['seconds']} s "
          f"({u['summary']}); again with all at head: {u['second_run_all_at_head_seconds']} s")
    for name, walk in m.items():
        if not isinstance(walk, dict):
            continue
        step = max(1, len(walk["samples"]) // 6)
        trail = ", ".join(f"{s['tenants']}:{s['contexts_mib']}" for s in walk["samples"][::step])
        print(f"backend memory {name.replace('_', ' ')} (max uses {walk['max_uses']}): peak {walk['peak_contexts_mib']}"
              f" MiB contexts, RssAnon peak {walk['peak_rss_anon_mib']} MiB, {walk['backends_used']} backend(s); "
              f"tenants:MiB {trail}")
    print("\nverdicts:")
    for key, verdict in results["verdicts"].items():
        print(f"  {key}: {verdict}")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
