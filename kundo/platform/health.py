"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from kundo.platform.db import db
from kundo.platform.security import csrf, limiter

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
@limiter.exempt
def healthz():
    """The process answers."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
@limiter.exempt
def readyz():
    """The process can reach PostgreSQL."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return jsonify(status="unavailable", database=type(error).__name__), 503
    # Plugins never make Kundo unready; operators see which failed (the reason is in the log).
    from kundo.plugins.host import health_summary

    plugins = {pid: "ok" if state == "ok" else "unhealthy" for pid, state in health_summary().items()}
    return jsonify(status="ok", database="ok", plugins=plugins)


csrf.exempt(blueprint)
