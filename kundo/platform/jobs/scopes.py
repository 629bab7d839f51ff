"""Tenant id or schema name → TenantScope, for jobs that carry only the id."""

from __future__ import annotations

from sqlalchemy import select

from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope


class TenantGone(LookupError):
    """The tenant was deleted after the job was queued; the job has nothing left to do."""


def scope_of(tenant_id: int) -> TenantScope:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantGone(tenant_id)
    return TenantScope.of(tenant)


def active_scopes() -> list[TenantScope]:
    """Every tenant; suspended ones too, since their events and timers are still owed."""
    rows = db.session.scalars(select(Tenant).order_by(Tenant.id))
    return [TenantScope.of(t) for t in rows]
