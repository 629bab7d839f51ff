"""Create and drop tenant schemas: atomic, fast, retryable.

Everything happens in the caller's control-plane transaction: the tenant row, the
role, the schema, the grants and every current tenant table. PostgreSQL DDL is
transactional, so a failure anywhere leaves nothing behind, and the same sign-up can
simply be tried again.

New tenants get the current tables from the model metadata in one round trip and are
stamped at the newest tenant migration: history is never replayed for a new tenant.
Sign-ups take a spare schema made ahead of time when one is ready (`spares.py`), which
turns tens of milliseconds of DDL into one DELETE ... RETURNING.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, CreateTable

from kundo.platform.db import TENANT_SCHEMA_PLACEHOLDER
from kundo.tenants.models import Tenant, TenantStatus
from kundo.tenants.naming import quoted, role_name_for, schema_name_for
from kundo.tenants.spares import SpareSchema, all_spares, claim_spare, stale_spares
from kundo.tenants.workspace import WorkspaceProfile

_SCHEMA_TOKEN = "kundo_schema_token_"  # noqa: S105 - a placeholder, not a secret


@lru_cache(maxsize=1)
def tenant_tables_ddl() -> str:
    """CREATE statements for every tenant table, with a token where the schema goes."""
    from kundo.tenants.tables import tenant_extra_ddl, tenant_metadata

    dialect = postgresql.dialect()
    translate = {TENANT_SCHEMA_PLACEHOLDER: _SCHEMA_TOKEN}
    statements = []
    for table in tenant_metadata.sorted_tables:
        statements.append(
            str(CreateTable(table).compile(dialect=dialect, schema_translate_map=translate,
                                           render_schema_translate=True)).strip()
        )
        for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
            statements.append(
                str(CreateIndex(index).compile(dialect=dialect, schema_translate_map=translate,
                                               render_schema_translate=True)).strip()
            )
    statements.extend(extra.format(schema=_SCHEMA_TOKEN) for extra in tenant_extra_ddl)
    return ";\n".join(statements)


def tenant_head_revision() -> str:
    from kundo.tenants.migrations import tenant_script_directory

    heads = tenant_script_directory().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"tenant migrations must have exactly one head, found {heads}")
    return heads[0]


def provision_tenant(
    session: Session, *, slug: str, name: str, locale: str = "en", database_name: str
) -> Tenant:
    """Create the tenant row, role, schema and tables inside `session`'s transaction.

    A spare schema (see `kundo.tenants.spares`) is claimed when one is ready; otherwise
    the schema is built here. The caller commits (together with the owner's membership)
    or rolls back, which also hands a claimed spare back.
    """
    head = tenant_head_revision()
    spare = claim_spare(session, head)
    if spare is not None:
        tenant_id, schema, role = spare
    else:
        tenant_id = session.scalar(text("SELECT nextval('control.tenants_id_seq')"))
        schema, role = schema_name_for(tenant_id), role_name_for(database_name, tenant_id)
    tenant = Tenant(
        id=tenant_id, slug=slug, name=name, locale=locale, status=TenantStatus.ACTIVE,
        schema_name=schema, role_name=role,
    )
    session.add(tenant)
    session.flush()  # the unique slug is checked here, before any DDL runs
    if spare is None:
        _create_storage(session, schema, role, head)
    # The profile row is written through the tenant's own role like any tenant data.
    session.connection().exec_driver_sql(f"SET LOCAL ROLE {quoted(role)}")
    session.execute(
        WorkspaceProfile.__table__.insert(),
        {"id": 1, "company_name": name},
        execution_options={"schema_translate_map": {TENANT_SCHEMA_PLACEHOLDER: schema}},
    )
    session.connection().exec_driver_sql("RESET ROLE")
    return tenant


def provision_spare_schema(session: Session, *, database_name: str) -> SpareSchema:
    """Make one spare tenant schema in `session`'s transaction (the caller commits)."""
    head = tenant_head_revision()
    tenant_id = session.scalar(text("SELECT nextval('control.tenants_id_seq')"))
    spare = SpareSchema(tenant_id=tenant_id, schema_name=schema_name_for(tenant_id),
                        role_name=role_name_for(database_name, tenant_id), revision=head)
    session.add(spare)
    session.flush()
    _create_storage(session, spare.schema_name, spare.role_name, head)
    return spare


def _create_storage(session: Session, schema: str, role: str, head: str) -> None:
    """Role, schema, every tenant table and the version stamp: one round trip."""
    q_schema, q_role = quoted(schema), quoted(role)
    ddl = tenant_tables_ddl().replace(f"{_SCHEMA_TOKEN}.", f"{q_schema}.")
    session.connection().exec_driver_sql(
        f"CREATE ROLE {q_role} NOLOGIN NOINHERIT;"
        f"GRANT {q_role} TO CURRENT_USER;"
        f"CREATE SCHEMA {q_schema} AUTHORIZATION {q_role};"
        f"SET LOCAL ROLE {q_role};"
        f"{ddl};"
        f"CREATE TABLE {q_schema}.alembic_version (version_num VARCHAR(32) NOT NULL "
        f"CONSTRAINT alembic_version_pkc PRIMARY KEY);"
        f"INSERT INTO {q_schema}.alembic_version VALUES ('{head}');"
        "RESET ROLE"
    )


def drop_storage(session: Session, schema: str, role: str) -> None:
    """Drop a schema and its role (a deleted tenant's or a stale spare's)."""
    q_schema, q_role = quoted(schema), quoted(role)
    # A half-deleted tenant (its role already gone) must still be deletable.
    role_exists = session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role})
    session.connection().exec_driver_sql(
        f"DROP SCHEMA IF EXISTS {q_schema} CASCADE;"
        + (f"DROP OWNED BY {q_role}; DROP ROLE {q_role}" if role_exists else "")
    )


def drop_tenant_storage(session: Session, tenant: Tenant) -> None:
    """Drop the tenant's schema and role; the caller deletes the row and commits."""
    drop_storage(session, tenant.schema_name, tenant.role_name)


def replace_stale_spares(session: Session, *, database_name: str) -> int:
    """Drop spares stamped at an older revision and make as many new ones; returns how many.

    Runs after the tenant schemas are migrated, one spare per transaction.
    """
    stale = _discard(session, stale_spares(session, tenant_head_revision()))
    for _ in range(stale):
        provision_spare_schema(session, database_name=database_name)
        session.commit()
    return stale


def discard_spares(session: Session) -> int:
    """Drop every spare schema (and commit); returns how many."""
    return _discard(session, all_spares(session))


def _discard(session: Session, spares: list[SpareSchema]) -> int:
    for spare in spares:
        drop_storage(session, spare.schema_name, spare.role_name)
        session.delete(spare)
    session.commit()
    return len(spares)
