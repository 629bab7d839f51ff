"""The demo workspace `make run` creates, so a fresh checkout has a living CRM to show.

`ensure_demo_workspace` runs at every `kundo serve --demo` start, so each part is made
only when it is missing: the owner and workspace, the first-party hubs (enabled once;
a hub the visitor disabled stays disabled), workflows, CRM records, the Sales Hub's
deals, products, quote and booking page, and a few notifications. The platform never
imports a hub at module level: the Sales part imports `kundo_sales` lazily and is skipped
when the hub is not loaded or not enabled.
"""

from __future__ import annotations

import logging

from flask_babel import force_locale
from sqlalchemy import select

from kundo.platform.auth.service import create_user, find_user_by_email
from kundo.platform.db import db, utcnow
from kundo.tenants.models import Tenant
from kundo.tenants.service import create_workspace

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@kundo.localhost"
DEMO_PASSWORD = "kundo-preview-2026"  # noqa: S105 - printed on purpose; must pass the strength check
#: The first-party hubs the demo switches on, in this order.
DEMO_HUBS = ("sales", "marketing", "service")

log = logging.getLogger("kundo.demo")


def ensure_demo_workspace() -> dict:
    """Create the demo owner, workspace and sample data where missing; return the login to print."""
    user = find_user_by_email(DEMO_EMAIL)
    if user is None:
        user = create_user(email=DEMO_EMAIL, name="Demo Owner", password=DEMO_PASSWORD)
        user.email_verified_at = utcnow()
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)) is None:
        create_workspace(slug=DEMO_SLUG, name="Demo GmbH", owner=user, locale="de")
    db.session.commit()
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    enable_demo_hubs(tenant, user)
    seed_demo_data(tenant, user)
    return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}


def enable_demo_hubs(tenant, owner) -> list[str]:
    """Enable each loaded first-party hub the workspace never had; returns the ids enabled now."""
    from kundo.plugins import PluginError, enable_plugin, loaded_plugins
    from kundo.plugins.models import TenantPlugin

    known = set(db.session.scalars(select(TenantPlugin.plugin_id).where(TenantPlugin.tenant_id == tenant.id)))
    loaded = loaded_plugins()
    enabled = []
    for hub in DEMO_HUBS:
        plugin = loaded.get(hub)
        if hub in known or plugin is None or not plugin.healthy or plugin.manifest is None:
            continue
        try:
            enable_plugin(tenant, hub, user=owner, consented_scopes=set(plugin.manifest.permissions),
                          with_requirements=True)
        except PluginError as error:  # e.g. billing refuses: the demo goes on without that hub
            db.session.rollback()
            log.warning("demo: hub %s not enabled: %s", hub, error)
            continue
        enabled.append(hub)
    return enabled


def seed_demo_data(tenant, owner) -> dict:
    """Workflows and CRM records, then the Sales Hub's part (if enabled), then notifications."""
    from kundo.platform.demo.automation import seed_notifications, seed_workflows
    from kundo.platform.demo.crm import seed_crm
    from kundo.plugins import enabled_plugin_ids
    from kundo.tenants.session import tenant_session

    made: dict = {}
    with force_locale(tenant.locale or "en"):
        with tenant_session(tenant) as session:
            # Workflows first: the onboarding workflow then sees the contacts the won deals make customers.
            made["workflows"] = seed_workflows(session, owner.id)
            made["crm"] = seed_crm(session, owner.id)
        sales = "sales" in enabled_plugin_ids(tenant.id)
        if sales:
            from kundo.platform.demo.sales import seed_sales

            with tenant_session(tenant) as session:
                made["sales"] = seed_sales(session, owner, tenant.locale or "en")
        with tenant_session(tenant) as session:
            made["notifications"] = seed_notifications(session, owner.id, sales=sales)
    log.info("demo workspace data: %s", made)
    return made
