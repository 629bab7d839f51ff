"""The CRM's API blueprints, registered by kundo.platform.api in this order."""

from __future__ import annotations


def blueprints():
    from kundo.crm.companies.api import blueprint as companies
    from kundo.crm.contacts.api import blueprint as contacts
    from kundo.crm.gdpr.api import blueprint as gdpr
    from kundo.crm.imports.api import blueprint as imports
    from kundo.crm.lists.api import blueprint as lists
    from kundo.crm.properties.api import blueprint as properties
    from kundo.crm.tasks.api import blueprint as tasks
    from kundo.crm.timeline.api import blueprint as timeline

    return [contacts, companies, properties, timeline, tasks, lists, imports, gdpr]
