"""Entry point for gunicorn: `gunicorn wsgi:app`. Needs DATABASE_URL and SECRET_KEY."""

from kundo.platform.app import create_app

app = create_app()
