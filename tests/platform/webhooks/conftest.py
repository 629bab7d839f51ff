"""A real HTTP receiver on loopback, and an app that may send to it."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kundo.platform.db import db
from kundo.testing.fixtures import build_app
from kundo.testing.jobs import stop_job_runner


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of `statuses` (then 200) and records it."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 400 else b"receiver broke")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks_app(database_url):
    """An operator who allows private addresses (the receiver is on loopback), with a clock of its own
    and queues of its own (so the session app's worker never runs its jobs)."""
    app = build_app(database_url, webhook_allow_private=True, queue_prefix=f"hooks{uuid.uuid4().hex[:8]}")
    yield app
    stop_job_runner(app)
    with app.app_context():
        db.engine.dispose()
