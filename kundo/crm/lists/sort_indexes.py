"""Per-property sort indexes: a btree on (custom -> 'key', id) for one custom property.

Without one, the first page of a million contacts sorted by a custom property has to
read and sort every row (hundreds of milliseconds); with one it is an index range
scan like any standard column. Custom properties differ per tenant, so no migration
can create these: they are built for a tenant's own properties, concurrently (no
lock on writers), from a connection outside any transaction, as the tenant's role
so the index belongs to the tenant like the rest of its schema.

The index expression is the one `kundo.crm.lists.fields.custom_field` sorts by; the
two must stay identical or PostgreSQL will not use the index.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy.engine import Engine

from kundo.platform.db import db
from kundo.tenants.naming import quoted
from kundo.tenants.session import TenantScope

_TABLES = {"contact": "contacts", "company": "companies"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


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


def _run_as_tenant(scope: TenantScope, sql: str, engine: Engine | None) -> None:
    with (engine or db.engine).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"SET ROLE {quoted(scope.role_name)}")
        try:
            connection.exec_driver_sql(sql)
        finally:
            connection.exec_driver_sql("RESET ROLE")


def create_sort_index(scope: TenantScope, object_type: str, key: str, *, engine: Engine | None = None) -> str:
    """Build the sort index of one custom property (no-op when it exists); returns its name.

    Takes as long as reading the table once, and first waits until every transaction
    open in the database has ended (that is how CONCURRENTLY avoids locks): run it
    from a job, never inside a transaction of the same process.
    """
    _checked(object_type, key)
    name = sort_index_name(object_type, key)
    table = f"{quoted(scope.schema_name)}.{_TABLES[object_type]}"
    _run_as_tenant(scope, f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quoted(name)} ON {table} "
                          f"((custom -> '{key}'), id)", engine)
    return name


def drop_sort_index(scope: TenantScope, object_type: str, key: str, *, engine: Engine | None = None) -> None:
    """Drop the sort index of a property (when the property is deleted)."""
    _checked(object_type, key)
    name = sort_index_name(object_type, key)
    _run_as_tenant(scope, f"DROP INDEX CONCURRENTLY IF EXISTS {quoted(scope.schema_name)}.{quoted(name)}", engine)
