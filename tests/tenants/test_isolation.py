"""Isolation is enforced by PostgreSQL: a tenant session cannot see past its own schema."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.tenants.workspace import WorkspaceProfile


def _tenant(slug):
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def test_tenant_session_reads_its_own_schema_through_the_placeholder(app_ctx, make_workspace):
    a = make_workspace(name="Alpha AG")
    b = make_workspace(name="Beta GmbH")
    with tenant_session(_tenant(a.slug)) as session:
        assert session.get(WorkspaceProfile, 1).company_name == "Alpha AG"
        assert session.scalar(text("SELECT current_user")) == a.role_name
        assert session.scalar(text("SELECT current_schema()")) == a.schema_name
    with tenant_session(_tenant(b.slug)) as session:
        assert session.get(WorkspaceProfile, 1).company_name == "Beta GmbH"


@pytest.mark.parametrize("target", ["other_tenant", "control.users", "control.tenants", "control.api_tokens"])
def test_raw_sql_outside_the_tenant_schema_is_refused_by_postgres(app_ctx, make_workspace, target):
    a = make_workspace()
    b = make_workspace()
    table = f'"{b.schema_name}".workspace_profile' if target == "other_tenant" else target
    with pytest.raises(ProgrammingError) as failure, tenant_session(_tenant(a.slug)) as session:
        session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - the point of the test
    assert "permission denied" in str(failure.value)


def test_tenant_role_cannot_create_outside_its_schema(app_ctx, make_workspace):
    a = make_workspace()
    with pytest.raises(ProgrammingError) as failure, tenant_session(_tenant(a.slug)) as session:
        session.execute(text("CREATE TABLE public.leak (id int)"))
    assert "permission denied" in str(failure.value)


def test_every_transaction_of_a_tenant_session_is_scoped(app_ctx, make_workspace):
    """SET LOCAL ends with the transaction; the session must set it again each time."""
    a = make_workspace()
    with tenant_session(_tenant(a.slug)) as session:
        session.commit()
        assert session.scalar(text("SELECT current_user")) == a.role_name
        session.rollback()
        with pytest.raises(ProgrammingError):
            session.execute(text("SELECT count(*) FROM control.users"))
