"""Names of tenant schemas and roles, checked before they are formatted into SQL."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_name_for(tenant_id: int) -> str:
    return f"t_{int(tenant_id)}"


def role_name_for(database_name: str, tenant_id: int) -> str:
    """Roles are cluster-wide, schemas are per database: the database name keeps two
    Kundo databases on one server (say, two test runs) from sharing tenant roles."""
    base = re.sub(r"[^a-z0-9_]", "_", database_name.lower())[:40]
    return f"kundo_{base}_t{int(tenant_id)}"


def quoted(identifier: str) -> str:
    """Double-quote an identifier Kundo generated itself; refuse anything unexpected."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"refusing unsafe SQL identifier {identifier!r}")
    return f'"{identifier}"'
