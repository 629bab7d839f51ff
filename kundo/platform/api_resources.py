"""The API blueprints of the platform, in the order they appear in the OpenAPI."""

from __future__ import annotations


def blueprints():
    from kundo.crm.api import blueprints as crm_blueprints
    from kundo.platform.auth.api import blueprint as auth_api
    from kundo.platform.jobs.admin import api_blueprint as jobs_api
    from kundo.platform.notifications.api import blueprint as notifications_api
    from kundo.platform.webhooks.api import blueprint as webhooks_api
    from kundo.platform.workflows.api import blueprint as workflows_api
    from kundo.plugins.api import blueprint as apps_api
    from kundo.tenants.api import blueprint as workspace_api

    return [auth_api, workspace_api, *crm_blueprints(), workflows_api, notifications_api, webhooks_api, jobs_api,
            apps_api]
