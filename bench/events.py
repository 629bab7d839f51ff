"""Events benchmark: from commit to executed action, through each broker.

A tenant commits events in transactions of 50 (as a busy workspace does); one consumer per
event runs the action. Two actions are measured: "ledger" (the consumer does nothing, so
only the delivery itself is timed: relay, broker, dispatch, ledger row) and "task" (a
workflow-sized action: it creates a task, which itself emits `task.created`).
The worker runs in this process with 4 threads beside the emitter, on the same 2 cores.
Each is run twice: a burst (all events committed as fast as the emitter can) gives the
throughput, events/s from the first commit to the last action; a paced run at the target
rate (1,000 events/s) gives the latency from each event's commit to its action
(p50/p95/max) — in a burst, latency only measures the backlog the burst itself made.

Not a test: it prints figures and writes bench/results/events.json. It works in its own
throw-away database on the server at DATABASE_URL (or an embedded PostgreSQL) and drops it.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/events.py
    .venv/bin/python bench/events.py --events 500 --brokers postgres     # a quick check of the script
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

from kundo.crm import create_task
from kundo.platform.app import create_app
from kundo.platform.auth.service import create_user
from kundo.platform.config import Settings
from kundo.platform.db import db
from kundo.platform.events import Consumer, emit_event, register_consumer
from kundo.platform.jobs import jobs_of
from kundo.platform.jobs.worker import BackgroundWorker
from kundo.tenants.migrations import upgrade_control_plane
from kundo.tenants.service import create_workspace
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.database import create_database, drop_database, server_admin_url

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "events.json"
BROKERS = {
    "postgres": "",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "redis": "redis://127.0.0.1:6379/0",
}
PER_TRANSACTION = 50
TARGET = {"events_per_s": 1000, "p95_s": 1.0}


def bench_broker(database_url: str, kind: str, events: int, action: str, rate: float | None) -> dict:
    app = create_app(Settings.from_env(
        {}, database_url=database_url, domain="kundo.test", log_json=False, ratelimit_enabled=False,
        argon2_profile="fast", broker_url=BROKERS[kind], queue_prefix=f"kundo-bench-{uuid.uuid4().hex[:6]}"))
    committed: dict[int, float] = {}
    acted: dict[int, float] = {}
    done = threading.Event()
    lock = threading.Lock()

    def act(session, event):
        if action == "task":
            create_task(session, title=f"Follow up {event.payload['n']}")
        with lock:  # the action is committed with its savepoint; the batch commits right after
            acted[event.id] = time.perf_counter()
            if len(acted) >= events:
                done.set()

    with app.app_context():
        label = f"{kind}-{action}-{'paced' if rate else 'burst'}"
        user = create_user(email=f"bench-{label}@example.org", name="Bench", password=uuid.uuid4().hex)
        tenant = create_workspace(slug=f"bench-{label}", name="Bench GmbH", owner=user)
        db.session.commit()
        scope = TenantScope.of(tenant)
    register_consumer(app, Consumer(name="bench.follow_up", handle=act, event_types=frozenset({"bench.ping"}),
                                    applies_to=lambda tenant_id: tenant_id == scope.tenant_id))
    worker = BackgroundWorker(app, threads=4).start()
    try:
        time.sleep(1.0)  # the relay has swept and listens
        started = time.perf_counter()
        with app.app_context():
            for first in range(0, events, PER_TRANSACTION):
                with tenant_session(scope) as session:
                    rows = [emit_event(session, "bench.ping", payload={"n": n})
                            for n in range(first, min(first + PER_TRANSACTION, events))]
                    session.flush()
                    ids = [row.id for row in rows]
                at = time.perf_counter()
                committed.update((event_id, at) for event_id in ids)
                if rate:  # hold the pace: the next transaction when its time has come
                    pause = started + (first + PER_TRANSACTION) / rate - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
            emitted = time.perf_counter()
        finished = done.wait(timeout=max(60.0, events / 50))
        ended = time.perf_counter()
    finally:
        worker.stop()
        jobs_of(app).close()
        with app.app_context():
            db.engine.dispose()
    latencies = sorted(acted[i] - committed[i] for i in acted if i in committed)
    last = max(acted.values()) if acted else ended
    return {
        "events": events, "acted": len(acted), "complete": finished,
        "emit_s": round(emitted - started, 3),
        "events_per_s": round(len(acted) / (last - started), 1),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(latencies[int(len(latencies) * 0.95) - 1], 3),
        "latency_max_s": round(latencies[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--brokers", default="postgres,rabbitmq,redis")
    parser.add_argument("--actions", default="ledger,task")
    args = parser.parse_args()
    admin_url = server_admin_url()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "load_average_at_start": os.getloadavg(), "target": TARGET, "brokers": {}}
    for kind in args.brokers.split(","):
        for action in args.actions.split(","):
            url = create_database(admin_url, prefix="kundo_bench")
            try:
                settings = Settings.from_env({}, database_url=url)
                app = create_app(settings)
                with app.app_context():
                    upgrade_control_plane(db.engine)
                    db.engine.dispose()
                burst = bench_broker(url, kind, args.events, action, rate=None)
                paced = bench_broker(url, kind, args.events, action, rate=TARGET["events_per_s"])
            finally:
                drop_database(admin_url, url)
            results["brokers"].setdefault(kind, {})[action] = {"burst": burst, "paced": paced}
            print(f"{kind:9} {action:7} burst {burst['events_per_s']:7.1f} events/s; at {TARGET['events_per_s']}/s: "
                  f"latency p50 {paced['latency_p50_s']:.3f} s  p95 {paced['latency_p95_s']:.3f} s  "
                  f"max {paced['latency_max_s']:.3f} s  ({burst['acted'] + paced['acted']}/{2 * args.events} acted)",
                  file=sys.stderr)
    results["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["brokers"], indent=2))


if __name__ == "__main__":
    main()
