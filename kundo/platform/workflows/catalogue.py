"""What a workspace can build with: triggers, actions and their settings, operators, properties.

The builder page and `GET /api/v1/workflows/catalogue` both read this, so a plugin's
trigger or action appears in both as soon as the tenant enables it.
"""

from __future__ import annotations

from marshmallow import fields

from kundo.platform.workflows.actions import actions_for
from kundo.platform.workflows.conditions import OPERATORS
from kundo.platform.workflows.objects import STANDARD_PROPERTIES
from kundo.platform.workflows.triggers import triggers_for


def _field_type(field: fields.Field) -> str:
    for kind, name in ((fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Url, "url"),
                       (fields.String, "text")):
        if isinstance(field, kind):
            return name
    return "any"


def catalogue(tenant_id: int | None) -> dict:
    actions = []
    for spec in actions_for(tenant_id).values():
        schema = spec.params_schema()
        actions.append({"key": spec.key, "label": str(spec.label), "plugin_id": spec.plugin_id, "params": [
            {"name": name, "type": _field_type(field), "required": field.required,
             **({"default": field.load_default} if isinstance(field.load_default, str | int | bool) else {})}
            for name, field in schema.fields.items()]})
    return {
        "triggers": [{"event": spec.event_type, "label": str(spec.label), "object_type": spec.object_type,
                      "plugin_id": spec.plugin_id, "properties": list(STANDARD_PROPERTIES.get(spec.object_type, ()))}
                     for spec in triggers_for(tenant_id).values()],
        "actions": actions,
        "operators": [{"operator": key, "label": str(label), "value": kind} for key, (label, kind) in
                      OPERATORS.items()],
    }
