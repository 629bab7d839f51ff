"""A live Kundo on a free loopback port and Debian's Chromium driven by Playwright.

The server runs in a thread of the test process on the suite's own database, so a
test can check what the browser did in `control.*` through the same app. Chromium
resolves `*.localhost` to loopback, so `http://<slug>.localhost:<port>` reaches the
workspace without touching /etc/hosts. No browser is downloaded: Playwright drives
/usr/bin/chromium (`make browser` installs it); as root it needs --no-sandbox.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from kundo.testing.fixtures import build_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _LateApp:
    """The WSGI app the server starts with: the port must be known before the app is built."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class LiveServer:
    app: object
    port: int

    @property
    def root_url(self) -> str:
        return f"http://localhost:{self.port}"

    def workspace_url(self, slug: str) -> str:
        return f"http://{slug}.localhost:{self.port}"


@pytest.fixture(scope="session")
def live_server(database_url):
    """Kundo served on 127.0.0.1:<free port> with KUNDO_DOMAIN=localhost:<port>."""
    late = _LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    port = server.server_port
    late.app = build_app(database_url, domain=f"localhost:{port}")
    thread = threading.Thread(target=server.serve_forever, name="kundo-live-server", daemon=True)
    thread.start()
    yield LiveServer(late.app, port)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    from kundo.platform.db import db

    with late.app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser profile (no cookies) per test, 1280×800, English."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
