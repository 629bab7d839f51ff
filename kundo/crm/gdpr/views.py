"""Pages: a contact's GDPR export (a JSON download) and erasure (admins, name typed to confirm)."""

from __future__ import annotations

import json

from flask import flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _

from kundo.crm.gdpr import service
from kundo.crm.pages import require_admin
from kundo.crm.records import load_contact, render_record
from kundo.crm.views import ID, blueprint
from kundo.platform.audit.service import record_audit
from kundo.platform.auth.session import login_required
from kundo.platform.db import db
from kundo.tenants.resolution import current_tenant_db


@blueprint.get(f"/contacts/<{ID}:contact_id>/gdpr-export")
@login_required
def gdpr_export(contact_id: int):
    contact = load_contact(contact_id)
    export = service.export_contact(current_tenant_db(), contact.id)
    response = make_response(json.dumps(export, ensure_ascii=False, indent=2))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="contact-{contact.id}-gdpr-export.json"'
    return response


@blueprint.post(f"/contacts/<{ID}:contact_id>/erase")
@login_required
def erase(contact_id: int):
    require_admin()
    contact = load_contact(contact_id)
    typed = " ".join((request.form.get("confirm_name") or "").split())
    if contact.erased_at is None and typed.casefold() != contact.name.casefold():
        message = _("Type the contact's name exactly as shown (%(name)s) to erase it.", name=contact.name)
        return render_record("contact", contact, errors={"confirm_name": message}, status=400)
    session = current_tenant_db()
    result = service.erase_contact(session, contact.id, actor_id=g.user.id)
    # The erasure commits first: it is what the person asked for; the audit entry follows.
    session.commit()
    if not result.already_erased:
        record_audit(tenant_id=g.tenant.id, actor_user_id=g.user.id, **result.audit)
        db.session.commit()
    flash(_("The contact's personal data is erased. The record stays, anonymous, so reports still add up."),
          "success")
    return redirect(url_for("crm_views.contact", contact_id=contact.id))
