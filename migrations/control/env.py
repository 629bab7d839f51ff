"""Alembic entry for writing control-plane revisions; `kundo db upgrade` does not use it."""

import os

from alembic import context
from sqlalchemy import create_engine

from kundo.platform.config import sqlalchemy_url
from kundo.platform.models import load_control_models

target_metadata = load_control_models()
engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]))
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema="control",
        include_schemas=True,
        include_name=lambda name, type_, parent: type_ != "schema" or name == "control",
    )
    with context.begin_transaction():
        context.run_migrations()
