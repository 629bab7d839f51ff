"""API routes of the CRM's imports feature (filled in by its owner)."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprint = Blueprint("api_crm_imports", __name__, url_prefix="/api/v1", description="CRM: imports")
