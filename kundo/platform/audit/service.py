"""Record audit entries from services, views and the CLI alike."""

from __future__ import annotations

from flask import g, has_request_context, request

from kundo.platform.audit.models import AuditEntry
from kundo.platform.db import db


def record_audit(
    action: str,
    *,
    tenant_id: int | None = None,
    actor_user_id: int | None = None,
    target: str | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current control-plane transaction.

    The caller commits: the entry lands with the change it describes or not at all.
    """
    entry = AuditEntry(
        action=action,
        tenant_id=tenant_id,
        actor_user_id=actor_user_id,
        target=target,
        data=data or {},
    )
    if has_request_context():
        entry.ip_address = request.remote_addr
        entry.request_id = g.get("request_id")
    db.session.add(entry)
    return entry
