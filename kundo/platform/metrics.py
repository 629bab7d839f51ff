"""Prometheus `/metrics`: request rate and latency by endpoint, plus what operators watch.

Each app has its own registry (a test process builds many apps; the global registry
would refuse the second). Gauges that need the database are read when scraped, not kept
up to date on every change. With `KUNDO_METRICS_TOKEN` set, a scrape must send it as a
bearer token; without it, only loopback may scrape.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from kundo.platform.db import db
from kundo.platform.security import csrf, limiter

EXTENSION_KEY = "kundo.metrics"
blueprint = Blueprint("metrics", __name__)


class OperatorFigures:
    """Scrape-time gauges: dead letters waiting, workspaces, unhealthy plugins."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        from kundo.platform.jobs.models import DeadLetter
        from kundo.plugins.host import health_summary
        from kundo.tenants.models import Tenant

        with self.app.app_context():
            waiting = DeadLetter.retried_at.is_(None)
            dead = db.session.scalar(select(func.count()).select_from(DeadLetter).where(waiting))
            tenants = db.session.scalar(select(func.count()).select_from(Tenant))
            unhealthy = sum(1 for state in health_summary().values() if state != "ok")
            db.session.remove()
        yield GaugeMetricFamily("kundo_dead_letters", "Jobs and timers that failed for good and wait for a retry",
                                value=dead)
        yield GaugeMetricFamily("kundo_workspaces", "Workspaces in this database", value=tenants)
        yield GaugeMetricFamily("kundo_unhealthy_plugins", "Approved plugins that failed to load", value=unhealthy)


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=False)  # describing would query before migrations
    requests = Counter("kundo_http_requests", "HTTP requests", ["method", "endpoint", "status"], registry=registry)
    latency = Histogram("kundo_http_request_seconds", "HTTP request duration", ["endpoint"], registry=registry,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
    registry.register(OperatorFigures(app))
    app.extensions[EXTENSION_KEY] = registry

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None and request.endpoint != "metrics.metrics":
            endpoint = request.endpoint or "unmatched"  # unmatched URLs must not grow the label set
            requests.labels(request.method, endpoint, str(response.status_code)).inc()
            latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(blueprint)


@blueprint.get("/metrics")
@limiter.exempt
def metrics():
    """The app's figures in Prometheus' text format."""
    token = current_app.config["KUNDO"].metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response("metrics need the bearer token in KUNDO_METRICS_TOKEN\n", 401, mimetype="text/plain")
    elif request.remote_addr not in ("127.0.0.1", "::1"):
        return Response("set KUNDO_METRICS_TOKEN to scrape from another host\n", 403, mimetype="text/plain")
    return Response(generate_latest(current_app.extensions[EXTENSION_KEY]), mimetype=CONTENT_TYPE_LATEST)


csrf.exempt(blueprint)
