"""The application factory: the one place that wires Kundo together.

Order matters and is commented where it does. Nothing here writes to the database or
touches the network (the plugin host reads the approved plugin names once): migrations,
seeding and the embedded PostgreSQL belong to the CLI.
"""

from __future__ import annotations

from flask import Flask

from kundo.platform.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("kundo", static_folder=None, template_folder=None)
    app.config.from_mapping(settings.flask_config())

    # 1. Logging first, so everything after can log with request id and tenant.
    from kundo.platform.logging import configure_logging

    configure_logging(app, json_logs=settings.log_json)

    # 2. Database: both metadata trees must be complete before any session exists.
    from kundo.platform.db import db, limit_connection_uses
    from kundo.platform.models import load_control_models
    from kundo.tenants.tables import tenant_metadata  # noqa: F401 - completes tenant metadata

    load_control_models()
    db.init_app(app)
    with app.app_context():
        limit_connection_uses(db.engine, settings.db_conn_max_uses)

    # 2b. Jobs before any feature: features register their jobs, consumers and timer handlers.
    #     The broker itself is built on first use, so this opens no connection.
    from kundo.platform import jobs

    jobs.init_app(app)

    # 3. Request plumbing: request id, then tenant resolution (which needs the db),
    #    then the signed-in user (which needs the tenant to find the membership).
    from kundo.platform import security, web
    from kundo.platform.auth import session as auth_session
    from kundo.platform.errors import register_error_handlers
    from kundo.platform.i18n import init_i18n
    from kundo.platform.logging import init_request_id
    from kundo.tenants import resolution

    init_request_id(app)
    resolution.init_app(app)
    auth_session.init_app(app)
    security.init_app(app)
    from kundo.platform import input_guard

    input_guard.init_app(app)
    init_i18n(app)
    register_error_handlers(app)

    # 4. Pages and API. The API registers after CSRF so it can exempt itself.
    from kundo.platform import api as api_base
    from kundo.platform import health
    from kundo.platform.auth import views as auth_views
    from kundo.platform.mail import views as mail_views
    from kundo.tenants import views as tenant_views

    web.init_app(app)
    from kundo.crm import web as crm_web

    crm_web.init_app(app)
    # Workflows after the CRM (their actions call it) and the nav registry web made.
    from kundo.platform import workflows

    workflows.init_app(app)
    # Notifications, webhooks and the failed-jobs page: timer handlers, a consumer, pages, nav entries.
    from kundo.platform import notifications, webhooks
    from kundo.platform.jobs import admin as jobs_admin

    notifications.init_app(app)
    webhooks.init_app(app)
    jobs_admin.init_app(app)
    app.register_blueprint(health.blueprint)
    from kundo.platform import metrics

    metrics.init_app(app)
    app.register_blueprint(auth_views.blueprint)
    app.register_blueprint(tenant_views.blueprint)
    app.register_blueprint(mail_views.blueprint)
    from kundo.plugins.marketplace import views as marketplace_views

    app.register_blueprint(marketplace_views.blueprint)
    api_base.init_app(app)

    # 4b. Plugins last: they mount onto the API and the navigation the core made above,
    #     their 404 gate needs the tenant step 3 resolves, and core routes are registered
    #     first so no plugin can take their place. Reads the approved names once (the
    #     factory's only database read; an unmigrated database means first-party only).
    from kundo.plugins import host as plugin_host

    plugin_host.init_app(app)

    # 4c. Billing after the plugin host: it fills in the host's entitlement hook.
    from kundo import billing

    billing.init_app(app)

    # 5. CLI commands hang off the app so `flask`-style discovery works too.
    from kundo.platform.cli import register_commands

    register_commands(app)
    return app
