"""Per-property sort indexes: a btree on (custom -> 'key', id) for one custom property.

Without one, the first page of a million contacts sorted by a custom property has to
read and sort every row (hundreds of milliseconds); with one it is an index range
scan like any standard column. Custom properties differ per tenant, so no migration
can create these: they are built for a tenant's own properties, concurrently (no
lock on writers), from a connection outside any transaction, as the tenant's role
so the index belongs to the tenant like the rest of its schema
(`kundo.tenants.session.tenant_autocommit_connection`).

Who builds them: creating or deleting a property emits `property.created` /
`property.deleted`; the consumer in `kundo.crm.jobs` enqueues the job
`crm.sync_sort_index`, which calls `sync_sort_index`. That function looks at the
property as it is *now* and builds or drops the index accordingly, so jobs that run
twice, late or out of order still end where the definitions are. Lists work without
the index, only slower, while it is being built.

The index expression is the one `kundo.crm.lists.fields.custom_field` sorts by; the
two must stay identical or PostgreSQL will not use the index.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from kundo.crm.properties.models import PropertyDefinition, PropertyType
from kundo.tenants.naming import quoted
from kundo.tenants.session import TenantScope, tenant_autocommit_connection, tenant_session

log = logging.getLogger(__name__)

_TABLES = {"contact": "contacts", "company": "companies"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")

#: Types whose values are small enough for a btree entry. Text and URL values may be up to
#: 10,000 characters, over btree's ~2,700-byte limit per entry: an index on them would make
#: saving a record with a long value fail, so those properties sort without an index.
INDEXED_TYPES = frozenset({PropertyType.NUMBER, PropertyType.DATE, PropertyType.ENUM, PropertyType.BOOLEAN})
#: How long a job waits for another job working on the same index before it gives up (and is retried).
LOCK_WAIT_SECONDS = 120.0


def sort_index_name(object_type: str, key: str) -> str:
    """`ix_contacts_sort_<key>`, shortened with a hash where PostgreSQL's 63 characters do not suffice."""
    name = f"ix_{_TABLES[object_type]}_sort_{key}"
    if len(name) > 63:
        name = f"{name[:50]}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    return name


def _checked(object_type: str, key: str) -> None:
    if object_type not in _TABLES:
        raise ValueError(f"Unknown object type “{object_type}”.")
    if not _KEY.match(key):
        raise ValueError(f"“{key}” is not a property key.")


def index_state(connection: Connection, scope: TenantScope, name: str) -> bool | None:
    """True (usable), False (INVALID: a build that failed or was cut off) or None (no such index)."""
    return connection.execute(text(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relname = :name"
    ), {"schema": scope.schema_name, "name": name}).scalar()


def _create(connection: Connection, scope: TenantScope, object_type: str, key: str) -> str:
    name = sort_index_name(object_type, key)
    qualified = f"{quoted(scope.schema_name)}.{quoted(name)}"
    if index_state(connection, scope, name) is False:
        # IF NOT EXISTS would keep the broken index: it is never used and still slows every write.
        log.warning("dropping invalid sort index %s to rebuild it", qualified, extra={"tenant_id": scope.tenant_id})
        connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}")
    table = f"{quoted(scope.schema_name)}.{_TABLES[object_type]}"
    connection.exec_driver_sql(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quoted(name)} ON {table} "
                               f"((custom -> '{key}'), id)")
    return name


def _drop(connection: Connection, scope: TenantScope, object_type: str, key: str) -> None:
    name = sort_index_name(object_type, key)
    connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted(scope.schema_name)}.{quoted(name)}")


def create_sort_index(scope: TenantScope, object_type: str, key: str, *, engine: Engine | None = None) -> str:
    """Build the sort index of one custom property (no-op when it exists, rebuilt when INVALID); returns its name.

    Takes as long as reading the table once, and first waits for the transactions that
    hold locks on the table (that is how CONCURRENTLY avoids locking writers): run it
    from a job, never while the same thread has a transaction open.
    """
    _checked(object_type, key)
    with tenant_autocommit_connection(scope, engine) as connection:
        return _create(connection, scope, object_type, key)


def drop_sort_index(scope: TenantScope, object_type: str, key: str, *, engine: Engine | None = None) -> None:
    """Drop the sort index of a property (when the property is deleted)."""
    _checked(object_type, key)
    with tenant_autocommit_connection(scope, engine) as connection:
        _drop(connection, scope, object_type, key)


def sync_sort_index(scope: TenantScope, object_type: str, key: str, *, engine: Engine | None = None) -> str:
    """Make the index match the property as it is now: "built" if it exists with an indexed type, else "dropped".

    Two jobs for the same index (a property created and deleted in quick succession)
    take turns on an advisory lock, and each reads the definition only once it holds
    the lock; so the later one always sees the later state. The lock is taken by
    polling, not by waiting in PostgreSQL: a session waiting inside a statement holds a
    snapshot, which CONCURRENTLY in the other session would in turn wait for.
    """
    _checked(object_type, key)
    name = sort_index_name(object_type, key)
    with tenant_autocommit_connection(scope, engine) as connection:
        lock = {"scope": "kundo.crm.sort_index", "name": f"{scope.schema_name}.{name}"}
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not connection.execute(text("SELECT pg_try_advisory_lock(hashtext(:scope), hashtext(:name))"),
                                     lock).scalar():
            if time.monotonic() > deadline:
                raise TimeoutError(f"another job has been working on {name} for {LOCK_WAIT_SECONDS:.0f} s")
            time.sleep(0.2)
        try:
            with tenant_session(scope, engine) as session:
                kind = session.scalar(select(PropertyDefinition.type).where(
                    PropertyDefinition.object_type == object_type, PropertyDefinition.key == key))
            if kind is not None and PropertyType(kind) in INDEXED_TYPES:
                _create(connection, scope, object_type, key)
                return "built"
            _drop(connection, scope, object_type, key)
            return "dropped"
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:scope), hashtext(:name))"), lock)


def sync_all_sort_indexes(scope: TenantScope, *, engine: Engine | None = None) -> dict[str, str]:
    """Every property of the tenant gets its index as `sync_sort_index` would, and indexes whose
    property is gone are dropped; returns {index name: "built" / "dropped"}.

    For properties created before the events existed, and as the repair when a job was
    dead-lettered. The `ix_<table>_sort_` prefix is reserved for these indexes.
    """
    # Indexes first, properties second: an index is only ever built after its property exists.
    with tenant_autocommit_connection(scope, engine) as connection:
        present = set(connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = :schema AND "
            "(indexname LIKE 'ix\\_contacts\\_sort\\_%' OR indexname LIKE 'ix\\_companies\\_sort\\_%')"
        ), {"schema": scope.schema_name}).scalars())
    with tenant_session(scope, engine) as session:
        wanted = [(row.object_type, row.key) for row in session.execute(
            select(PropertyDefinition.object_type, PropertyDefinition.key)) if row.object_type in _TABLES]
    outcomes = {sort_index_name(object_type, key): sync_sort_index(scope, object_type, key, engine=engine)
                for object_type, key in wanted}
    orphans = present - outcomes.keys()
    if orphans:
        with tenant_autocommit_connection(scope, engine) as connection:
            for name in sorted(orphans):
                connection.exec_driver_sql(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {quoted(scope.schema_name)}.{quoted(name)}")
                outcomes[name] = "dropped"
    return outcomes
