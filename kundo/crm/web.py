"""The CRM's pages and sidebar entries, wired by the app factory."""

from __future__ import annotations

from flask import Flask

from kundo.platform.web import NavItem

CRM_NAV = (
    NavItem("contacts", "Contacts", "crm_views.contacts", icon="user", order=10),
    NavItem("companies", "Companies", "crm_views.companies", icon="building", order=20),
    NavItem("tasks", "My tasks", "crm_views.my_tasks", icon="check-square", order=30),
    NavItem("import", "Import", "crm_views.imports", icon="upload", order=800, section="settings"),
    NavItem("properties", "Properties", "crm_views.properties", icon="sliders", order=810, section="settings"),
)


def init_app(app: Flask) -> None:
    from kundo.crm import jobs
    from kundo.crm.summary import crm_summary
    from kundo.crm.views import blueprint, load_pages

    jobs.init_app(app)  # sort indexes of custom properties, CSV imports
    from kundo.crm.tasks import jobs as task_jobs

    task_jobs.init_app(app)  # task reminders and due announcements
    load_pages()
    app.register_blueprint(blueprint)
    app.extensions["kundo_nav"].extend(CRM_NAV)
    # The dashboard (the shell's page) shows these figures when the CRM is there.
    app.jinja_env.globals["crm_summary"] = crm_summary
