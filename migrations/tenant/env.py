"""Alembic entry for writing tenant revisions; `kundo db upgrade` does not use it.

Autogenerate compares against a scratch schema named by KUNDO_TENANT_SCHEMA.
"""

import os

from alembic import context
from sqlalchemy import create_engine

from kundo.platform.config import sqlalchemy_url
from kundo.tenants.tables import tenant_metadata

schema = os.environ.get("KUNDO_TENANT_SCHEMA", "t_scratch")
engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"])).execution_options(
    schema_translate_map={"tenant": None}
)
with engine.connect() as connection:
    connection.exec_driver_sql(f'SET search_path TO "{schema}"')
    context.configure(connection=connection, target_metadata=tenant_metadata)
    with context.begin_transaction():
        context.run_migrations()
