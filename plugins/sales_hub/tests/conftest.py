"""Fixtures of the Sales Hub's tests: a workspace with the hub enabled, and its tenant session."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest


@dataclass
class SalesWorkspace:
    app: object
    workspace: object
    tenant: object

    @contextmanager
    def session(self):
        from kundo.tenants.session import tenant_session

        with self.app.app_context(), tenant_session(self.tenant) as session:
            yield session


@pytest.fixture
def sales_workspace(app, enable_app, make_workspace):
    """sales_workspace(locale="en") -> a new workspace with the Sales Hub enabled."""
    from kundo.platform.db import db
    from kundo.tenants.models import Tenant
    from kundo.tenants.session import TenantScope

    def _make(locale: str = "en") -> SalesWorkspace:
        workspace = make_workspace()
        with app.app_context():
            tenant = db.session.get(Tenant, workspace.tenant_id)
            if locale != tenant.locale:
                tenant.locale = locale
                db.session.commit()
            scope = TenantScope.of(tenant)
        enable_app(app, workspace, "sales")
        return SalesWorkspace(app, workspace, scope)

    return _make
