"""Plugin benchmark: start-up time and per-request overhead with 0, 3 and 50 installed plugins.

Not a test: it prints figures and writes bench/results/plugins.json. The plugins are
generated: tiny distributions (a package with a page blueprint, a nav entry and an event
handler, plus a `*.dist-info` folder with METADATA and entry_points.txt) written into a
temporary folder put on sys.path, and approved in `control.approved_plugins` of a
throw-away database (on the server at DATABASE_URL or an embedded PostgreSQL under
var/bench-pgdata), which is dropped at the end.

For each count the script measures
- start-up: `create_app` (the plugin host reads the approved names, imports each plugin
  through stevedore, checks and mounts it), cold imports each time;
- per request, in a workspace that enabled every plugin: the dashboard page (navigation
  and widgets of enabled plugins), an API list call (the 404 gate's look-up) and, with
  plugins, one plugin's own page. Overhead = p50 with N plugins − p50 with none.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/plugins.py
    .venv/bin/python bench/plugins.py --quick      # few runs, to check the script itself
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from sqlalchemy import delete, text

from kundo.platform.app import create_app
from kundo.platform.auth.service import create_api_token, create_user
from kundo.platform.config import Settings
from kundo.platform.db import db
from kundo.tenants.migrations import upgrade_control_plane
from kundo.tenants.service import create_workspace
from kundo.testing.database import create_database, drop_database
from kundo.testing.web import HostClient

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "plugins.json"
PASSWORD = "bench horse battery staple"  # noqa: S105 - a throw-away database
DOMAIN = "kundo.test"
COUNTS = (0, 3, 50)
PREFIX = "kbench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--startups", type=int, default=7, help="create_app runs per plugin count")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per kind and plugin count")
    parser.add_argument("--quick", action="store_true", help="2 start-ups, 40 requests: checks the script")
    args = parser.parse_args()
    if args.quick:
        args.startups, args.requests = 2, 40

    started = time.perf_counter()
    admin_url = _server_admin_url()
    url = create_database(admin_url, prefix="kundo_bench")
    results: dict = {"machine": _machine(), "load_average_at_start": os.getloadavg(), "counts": {}}
    with tempfile.TemporaryDirectory(prefix="kundo-bench-plugins-") as folder:
        site = Path(folder)
        _write_distributions(site, max(COUNTS))
        sys.path.insert(0, str(site))
        try:
            app = _app(url)
            with app.app_context():
                upgrade_control_plane(db.engine)
                results["server"] = db.session.scalar(text("SHOW server_version"))
                owner = create_user(email="owner@bench.example", name="Bench Owner", password=PASSWORD)
                tenant = create_workspace(slug="bench", name="Bench GmbH", owner=owner)
                _token_row, token = create_api_token(tenant_id=tenant.id, user=owner, name="bench",
                                                     scopes=["read", "write", "admin"])
                db.session.commit()
            for count in COUNTS:
                print(f"— {count} plugins")
                results["counts"][str(count)] = _measure(url, count, token, args)
            setup_engine_dispose(app)
        finally:
            sys.path.remove(str(site))
            drop_database(admin_url, url)
    base = results["counts"]["0"]
    for count in COUNTS[1:]:
        figures = results["counts"][str(count)]
        figures["startup_overhead_ms"] = round(figures["startup"]["p50_ms"] - base["startup"]["p50_ms"], 1)
        for kind in ("dashboard", "api_list"):
            figures[f"{kind}_overhead_ms"] = round(figures[kind]["p50_ms"] - base[kind]["p50_ms"], 3)
    results["total_runtime_s"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    _print_summary(results)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def _app(url: str):
    return create_app(Settings.from_env({}, database_url=url, domain=DOMAIN, log_json=False,
                                        ratelimit_enabled=False, argon2_profile="fast"))


def _write_distributions(site: Path, count: int) -> None:
    """`count` installable-looking plugins: package + dist-info with an entry point, nothing else."""
    for i in range(count):
        plugin_id, package = f"{PREFIX}_{i}", f"{PREFIX}_plugin_{i}"
        (site / package).mkdir()
        (site / package / "__init__.py").write_text(textwrap.dedent(f'''
            from flask import Blueprint

            from kundo.plugins.sdk import EventHandler, NavItem, Plugin, load_manifest

            pages = Blueprint("{plugin_id}", __name__)


            @pages.get("/")
            def home():
                return "plugin {i}"


            def on_contact(session, event):
                pass


            class BenchPlugin(Plugin):
                manifest = load_manifest({{"id": "{plugin_id}", "name": "Bench plugin {i}", "version": "1.0.0",
                                           "publisher": "Bench", "summary": "A generated plugin for the bench."}})

                def blueprints(self):
                    return [pages]

                def nav_items(self):
                    return [NavItem("{plugin_id}", "Bench {i}", "{plugin_id}.home", order=500 + {i})]

                def event_handlers(self):
                    return [EventHandler("contact.created", on_contact)]
        '''), encoding="utf-8")
        dist_info = site / f"{package}-1.0.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0.0\n",
                                            encoding="utf-8")
        (dist_info / "entry_points.txt").write_text(f"[kundo.plugins]\n{plugin_id} = {package}:BenchPlugin\n",
                                                    encoding="utf-8")


def _approve(count: int) -> None:
    from kundo.plugins.models import ApprovedPlugin, TenantPlugin

    db.session.execute(delete(TenantPlugin))
    db.session.execute(delete(ApprovedPlugin).where(ApprovedPlugin.plugin_id.like(f"{PREFIX}\\_%")))
    for i in range(count):
        db.session.add(ApprovedPlugin(plugin_id=f"{PREFIX}_{i}", version="1.0.0", source="marketplace"))
    db.session.commit()


def _forget_imports() -> None:
    """Each start-up imports the plugins afresh, as a new process would."""
    import importlib

    from stevedore import ExtensionManager, _cache

    for name in [n for n in sys.modules if n.startswith(f"{PREFIX}_plugin_")]:
        del sys.modules[name]
    ExtensionManager.ENTRY_POINT_CACHE.clear()
    _cache._c._internal.clear()
    importlib.invalidate_caches()


def _measure(url: str, count: int, token: str, args) -> dict:
    from kundo.plugins import enable_plugin, loaded_plugins
    from kundo.tenants.resolution import find_tenant

    setup = _app(url)
    with setup.app_context():
        _approve(count)
    setup_engine_dispose(setup)
    startups, app = [], None
    for _run in range(args.startups):
        if app is not None:
            setup_engine_dispose(app)
        _forget_imports()
        began = time.perf_counter()
        app = create_app(Settings.from_env({}, database_url=url, domain=DOMAIN, log_json=False,
                                           ratelimit_enabled=False, argon2_profile="fast"))
        startups.append((time.perf_counter() - began) * 1000)
    bench = [p for p in loaded_plugins(app) if p.startswith(PREFIX)]
    unhealthy = {p: lp.error for p, lp in loaded_plugins(app).items() if p.startswith(PREFIX) and not lp.healthy}
    assert len(bench) == count and not unhealthy, unhealthy
    with app.app_context():
        tenant = find_tenant("bench")
        from kundo.platform.auth.models import User

        owner = db.session.query(User).filter_by(email="owner@bench.example").one()
        for plugin_id in sorted(bench):
            enable_plugin(tenant, plugin_id, user=owner, consented_scopes=[])
    browser = HostClient(app.test_client(), f"bench.{DOMAIN}")
    assert browser.submit("/login", {"email": "owner@bench.example", "password": PASSWORD}).status_code == 302
    figures = {"plugins_loaded": len(bench), "startup": _percentiles(startups)}
    figures["dashboard"] = _time(lambda: browser.get("/"), args.requests)
    figures["api_list"] = _time(lambda: browser.api("GET", "/api/v1/contacts?limit=1", token), args.requests)
    if count:
        figures["plugin_page"] = _time(lambda: browser.get(f"/apps/{PREFIX}_0/"), args.requests)
    setup_engine_dispose(app)
    for key in ("startup", "dashboard", "api_list", "plugin_page"):
        if key in figures:
            print(f"  {key:<12} p50 {figures[key]['p50_ms']:8.2f} ms   p95 {figures[key]['p95_ms']:8.2f} ms")
    return figures


def setup_engine_dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def _time(call, runs: int) -> dict:
    for _warm in range(20):
        assert call().status_code == 200
    samples = []
    for _run in range(runs):
        began = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return _percentiles(samples)


def _percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 3),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
            "max_ms": round(ordered[-1], 3)}


def _print_summary(results: dict) -> None:
    print("\nplugins  start-up p50   dashboard p50   API list p50   (overhead vs 0 plugins)")
    for count in COUNTS:
        f = results["counts"][str(count)]
        extra = "" if not count else (f"   (+{f['startup_overhead_ms']} ms, +{f['dashboard_overhead_ms']} ms, "
                                      f"+{f['api_list_overhead_ms']} ms)")
        print(f"{count:>7}  {f['startup']['p50_ms']:10.1f} ms  {f['dashboard']['p50_ms']:10.2f} ms  "
              f"{f['api_list']['p50_ms']:10.2f} ms{extra}")


def _server_admin_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from kundo.platform.embedded import start_embedded_postgres, var_dir

    return start_embedded_postgres(var_dir() / "bench-pgdata", database="postgres")


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    main()
