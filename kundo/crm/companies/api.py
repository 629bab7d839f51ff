"""API routes of the CRM's companies feature (filled in by its owner)."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprint = Blueprint("api_crm_companies", __name__, url_prefix="/api/v1", description="CRM: companies")
