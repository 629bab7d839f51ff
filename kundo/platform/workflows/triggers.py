"""The events a workflow can start from: the CRM core's, plus those plugins contribute.

Each trigger names the object type its conditions look at (the event's object). Plugin
triggers are offered only to tenants that enabled the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class TriggerSpec:
    event_type: str
    label: Any
    object_type: str
    plugin_id: str | None = None


CORE_TRIGGERS: tuple[TriggerSpec, ...] = (
    TriggerSpec("contact.created", _l("A contact is created"), "contact"),
    TriggerSpec("contact.updated", _l("A contact is changed"), "contact"),
    TriggerSpec("lifecycle_stage.changed", _l("A contact's lifecycle stage changes"), "contact"),
    TriggerSpec("company.created", _l("A company is created"), "company"),
    TriggerSpec("company.updated", _l("A company is changed"), "company"),
    TriggerSpec("task.created", _l("A task is created"), "task"),
    TriggerSpec("task.completed", _l("A task is completed"), "task"),
    TriggerSpec("task.due", _l("A task is due"), "task"),
    TriggerSpec("activity.logged", _l("An activity is logged"), "activity"),
)


def triggers_for(tenant_id: int | None) -> dict[str, TriggerSpec]:
    """The triggers a tenant may use (None: core only)."""
    triggers = {spec.event_type: spec for spec in CORE_TRIGGERS}
    if tenant_id is None:
        return triggers
    from kundo.plugins import enabled_plugin_ids, plugin_workflow_contributions

    enabled = enabled_plugin_ids(tenant_id)
    for plugin_id, trigger in plugin_workflow_contributions()[0]:
        if plugin_id in enabled and trigger.event_type not in triggers:
            triggers[trigger.event_type] = TriggerSpec(trigger.event_type, trigger.label, trigger.object_type,
                                                       plugin_id)
    return triggers
