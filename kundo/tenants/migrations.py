"""Alembic runs for the control plane and for every tenant schema.

Tenant schemas are migrated each in its own transaction, as the tenant's own role, with
the version table inside the schema. Alembic's `op` proxy is process-global, so the
parallel walk over tenants uses worker processes, not threads. A tenant at head costs
one query; a failed tenant is reported and the others carry on; a second run resumes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from kundo.tenants.session import TenantScope

MIGRATIONS_ROOT = Path(os.environ.get("KUNDO_MIGRATIONS_DIR", Path(__file__).resolve().parents[2] / "migrations"))


@dataclass(frozen=True)
class MigrationTree:
    """One Alembic tree and where its version table lives inside a schema."""

    name: str
    script_location: str
    version_table: str = "alembic_version"
    extra_version_locations: tuple[str, ...] = ()

    def script(self) -> ScriptDirectory:
        return _script_directory(self.script_location, self.extra_version_locations)


@lru_cache(maxsize=32)
def _script_directory(location: str, extra: tuple[str, ...]) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", location)
    if extra:
        versions = [str(Path(location) / "versions"), *extra]
        config.set_main_option("version_locations", " ".join(versions))
        config.set_main_option("path_separator", "space")
    return ScriptDirectory.from_config(config)


CONTROL_TREE = MigrationTree("control", str(MIGRATIONS_ROOT / "control"))
CORE_TENANT_TREE = MigrationTree("tenant", str(MIGRATIONS_ROOT / "tenant"))


def tenant_script_directory() -> ScriptDirectory:
    return CORE_TENANT_TREE.script()


def _run_tree(connection: Connection, tree: MigrationTree, version_table_schema: str | None) -> str:
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
        return env.get_context().get_current_revision() or ""


def upgrade_control_plane(engine: Engine) -> str:
    """Migrate schema `control` to head; returns the new revision."""
    with engine.connect() as connection, connection.begin():
        connection.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS control")
        return _run_tree(connection, CONTROL_TREE, "control")


def upgrade_tenant(connection: Connection, scope: TenantScope, trees: Iterable[MigrationTree]) -> None:
    """Migrate one tenant schema in one transaction, as the tenant's role."""
    with connection.begin():
        connection.exec_driver_sql(scope.enter_sql)
        for tree in trees:
            heads = set(tree.script().get_heads())
            current = _current_revisions(connection, tree.version_table)
            if current == heads:
                continue
            _run_tree(connection, tree, None)


def _current_revisions(connection: Connection, version_table: str) -> set[str]:
    exists = connection.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": version_table})
    if not exists:
        return set()
    return set(connection.scalars(text(f'SELECT version_num FROM "{version_table}"')))  # noqa: S608


@dataclass
class UpgradeReport:
    upgraded: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


# ---- the parallel walk -------------------------------------------------------------

_worker_engine: Engine | None = None
_worker_trees: tuple[MigrationTree, ...] = ()


def _init_worker(sqlalchemy_url: str, trees: tuple[MigrationTree, ...]) -> None:
    global _worker_engine, _worker_trees
    _worker_engine = create_engine(sqlalchemy_url, pool_size=1, max_overflow=0)
    _worker_trees = trees


def _upgrade_batch(scopes: list[TenantScope]) -> list[tuple[str, str | None]]:
    results = []
    assert _worker_engine is not None
    with _worker_engine.connect() as connection:
        for scope in scopes:
            try:
                upgrade_tenant(connection, scope, _worker_trees)
                results.append((scope.slug, None))
            except Exception as error:  # noqa: BLE001 - reported per tenant, others go on
                results.append((scope.slug, f"{type(error).__name__}: {error}".strip()[:2000]))
    return results


def upgrade_all_tenants(
    sqlalchemy_url: str,
    scopes: list[TenantScope],
    workers: int = 2,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = 25,
) -> UpgradeReport:
    """Upgrade every given tenant; a failed tenant is reported, the rest go on."""
    report = UpgradeReport()
    trees = (CORE_TENANT_TREE,)
    if not scopes:
        return report
    batches = [scopes[i:i + batch_size] for i in range(0, len(scopes), batch_size)]
    if workers <= 1:
        _init_worker(sqlalchemy_url, trees)
        iterator = (_upgrade_batch(batch) for batch in batches)
        _collect(iterator, report, on_progress)
        _worker_engine.dispose()
        return report
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(sqlalchemy_url, trees)
    ) as pool:
        futures = [pool.submit(_upgrade_batch, batch) for batch in batches]
        _collect((future.result() for future in as_completed(futures)), report, on_progress)
    return report


def _collect(results, report: UpgradeReport, on_progress) -> None:
    for batch in results:
        for slug, error in batch:
            if error is None:
                report.upgraded += 1
            else:
                report.failed[slug] = error
        if on_progress:
            on_progress(len(batch))
