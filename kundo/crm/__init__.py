"""CRM core: the data model every hub and integration writes into.

Hubs and integrations import from here, not from sub-modules, so the inside can be
rearranged without breaking them::

    from kundo.crm import match_contact_by_email, log_activity, create_task

Names resolve lazily (PEP 562): importing `kundo.crm` loads nothing until a name is
used, which keeps the tenant-table registry (`kundo.tenants.tables`) free of cycles.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    # contacts
    "create_contact": "kundo.crm.contacts.service",
    "update_contact": "kundo.crm.contacts.service",
    "get_contact": "kundo.crm.contacts.service",
    "find_contact_by_email": "kundo.crm.contacts.service",
    "set_lifecycle_stage": "kundo.crm.contacts.service",
    "add_tags": "kundo.crm.contacts.service",
    "remove_tags": "kundo.crm.contacts.service",
    "set_consent": "kundo.crm.contacts.service",
    "delete_contact": "kundo.crm.contacts.service",
    "Contact": "kundo.crm.contacts.models",
    "LifecycleStage": "kundo.crm.contacts.models",
    # companies
    "create_company": "kundo.crm.companies.service",
    "update_company": "kundo.crm.companies.service",
    "get_company": "kundo.crm.companies.service",
    "find_company_by_domain": "kundo.crm.companies.service",
    "link_contact": "kundo.crm.companies.service",
    "Company": "kundo.crm.companies.models",
    # the one matcher
    "match_contact_by_email": "kundo.crm.matching.service",
    # the one timeline
    "log_activity": "kundo.crm.timeline.service",
    "timeline_for": "kundo.crm.timeline.service",
    "ActivityType": "kundo.crm.timeline.models",
    # tasks
    "create_task": "kundo.crm.tasks.service",
    "complete_task": "kundo.crm.tasks.service",
    "my_tasks": "kundo.crm.tasks.service",
    "tasks_for": "kundo.crm.tasks.service",
    "TaskType": "kundo.crm.tasks.models",
    # custom properties
    "validate_custom_values": "kundo.crm.properties.service",
    "PropertyValidationError": "kundo.crm.properties.service",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'kundo.crm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
