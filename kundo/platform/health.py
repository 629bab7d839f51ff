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
    return jsonify(status="ok", database="ok")


csrf.exempt(blueprint)
