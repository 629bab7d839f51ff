"""The one place that opens a tenant unit of work.

A tenant session is a SQLAlchemy session whose every transaction starts with
`SET LOCAL ROLE <tenant role>` and `SET LOCAL search_path TO <tenant schema>`, and whose
engine maps the placeholder schema `tenant` to the real one. PostgreSQL therefore
checks every statement — ORM, Core or a raw SQL string — against the tenant's role,
which owns its schema and has no privilege anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from kundo.platform.db import TENANT_SCHEMA_PLACEHOLDER, db
from kundo.tenants.naming import quoted


@dataclass(frozen=True)
class TenantScope:
    """What a unit of work needs to know about its tenant; cheap to pass to jobs."""

    tenant_id: int
    slug: str
    schema_name: str
    role_name: str

    @classmethod
    def of(cls, tenant) -> TenantScope:
        return cls(tenant.id, tenant.slug, tenant.schema_name, tenant.role_name)

    @property
    def enter_sql(self) -> str:
        return (
            f"SET LOCAL ROLE {quoted(self.role_name)}; "
            f"SET LOCAL search_path TO {quoted(self.schema_name)}, extensions"
        )


class TenantSession(Session):
    """A session bound to one tenant; see the module docstring."""

    @property
    def scope(self) -> TenantScope:
        return self.info["tenant_scope"]


@event.listens_for(TenantSession, "after_begin")
def _enter_tenant(session: TenantSession, transaction, connection) -> None:
    # A SAVEPOINT inherits the settings of its transaction (and rolling it back keeps them).
    if transaction.nested:
        return
    # The tenant engine puts psycopg in autocommit mode only so that psycopg sends no BEGIN
    # of its own: ours travels with the SET LOCALs, one round trip instead of two
    # (bench/tenancy.py). COMMIT and ROLLBACK work as usual, since PostgreSQL is then in a
    # transaction. A session that asked for an isolation level has begun already.
    begin = "BEGIN; " if connection.connection.driver_connection.autocommit else ""
    connection.exec_driver_sql(begin + session.scope.enter_sql)


@lru_cache(maxsize=4096)
def _translated_engine(engine: Engine, schema_name: str) -> Engine:
    return engine.execution_options(
        schema_translate_map={TENANT_SCHEMA_PLACEHOLDER: schema_name}, isolation_level="AUTOCOMMIT"
    )


def open_tenant_session(scope: TenantScope, engine: Engine | None = None) -> TenantSession:
    """A new tenant session; the caller closes it. Prefer `tenant_session`."""
    bind = _translated_engine(engine or db.engine, scope.schema_name)
    return TenantSession(bind=bind, info={"tenant_scope": scope}, expire_on_commit=False)


@contextmanager
def tenant_session(tenant_or_scope, engine: Engine | None = None) -> Iterator[TenantSession]:
    """Run a unit of work for one tenant: commit on success, roll back on error.

    Usable from requests, jobs and CLI commands alike::

        with tenant_session(tenant) as session:
            session.add(...)
    """
    scope = (
        tenant_or_scope
        if isinstance(tenant_or_scope, TenantScope)
        else TenantScope.of(tenant_or_scope)
    )
    session = open_tenant_session(scope, engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def tenant_autocommit_connection(scope: TenantScope, engine: Engine | None = None) -> Iterator[Connection]:
    """A connection outside any transaction acting as the tenant's role, for DDL that cannot run in one.

    `CREATE INDEX CONCURRENTLY` and `DROP INDEX CONCURRENTLY` refuse to run in a transaction
    block, so they cannot go through `tenant_session`. This is the same wall by session-level
    settings instead of `SET LOCAL`: the tenant's role and search_path, reset before the
    connection goes back to the pool; a connection whose reset fails is discarded, never
    reused with the tenant's role. For Kundo's own jobs only: never hand it to plugin code
    (SQL that itself says `RESET ROLE` would step over the wall).
    """
    with (engine or db.engine).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(
            f"SET ROLE {quoted(scope.role_name)}; SET search_path TO {quoted(scope.schema_name)}, extensions"
        )
        try:
            yield connection
        finally:
            try:
                connection.exec_driver_sql("RESET ROLE; RESET search_path")
            except Exception:
                connection.invalidate()
                raise
