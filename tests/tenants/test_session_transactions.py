"""A tenant session's transaction: atomic, scoped from its first statement, and it leaves
the pooled connection as it found it.

The session sends its own BEGIN together with SET LOCAL ROLE / search_path in one round
trip (psycopg runs in autocommit mode for that); these tests hold that trick to the
ordinary transaction semantics.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, open_tenant_session, tenant_session
from kundo.tenants.workspace import WorkspaceProfile


def _tenant(ws) -> Tenant:
    tenant = db.session.get(Tenant, ws.tenant_id)
    db.session.rollback()
    return tenant


def test_an_error_rolls_back_every_write_of_the_transaction(app_ctx, make_workspace):
    tenant = _tenant(make_workspace(name="Before GmbH"))
    with pytest.raises(RuntimeError), tenant_session(tenant) as session:
        session.get(WorkspaceProfile, 1).company_name = "After GmbH"
        session.flush()
        session.execute(text("UPDATE workspace_profile SET currency = 'USD'"))
        raise RuntimeError("the request failed")
    with tenant_session(tenant) as session:
        profile = session.get(WorkspaceProfile, 1)
        assert (profile.company_name, profile.currency) == ("Before GmbH", "EUR")


def test_statements_of_one_transaction_share_it_and_the_next_transaction_is_new(app_ctx, make_workspace):
    tenant = _tenant(make_workspace())
    with tenant_session(tenant) as session:
        first = session.scalar(text("SELECT txid_current()"))
        assert session.scalar(text("SELECT txid_current()")) == first
        assert session.scalar(text("SELECT current_setting('transaction_isolation')")) == "read committed"
        session.commit()
        assert session.scalar(text("SELECT txid_current()")) != first
        assert session.scalar(text("SELECT current_user")) == tenant.role_name


def test_a_requested_isolation_level_is_kept_and_still_scoped(app_ctx, make_workspace):
    tenant = _tenant(make_workspace())
    session = open_tenant_session(TenantScope.of(tenant))
    try:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        assert session.scalar(text("SELECT current_setting('transaction_isolation')")) == "repeatable read"
        assert session.scalar(text("SELECT current_user")) == tenant.role_name
        assert session.scalar(text("SELECT current_schema()")) == tenant.schema_name
    finally:
        session.close()


def test_a_rolled_back_savepoint_keeps_the_tenant_scope(app_ctx, make_workspace):
    tenant = _tenant(make_workspace(name="Outer AG"))
    with tenant_session(tenant) as session:
        with pytest.raises(RuntimeError), session.begin_nested():
            session.get(WorkspaceProfile, 1).company_name = "Inner AG"
            session.flush()
            raise RuntimeError
        assert session.scalar(text("SELECT current_user")) == tenant.role_name
        assert session.scalar(select(WorkspaceProfile.company_name)) == "Outer AG"


def test_the_pooled_connection_comes_back_unscoped_and_transactional(app_ctx, make_workspace):
    tenant = _tenant(make_workspace())
    app_user = db.session.scalar(text("SELECT current_user"))
    db.session.rollback()
    for _ in range(3):  # the pool hands the same few connections around
        with tenant_session(tenant) as session:
            session.scalar(text("SELECT 1"))
        with db.engine.connect() as connection:
            assert connection.connection.driver_connection.autocommit is False
            assert connection.exec_driver_sql("SELECT current_user").scalar() == app_user
            connection.exec_driver_sql("CREATE TEMPORARY TABLE kundo_probe (id int) ON COMMIT DROP")
            connection.rollback()
            assert connection.exec_driver_sql("SELECT to_regclass('pg_temp.kundo_probe')").scalar() is None

