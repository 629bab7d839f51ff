"""A throw-away PostgreSQL database per test session.

With DATABASE_URL set, the database is created on that server; without it, on the
embedded server under `var/test-pgdata`. Tenant roles are cluster-wide, so they are
named after the database and dropped with it.
"""

from __future__ import annotations

import os
import uuid

import psycopg
from sqlalchemy.engine import make_url


def server_admin_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from kundo.platform.embedded import start_embedded_postgres, var_dir

    return start_embedded_postgres(var_dir() / "test-pgdata", database="postgres")


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://"
    )


def _libpq(url: str) -> str:
    from kundo.platform.config import libpq_url

    return libpq_url(url)


def create_database(admin_url: str, prefix: str = "kundo_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(admin_url, name)


def drop_database(admin_url: str, database_url: str) -> None:
    from kundo.tenants.naming import role_name_for

    name = make_url(database_url).database
    role_prefix = role_name_for(name, 0)[:-1]  # "kundo_<db>_t"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        roles = conn.execute(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (role_prefix,)
        ).fetchall()
        for (role,) in roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
