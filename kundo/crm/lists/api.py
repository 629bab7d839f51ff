"""API routes of the CRM's lists feature (filled in by its owner)."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprint = Blueprint("api_crm_lists", __name__, url_prefix="/api/v1", description="CRM: lists")
