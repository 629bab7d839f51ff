"""Entry point for gunicorn: `gunicorn wsgi:app`. Needs DATABASE_URL and SECRET_KEY."""

import gc

from kundo.platform.app import create_app

app = create_app()
# Everything made at start-up lives as long as the process: out of the collector's sight, a
# full collection no longer walks it (bench/sales.py: the board's p95 fell from ~190 to ~40 ms).
gc.freeze()
