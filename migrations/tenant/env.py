"""Alembic entry for writing tenant revisions; `kundo db upgrade` does not use it.

Autogenerate compares the tenant models (declared in the placeholder schema
`tenant`) with a scratch schema literally named `tenant`, then strips the schema
from the generated operations: tenant migrations run with search_path set to the
real tenant schema and must not name one.
"""

import os

from alembic import context
from sqlalchemy import create_engine

from kundo.platform.config import sqlalchemy_url
from kundo.tenants.tables import tenant_metadata

SCHEMA = "tenant"


def _strip_schema(context_, revision, directives):
    for directive in directives:
        for ops in (directive.upgrade_ops, directive.downgrade_ops):
            _walk(ops)


def _walk(op):
    if hasattr(op, "schema"):
        op.schema = None
    for child in getattr(op, "ops", []):
        _walk(child)


engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]))
with engine.connect() as connection, connection.begin():
    connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
    connection.exec_driver_sql(f'SET LOCAL search_path TO "{SCHEMA}", extensions')
    context.configure(
        connection=connection,
        target_metadata=tenant_metadata,
        include_schemas=True,
        include_name=lambda name, type_, parent: type_ != "schema" or name == SCHEMA,
        version_table_schema=SCHEMA,
        process_revision_directives=_strip_schema,
    )
    context.run_migrations()
