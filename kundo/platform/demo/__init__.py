"""The demo workspace `make run` creates, so a fresh checkout has something to show."""

from __future__ import annotations

from sqlalchemy import select

from kundo.platform.auth.service import create_user, find_user_by_email
from kundo.platform.db import db, utcnow
from kundo.tenants.models import Tenant
from kundo.tenants.service import create_workspace

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@kundo.localhost"
DEMO_PASSWORD = "kundo-preview-2026"  # noqa: S105 - printed on purpose; must pass the strength check


def ensure_demo_workspace() -> dict:
    """Create the demo owner and workspace if missing; return the login to print."""
    user = find_user_by_email(DEMO_EMAIL)
    if user is None:
        user = create_user(email=DEMO_EMAIL, name="Demo Owner", password=DEMO_PASSWORD)
        user.email_verified_at = utcnow()
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)) is None:
        create_workspace(slug=DEMO_SLUG, name="Demo GmbH", owner=user, locale="de")
    db.session.commit()
    return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
