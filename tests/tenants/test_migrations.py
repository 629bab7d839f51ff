"""Tenant schemas: provisioning equals migration history; upgrades walk every tenant.

The cross-tenant tests use a throw-away database each, so an extra revision they add
cannot leak into the shared test database.
"""

from __future__ import annotations

import shutil
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from kundo.platform.auth.service import create_user
from kundo.platform.db import db
from kundo.platform.models import load_control_models
from kundo.tenants.migrations import (
    MigrationTree,
    control_tree,
    core_tenant_tree,
    migrations_root,
    upgrade_all_tenants,
    upgrade_control_plane,
    upgrade_tenant,
)
from kundo.tenants.naming import quoted, role_name_for
from kundo.tenants.provisioning import provision_spare_schema, tenant_head_revision
from kundo.tenants.session import TenantScope
from kundo.testing.database import create_database, drop_database
from kundo.testing.fixtures import TEST_PASSWORD, build_app, unique_slug

# ---- a schema, described by PostgreSQL's own catalog -----------------------------------

_CATALOG_QUERIES = {
    "relations": """
        SELECT c.relname, c.relkind::text, pg_get_userbyid(c.relowner)
        FROM pg_class c WHERE c.relnamespace = CAST(:schema AS regnamespace)
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
               coalesce(co.collname, '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
                                  AND co.collname <> 'default'
        WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "indexes": """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = CAST(:schema AS regnamespace)""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.connamespace = CAST(:schema AS regnamespace)""",
    "sequences": """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
               s.seqcache, s.seqcycle
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        WHERE c.relnamespace = CAST(:schema AS regnamespace)""",
    "types": """
        SELECT t.typname, t.typtype::text,
               coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                         FROM pg_enum e WHERE e.enumtypid = t.oid), '')
        FROM pg_type t
        WHERE t.typnamespace = CAST(:schema AS regnamespace) AND t.typtype IN ('e', 'd', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = CAST(:schema AS regnamespace) AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p WHERE p.pronamespace = CAST(:schema AS regnamespace)""",
}


def describe_schema(connection: Connection, schema: str, role: str) -> dict[str, set[tuple]]:
    """Everything that makes up a schema, with its own name and owner written generically."""

    def generic(value):
        if not isinstance(value, str):
            return value
        return value.replace(f'"{schema}".', "<schema>.").replace(f"{schema}.", "<schema>.").replace(role, "<role>")

    return {
        kind: {tuple(generic(v) for v in row) for row in connection.execute(text(query), {"schema": schema})}
        for kind, query in _CATALOG_QUERIES.items()
    }


def schema_differences(left: dict[str, set[tuple]], right: dict[str, set[tuple]]) -> list[str]:
    lines = []
    for kind in left:
        lines += [f"{kind} only in the first:  {row}" for row in sorted(left[kind] - right[kind], key=repr)]
        lines += [f"{kind} only in the second: {row}" for row in sorted(right[kind] - left[kind], key=repr)]
    return lines


# ---- provisioning (models) versus migrations (history) ---------------------------------


@pytest.fixture
def migrated_scope(app_ctx) -> Iterator[TenantScope]:
    """A tenant-like schema built only by running the tenant migrations from empty."""
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
        with db.engine.connect() as connection:
            assert upgrade_tenant(connection, scope, [core_tenant_tree()]) is True
        yield scope
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {q_schema} CASCADE; DROP OWNED BY {q_role}; DROP ROLE {q_role}")


def _version(connection: Connection, schema: str) -> str:
    return connection.exec_driver_sql(f"SELECT version_num FROM {quoted(schema)}.alembic_version").scalar_one()


@pytest.mark.parametrize("path", ["built at sign-up", "spare made ahead"])
def test_provisioned_schema_matches_migrations(app_ctx, make_workspace, migrated_scope, path):
    if path == "spare made ahead":
        provision_spare_schema(db.session, database_name=make_url(str(db.engine.url)).database)
        db.session.commit()
    ws = make_workspace()
    assert db.session.scalar(text("SELECT count(*) FROM control.spare_schemas")) == 0, "the spare was claimed"
    db.session.rollback()
    with db.engine.connect() as connection:
        provisioned = describe_schema(connection, ws.schema_name, ws.role_name)
        migrated = describe_schema(connection, migrated_scope.schema_name, migrated_scope.role_name)
        assert _version(connection, ws.schema_name) == _version(connection, migrated_scope.schema_name) \
            == tenant_head_revision()
    assert provisioned["relations"] and provisioned["columns"] and provisioned["constraints"]
    differences = schema_differences(provisioned, migrated)
    assert not differences, (
        "A schema made by provisioning (first) differs from one built by the tenant migrations (second). "
        "A tenant model changed without a migration (or the other way round): add a revision under "
        "migrations/tenant/versions (see migrations/README.md).\n" + "\n".join(differences)
    )


def test_schema_comparison_notices_a_change_that_has_no_migration(app_ctx, make_workspace):
    """The comparison above is only worth something if it sees small drifts."""
    ws = make_workspace()
    table = f"{quoted(ws.schema_name)}.workspace_profile"
    with db.engine.connect() as connection:
        before = describe_schema(connection, ws.schema_name, ws.role_name)
        connection.rollback()
        with connection.begin() as transaction:
            connection.exec_driver_sql(
                f"ALTER TABLE {table} ADD COLUMN nickname varchar(50);"
                f"ALTER TABLE {table} ALTER COLUMN currency SET DEFAULT 'USD';"
                f"ALTER TABLE {table} ALTER COLUMN logo_url TYPE varchar(900);"
                f"CREATE INDEX ix_workspace_profile_nickname ON {table} (nickname)"
            )
            after = describe_schema(connection, ws.schema_name, ws.role_name)
            transaction.rollback()
    differences = "\n".join(schema_differences(before, after))
    assert "'nickname', 'character varying(50)'" in differences
    assert "'USD'::character varying" in differences
    assert "'logo_url', 'character varying(900)'" in differences
    assert "ix_workspace_profile_nickname" in differences


def test_control_plane_models_match_migrations(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True,
            "include_name": lambda name, type_, parent: type_ != "schema" or name == "control",
            "compare_type": True,
            "version_table_schema": "control",
        })
        differences = compare_metadata(context, load_control_models())
    assert differences == [], (
        "Control-plane models and migrations disagree; write a revision with "
        "`alembic -c migrations/alembic.ini -n control revision --autogenerate`: " + repr(differences)
    )


def test_control_plane_upgrade_is_idempotent(app_ctx):
    head = control_tree().script().get_current_head()
    tables_before = db.session.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'control'"))
    db.session.rollback()
    assert upgrade_control_plane(db.engine) == head
    assert upgrade_control_plane(db.engine) == head
    assert db.session.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'control'")) == tables_before
    db.session.rollback()


# ---- upgrades across tenants, each fleet in its own throw-away database ------------------------


@dataclass
class Fleet:
    app: Flask
    url: str
    scopes: list[TenantScope]

    def run(self, sql: str) -> None:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(sql)

    def versions(self) -> dict[str, str]:
        with db.engine.connect() as connection:
            return {scope.slug: _version(connection, scope.schema_name) for scope in self.scopes}

    def columns(self, table: str) -> dict[str, set[str]]:
        with db.engine.connect() as connection:
            return {scope.slug: set(connection.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"
            ), {"s": scope.schema_name, "t": table}).scalars()) for scope in self.scopes}


@pytest.fixture
def fleet(database_admin_url) -> Iterator[Fleet]:
    from kundo.tenants.service import create_workspace

    url = create_database(database_admin_url, prefix="kundo_fleet")
    app = build_app(url)
    try:
        with app.app_context():
            owner = create_user(email=f"{uuid.uuid4().hex[:8]}@example.com", name="Fleet Owner",
                                password=TEST_PASSWORD)
            tenants = [create_workspace(slug=unique_slug("fleet"), name=f"Fleet {n}", owner=owner) for n in range(4)]
            db.session.commit()
            yield Fleet(app, app.config["SQLALCHEMY_DATABASE_URI"], [TenantScope.of(t) for t in tenants])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(database_admin_url, url)


def write_revision(folder: Path, revision: str, upgrade_body: str) -> Path:
    """Add a tenant revision on top of today's head to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{revision}.py").write_text(textwrap.dedent(f'''\
        """test revision {revision}"""
        import sqlalchemy as sa
        from alembic import op

        revision = "{revision}"
        down_revision = "{tenant_head_revision()}"
        branch_labels = None
        depends_on = None


        def upgrade():
            {upgrade_body}


        def downgrade():
            pass
        '''))
    return folder


def extra_tree(tmp_path: Path, revision: str, upgrade_body: str) -> MigrationTree:
    return core_tenant_tree(str(write_revision(tmp_path / revision, revision, upgrade_body)))


ADD_NICKNAME = 'op.add_column("workspace_profile", sa.Column("nickname", sa.String(50)))'


def test_upgrade_reports_the_failing_tenant_migrates_the_others_and_resumes(fleet, tmp_path):
    tree = extra_tree(tmp_path, "x_nickname", ADD_NICKNAME)
    head = tenant_head_revision()
    broken = fleet.scopes[1]
    fleet.run(f"ALTER TABLE {quoted(broken.schema_name)}.workspace_profile ADD COLUMN nickname text")

    report = upgrade_all_tenants(fleet.url, fleet.scopes, workers=2, batch_size=1, trees=(tree,))

    assert not report.ok
    assert set(report.failed) == {broken.slug}
    assert report.failed[broken.slug].startswith("DuplicateColumn:")
    assert 'column "nickname"' in report.failed[broken.slug]
    assert sorted(report.upgraded) == sorted(s.slug for s in fleet.scopes if s != broken)
    assert fleet.versions() == {s.slug: head if s == broken else "x_nickname" for s in fleet.scopes}

    fleet.run(f"ALTER TABLE {quoted(broken.schema_name)}.workspace_profile DROP COLUMN nickname")
    again = upgrade_all_tenants(fleet.url, fleet.scopes, workers=2, batch_size=1, trees=(tree,))

    assert again.ok
    assert again.upgraded == [broken.slug], "finished tenants must not be migrated twice"
    assert again.up_to_date == len(fleet.scopes) - 1
    assert set(fleet.versions().values()) == {"x_nickname"}
    assert all("nickname" in columns for columns in fleet.columns("workspace_profile").values())


def test_migrations_run_as_the_tenant_role_in_one_process(fleet, tmp_path):
    tree = extra_tree(tmp_path, "x_notes", 'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))')
    report = upgrade_all_tenants(fleet.url, fleet.scopes, workers=1, trees=(tree,))
    assert report.ok and len(report.upgraded) == len(fleet.scopes)
    with db.engine.connect() as connection:
        owners = {scope.role_name: connection.execute(text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = 'notes'"
        ), {"s": scope.schema_name}).scalar_one() for scope in fleet.scopes}
    assert all(owner == role for role, owner in owners.items())


def test_a_migration_cannot_reach_outside_its_tenant_schema_and_rolls_back_whole(fleet, tmp_path):
    tree = extra_tree(tmp_path, "x_escape", 'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True)); '
                                            'op.execute("CREATE TABLE control.escaped (id int)")')
    report = upgrade_all_tenants(fleet.url, fleet.scopes, workers=2, trees=(tree,))
    assert set(report.failed) == {s.slug for s in fleet.scopes}
    assert all("permission denied for schema control" in error for error in report.failed.values())
    assert set(fleet.versions().values()) == {tenant_head_revision()}
    assert all("id" not in columns for columns in fleet.columns("notes").values()), \
        "the revision's first step must be rolled back with the failed second one"


def test_db_upgrade_command_names_the_failed_tenant_exits_1_and_resumes(fleet, tmp_path, monkeypatch):
    migrations = tmp_path / "migrations"
    shutil.copytree(migrations_root(), migrations, ignore=shutil.ignore_patterns("__pycache__"))
    write_revision(migrations / "tenant" / "versions", "x_nickname", ADD_NICKNAME)
    spare_schema = provision_spare_schema(db.session, database_name=make_url(fleet.url).database).schema_name
    db.session.commit()  # made at today's head, so stale once the copy with one more revision is used
    monkeypatch.setenv("KUNDO_MIGRATIONS_DIR", str(migrations))
    broken = fleet.scopes[2]
    fleet.run(f"ALTER TABLE {quoted(broken.schema_name)}.workspace_profile ADD COLUMN nickname text")
    runner = fleet.app.test_cli_runner()

    result = runner.invoke(args=["db", "upgrade", "--workers", "2"])

    assert result.exit_code == 1, result.output
    assert f"FAILED {broken.slug}: DuplicateColumn" in result.stderr
    assert "fix them and run `kundo db upgrade` again" in result.stderr
    assert f"tenant schemas: {len(fleet.scopes) - 1} upgraded, 0 already at head, 1 failed" in result.stdout
    first_output = result.stdout

    fleet.run(f"ALTER TABLE {quoted(broken.schema_name)}.workspace_profile DROP COLUMN nickname")
    result = runner.invoke(args=["db", "upgrade", "--workers", "2"])

    assert result.exit_code == 0, result.output
    assert f"tenant schemas: 1 upgraded, {len(fleet.scopes) - 1} already at head, 0 failed" in result.stdout
    assert set(fleet.versions().values()) == {"x_nickname"}
    assert "spare schemas: 1 replaced at the new head" in first_output
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT revision FROM control.spare_schemas").scalars().all() \
            == ["x_nickname"]
        assert connection.exec_driver_sql(f"SELECT to_regnamespace('{spare_schema}')").scalar() is None
