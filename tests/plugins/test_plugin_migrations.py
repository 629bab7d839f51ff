"""The first-party hubs' models equal what their migrations build.

A hub's tables exist only through its Alembic tree (enabling runs it in the tenant's
schema), while its code reads them through the models `metadata_tables()` returns. When
the two drift, a workspace gets a table without the column or index the code expects.
So each hub's tree runs in a scratch tenant-like schema (after the core tenant tree, as
in a real workspace, since a hub may point at core tables) and Alembic's autogenerate
comparison — the one `tests/tenants/test_migrations.py` uses for the control plane —
lists every difference between that schema and the hub's metadata: tables, columns,
types, nullability, server defaults, indexes, unique constraints and foreign keys.
Core tables are left out of the comparison; any other table in the schema must be
declared by the hub.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url

from kundo.platform.db import db
from kundo.plugins.host import loaded_plugins
from kundo.plugins.loader import FIRST_PARTY
from kundo.tenants.migrations import core_tenant_tree, upgrade_tenant
from kundo.tenants.naming import quoted, role_name_for
from kundo.tenants.session import TenantScope

HUBS = FIRST_PARTY


@pytest.fixture
def scratch_scope(app_ctx) -> Iterator[TenantScope]:
    """An empty tenant-like schema with its own role, dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    database = make_url(str(db.engine.url)).database
    scope = TenantScope(0, f"scratch-{suffix}", f"t_scratch_{suffix}", f"{role_name_for(database, 0)}_{suffix}")
    q_schema, q_role = quoted(scope.schema_name), quoted(scope.role_name)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE ROLE {q_role} NOLOGIN NOINHERIT; GRANT {q_role} TO CURRENT_USER;"
            f"CREATE SCHEMA {q_schema} AUTHORIZATION {q_role}"
        )
    try:
        yield scope
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {q_schema} CASCADE; DROP OWNED BY {q_role}; DROP ROLE {q_role}")


def _table_names(connection, schema: str) -> set[str]:
    names = set(connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                                   {"s": schema}).scalars())
    connection.rollback()
    return names


def build_hub_schema(hub: str, scope: TenantScope) -> set[str]:
    """Run the core tenant tree, then the hub's tree, in `scope`; returns the core tables' names."""
    tree = _tree(hub)
    with db.engine.connect() as connection:
        upgrade_tenant(connection, scope, [core_tenant_tree()])
        core = _table_names(connection, scope.schema_name)
        upgrade_tenant(connection, scope, [tree])
        assert _table_names(connection, scope.schema_name) - core - {tree.version_table}, \
            f"{hub}'s migrations made no table"
    return core


def _tree(hub: str):
    loaded = loaded_plugins()[hub]
    assert loaded.healthy, f"{hub}: {loaded.error}"
    tree = loaded.migration_tree()
    assert tree is not None, f"{hub} has no migrations"
    return tree


def hub_differences(hub: str, scope: TenantScope, core: set[str]) -> list:
    """Compare the schema the hub's migrations built in `scope` with its models (Alembic's diff list)."""
    tree = _tree(hub)
    # The models live in the placeholder schema "tenant"; copied into the scratch
    # schema, their foreign keys to "tenant.*" follow them there.
    metadata = MetaData()
    for table in loaded_plugins()[hub].plugin.metadata_tables():
        table.to_metadata(metadata, schema=scope.schema_name)

    def include_name(name, type_, parent_names):  # noqa: ARG001 - alembic's signature
        if type_ == "schema":
            return name == scope.schema_name
        if type_ == "table":
            return name not in core and name != tree.version_table
        return True

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True,
            "include_name": include_name,
            "compare_type": True,
            "compare_server_default": True,
            "version_table": tree.version_table,
            "version_table_schema": scope.schema_name,
        })
        differences = compare_metadata(context, metadata)
        connection.rollback()
    return differences


@pytest.mark.parametrize("hub", HUBS)
def test_hub_models_match_its_migrations(scratch_scope, hub):
    differences = hub_differences(hub, scratch_scope, build_hub_schema(hub, scratch_scope))
    assert differences == [], (
        f"The {hub} hub's models (metadata_tables()) and its migrations disagree. Add a revision to the hub's "
        f"migrations/versions that makes the schema what the models say (or fix the models):\n"
        + "\n".join(repr(d) for d in differences)
    )


def test_comparison_notices_drift_both_ways(scratch_scope):
    """The check above is only worth something if it sees a small drift, either way round."""
    hub = HUBS[0]
    table = next(t for t in sorted(loaded_plugins()[hub].plugin.metadata_tables(), key=lambda t: t.name)
                 if t.indexes)
    index = sorted(table.indexes, key=lambda i: i.name)[0].name
    core = build_hub_schema(hub, scratch_scope)
    assert hub_differences(hub, scratch_scope, core) == []
    schema = quoted(scratch_scope.schema_name)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f"ALTER TABLE {schema}.{quoted(table.name)} ADD COLUMN nickname varchar(50);"
            f"CREATE INDEX ix_drift_nickname ON {schema}.{quoted(table.name)} (nickname);"
            f"DROP INDEX {schema}.{quoted(index)}")
    described = "\n".join(repr(d) for d in hub_differences(hub, scratch_scope, core))
    assert "remove_column" in described and "nickname" in described, "a column only the migrations have"
    assert "remove_index" in described and "ix_drift_nickname" in described, "an index only the migrations have"
    assert "add_index" in described and index in described, "an index only the models have"
