"""API: a contact's GDPR export (a JSON download) and erasure (admins only)."""

from __future__ import annotations

import json

from flask import abort, g, make_response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from kundo.crm.gdpr import service
from kundo.crm.gdpr.schemas import ContactEraseSchema, ContactExportSchema, ErasureSchema
from kundo.platform.api import token_required
from kundo.platform.audit.models import AuditEntry
from kundo.platform.audit.service import record_audit
from kundo.platform.db import db
from kundo.platform.errors import Problem
from kundo.tenants.models import Role
from kundo.tenants.resolution import current_tenant_db

blueprint = Blueprint("api_crm_gdpr", __name__, url_prefix="/api/v1", description="CRM: GDPR export and erasure")

#: Ids are PostgreSQL bigints; a larger number in the URL is simply not found.
ID = "int(max=9223372036854775807)"


@blueprint.route(f"/contacts/<{ID}:contact_id>/gdpr-export")
class ContactExport(MethodView):
    @token_required("read")
    @blueprint.response(200, ContactExportSchema)
    def get(self, contact_id: int):
        """Download everything stored about a contact, as one JSON file"""
        try:
            export = service.export_contact(current_tenant_db(), contact_id)
        except service.ContactNotFound as error:
            abort(404, description=str(error))
        response = make_response(json.dumps(export, ensure_ascii=False, indent=2))
        response.mimetype = "application/json"
        response.headers["Content-Disposition"] = f'attachment; filename="contact-{contact_id}-gdpr-export.json"'
        return response


@blueprint.route(f"/contacts/<{ID}:contact_id>/erase")
class ContactErase(MethodView):
    @token_required("write", role=Role.ADMIN)
    @blueprint.arguments(ContactEraseSchema)
    @blueprint.response(200, ErasureSchema)
    def post(self, data, contact_id: int):
        """Erase a contact's personal data for good (send its id as `confirm`)"""
        if data["confirm"].strip() != str(contact_id):
            message = f"Type the contact's id ({contact_id}) as `confirm` to erase it. This cannot be undone."
            raise Problem(422, message, errors={"confirm": [message]})
        tenant_db = current_tenant_db()
        try:
            result = service.erase_contact(tenant_db, contact_id, actor_id=g.user.id)
        except service.ContactNotFound as error:
            tenant_db.rollback()
            abort(404, description=str(error))
        # The erasure commits first: it is what the person asked for. Should the audit
        # commit fail, repeating the request (harmless) records the missing entry.
        tenant_db.commit()
        if not result.already_erased or not _audited(result.audit["target"]):
            record_audit(tenant_id=g.tenant.id, actor_user_id=g.user.id, **result.audit)
            db.session.commit()
        return result


def _audited(target: str) -> bool:
    return db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.tenant_id == g.tenant.id, AuditEntry.action == "contact.erased", AuditEntry.target == target,
    ).limit(1)) is not None
