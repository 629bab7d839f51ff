"""Billing through Stripe: plans, hub add-ons and paid apps, seats, trials, webhooks, dunning, revenue share.

`init_app` wires everything; nothing touches Stripe until billing is used, and with no
STRIPE_SECRET_KEY configured billing is off: every hook is a no-op, everything is free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Call after the plugin host and tenant resolution (the guard needs g.tenant)."""
    from kundo.billing import entitlements, guard, service, views, webhooks
    from kundo.billing.cli import billing_cli
    from kundo.platform.jobs import register_job, register_periodic
    from kundo.plugins.host import ENTITLEMENT_KEY
    from kundo.plugins.installs import DISABLED_HOOKS_KEY
    from kundo.tenants.service import INVITE_CHECKS_KEY, WORKSPACE_CREATED_HOOKS_KEY

    register_job(app, webhooks.PROCESS_EVENT_JOB, webhooks.process_event, tenant=False)
    register_job(app, service.CREATE_CUSTOMER_JOB, service.create_customer_job, tenant=False)
    register_job(app, service.DISABLE_ADDONS_JOB, service.disable_addons_job, tenant=False)
    register_job(app, webhooks.SWEEP_JOB, webhooks.sweep, tenant=False)

    app.extensions[ENTITLEMENT_KEY] = entitlements.plugin_entitlement
    app.extensions.setdefault(DISABLED_HOOKS_KEY, []).append(entitlements.plugin_disabled)
    app.extensions.setdefault(INVITE_CHECKS_KEY, []).append(entitlements.invite_check)
    app.extensions.setdefault(WORKSPACE_CREATED_HOOKS_KEY, []).append(entitlements.workspace_created)

    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(views.blueprint)
    app.before_request(guard.refuse_writes_when_read_only)
    app.cli.add_command(billing_cli)

    from kundo.billing.stripe_api import billing_enabled

    if billing_enabled(app):
        app.extensions["kundo_nav"].append(views.NAV)
        # Lost enqueues and Stripe-down sign-ups are picked up without cron.
        register_periodic(app, webhooks.SWEEP_JOB, webhooks.SWEEP_EVERY_SECONDS)
    app.jinja_env.globals["billing_banner"] = views.admin_banner
