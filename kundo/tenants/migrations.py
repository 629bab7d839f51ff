"""Alembic runs for the control plane and for every tenant schema.

Tenant schemas are migrated each in its own transaction, as the tenant's own role, with
the version table inside the schema. Alembic's `op` proxy is process-global, so the
parallel walk over tenants uses worker processes, not threads. A tenant at head costs
one round trip; a failed tenant is reported and the others carry on; a second run
resumes, because every finished tenant is already committed at head.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from kundo.tenants.naming import quoted
from kundo.tenants.session import TenantScope

_DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "migrations"


def migrations_root() -> Path:
    """The folder holding `control/` and `tenant/`; KUNDO_MIGRATIONS_DIR overrides it."""
    return Path(os.environ.get("KUNDO_MIGRATIONS_DIR") or _DEFAULT_ROOT)


@dataclass(frozen=True)
class MigrationTree:
    """One Alembic tree and where its version table lives inside a schema."""

    name: str
    script_location: str
    version_table: str = "alembic_version"
    extra_version_locations: tuple[str, ...] = ()

    def script(self) -> ScriptDirectory:
        return _script_directory(self.script_location, self.extra_version_locations)

    def heads(self) -> frozenset[str]:
        return frozenset(self.script().get_heads())


@lru_cache(maxsize=32)
def _script_directory(location: str, extra: tuple[str, ...]) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", location)
    if extra:
        versions = [str(Path(location) / "versions"), *extra]
        config.set_main_option("path_separator", "space")
        config.set_main_option("version_locations", " ".join(versions))
    return ScriptDirectory.from_config(config)


def control_tree() -> MigrationTree:
    return MigrationTree("control", str(migrations_root() / "control"))


def core_tenant_tree(*extra_version_locations: str) -> MigrationTree:
    """The core tenant tree; extra folders add revisions (tests, benchmarks)."""
    return MigrationTree("tenant", str(migrations_root() / "tenant"),
                         extra_version_locations=tuple(extra_version_locations))


def tenant_script_directory() -> ScriptDirectory:
    return core_tenant_tree().script()


def _run_tree(connection: Connection, tree: MigrationTree, version_table_schema: str | None,
              read_back: bool = False) -> str | None:
    """Run one tree to its heads on `connection`; `read_back` returns the new revision."""
    script = tree.script()
    config = Config()
    config.set_main_option("script_location", tree.script_location)

    def upgrade(rev, context):  # noqa: ARG001 - alembic callback signature
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(config, script, fn=upgrade, destination_rev="heads") as env:
        env.configure(
            connection=connection,
            version_table=tree.version_table,
            version_table_schema=version_table_schema,
            transactional_ddl=True,
        )
        env.run_migrations()
        return (env.get_context().get_current_revision() or "") if read_back else None


def upgrade_control_plane(engine: Engine) -> str:
    """Migrate schema `control` to head; returns the new revision. Safe to run again."""
    with engine.connect() as connection, connection.begin():
        connection.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS control")
        return _run_tree(connection, control_tree(), "control", read_back=True)


def upgrade_tenant(connection: Connection, scope: TenantScope, trees: Iterable[MigrationTree]) -> bool:
    """Migrate one tenant schema in one transaction, as the tenant's role.

    Returns False when every tree was already at head (nothing ran).
    """
    trees = tuple(trees)
    with connection.begin():
        current = _enter_and_read_versions(connection, scope, trees)
        pending = [tree for tree in trees if current.get(tree.version_table, frozenset()) != tree.heads()]
        for tree in pending:
            _run_tree(connection, tree, None)
        return bool(pending)


def _enter_and_read_versions(
    connection: Connection, scope: TenantScope, trees: tuple[MigrationTree, ...]
) -> dict[str, frozenset[str]]:
    """Scope the transaction to the tenant and read its version tables.

    Entering the tenant and finding its version tables is one round trip; on an
    autocommit connection (the workers') the BEGIN rides along too. A missing version
    table reads as no revisions (a plugin's first run, or a schema built from scratch).
    """
    driver = connection.connection.driver_connection
    tables = ", ".join(f"'{quoted(tree.version_table)[1:-1]}'" for tree in trees)
    sql = (
        ("BEGIN; " if driver.autocommit else "")
        + f"{scope.enter_sql}; "
        f"SELECT relname FROM pg_class WHERE relnamespace = '{quoted(scope.schema_name)}'::regnamespace "
        f"AND relname IN ({tables})"
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        while cursor.nextset():  # the SELECT's rows come last
            pass
        existing = [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
    if not existing:
        return {}
    union = " UNION ALL ".join(f"SELECT '{table}', version_num FROM {quoted(table)}" for table in existing)
    versions: dict[str, set[str]] = {}
    for table, version in connection.exec_driver_sql(union):
        versions.setdefault(table, set()).add(version)
    return {table: frozenset(found) for table, found in versions.items()}


@dataclass
class UpgradeReport:
    """What one walk over the tenants did: migrated, already at head, failed (slug → error)."""

    upgraded: list[str] = field(default_factory=list)
    up_to_date: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def describe_error(error: BaseException) -> str:
    """One line an operator can act on, without SQLAlchemy's SQL echo and links."""
    source = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    first_line = str(source).strip().splitlines()[0] if str(source).strip() else ""
    return f"{type(source).__name__}: {first_line}"[:500]


# ---- the parallel walk -------------------------------------------------------------

#: Outcome of one tenant: (slug, "upgraded" | "current" | "failed", error or None).
TenantOutcome = tuple[str, str, str | None]

_worker_engine: Engine | None = None
_worker_trees: tuple[MigrationTree, ...] = ()


def _init_worker(sqlalchemy_url: str, trees: tuple[MigrationTree, ...]) -> None:
    global _worker_engine, _worker_trees
    # A fresh backend per batch: a backend caches the catalog of every schema it touches,
    # and one connection walking thousands of tenants would grow without bound.
    # AUTOCOMMIT only means psycopg sends no BEGIN of its own: `upgrade_tenant` sends
    # it with the tenant scope in one round trip, and commits or rolls back as usual.
    _worker_engine = create_engine(sqlalchemy_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    _worker_trees = trees


def _upgrade_batch(scopes: list[TenantScope],
                   extra_trees: dict[int, tuple[MigrationTree, ...]] | None = None) -> list[TenantOutcome]:
    assert _worker_engine is not None
    extra_trees = extra_trees or {}
    results: list[TenantOutcome] = []
    try:
        connection = _worker_engine.connect()
    except Exception as error:  # noqa: BLE001 - no connection: every tenant of the batch failed
        return [(scope.slug, "failed", describe_error(error)) for scope in scopes]
    try:
        for scope in scopes:
            try:
                migrated = upgrade_tenant(connection, scope, _worker_trees + extra_trees.get(scope.tenant_id, ()))
                results.append((scope.slug, "upgraded" if migrated else "current", None))
            except Exception as error:  # noqa: BLE001 - reported per tenant, the others go on
                results.append((scope.slug, "failed", describe_error(error)))
                if connection.invalidated or connection.closed:
                    connection = _worker_engine.connect()
    finally:
        connection.close()
    return results


def upgrade_all_tenants(
    sqlalchemy_url: str,
    scopes: list[TenantScope],
    workers: int = 2,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = 25,
    trees: tuple[MigrationTree, ...] | None = None,
    extra_trees: dict[int, tuple[MigrationTree, ...]] | None = None,
) -> UpgradeReport:
    """Upgrade every given tenant; a failed tenant is reported, the rest go on.

    :param trees: the Alembic trees every tenant runs, in order (default: the core tree).
    :param extra_trees: trees only some tenants run, after those, by tenant id (the
        plugins each tenant enabled); they share the tenant's transaction and report.
    """
    extra_trees = extra_trees or {}
    trees = trees or (core_tenant_tree(),)
    report = UpgradeReport()
    if not scopes:
        return report
    batches = [scopes[i:i + batch_size] for i in range(0, len(scopes), batch_size)]
    if workers <= 1:
        _init_worker(sqlalchemy_url, trees)
        try:
            _collect(((batch, _upgrade_batch(batch, _extras_of(batch, extra_trees))) for batch in batches),
                     report, on_progress)
        finally:
            _worker_engine.dispose()
        return report
    with ProcessPoolExecutor(
        max_workers=min(workers, len(batches)), initializer=_init_worker, initargs=(sqlalchemy_url, trees)
    ) as pool:
        futures = {pool.submit(_upgrade_batch, batch, _extras_of(batch, extra_trees)): batch for batch in batches}
        _collect(_finished(futures), report, on_progress)
    return report


def _extras_of(batch: list[TenantScope], extra_trees: dict[int, tuple[MigrationTree, ...]]):
    return {scope.tenant_id: extra_trees[scope.tenant_id] for scope in batch if scope.tenant_id in extra_trees}


def _finished(futures: dict[Future, list[TenantScope]]) -> Iterator[tuple[list[TenantScope], list[TenantOutcome]]]:
    for future in as_completed(futures):
        batch = futures[future]
        try:
            yield batch, future.result()
        except Exception as error:  # noqa: BLE001 - a dead worker fails its batch, not the walk
            yield batch, [(scope.slug, "failed", describe_error(error)) for scope in batch]


def _collect(results, report: UpgradeReport, on_progress) -> None:
    for batch, outcomes in results:
        for slug, outcome, error in outcomes:
            if outcome == "upgraded":
                report.upgraded.append(slug)
            elif outcome == "current":
                report.up_to_date += 1
            else:
                report.failed[slug] = error or "unknown error"
        if on_progress:
            on_progress(len(batch))
