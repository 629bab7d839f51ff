"""What a workflow step can do: the built-in actions and those plugins contribute.

Every action changes data through the owning service (`kundo.crm`, the mailer, the
notifications module), so validation happens and domain events are emitted as if a
person had done it. `run` returns ``(result, detail)`` with result "done" or "skipped"
(e-mail without consent, a task without a contact …); `preview` says what `run` would do
without writing anything — the dry run calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy.orm import Session

from kundo.platform.workflows.merge import render, template_problem
from kundo.platform.workflows.objects import related_contact_id

Result = tuple[str, dict]


@dataclass(frozen=True)
class ActionContext:
    """Who and what a step acts for."""

    tenant_id: int
    workflow_id: int | None
    enrollment_id: int | None
    object_type: str
    object_id: int
    now: datetime
    merge: dict  # merge fields, see kundo.platform.workflows.objects.merge_context


@dataclass(frozen=True)
class ActionSpec:
    key: str
    label: Any  # lazy msgid
    params_schema: type[Schema]
    run: Callable[[Session, ActionContext, dict], Result]
    preview: Callable[[Session, ActionContext, dict], dict]
    plugin_id: str | None = None


def _template(required: bool = False, max_length: int = 20_000) -> fields.String:
    def check(value: str) -> None:
        problem = template_problem(value)
        if problem:
            raise ValidationError(problem)

    return fields.String(required=required, validate=[validate.Length(min=1 if required else 0, max=max_length),
                                                      check])


def _owner_field() -> fields.Raw:
    """"object_owner" (the contact's or company's owner), "none", or a member's user id."""

    def check(value: Any) -> None:
        if value in ("object_owner", "none") or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return
        raise ValidationError("Use object_owner, none or a member's user id.")

    return fields.Raw(load_default="object_owner", validate=check)


# -- schemas ----------------------------------------------------------------------------------

class CreateTaskParams(Schema):
    title = _template(required=True, max_length=300)
    task_type = fields.String(load_default="todo", validate=validate.OneOf(("call", "email", "todo", "follow_up")))
    due_in_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=3650))
    notes = _template()
    owner = _owner_field()


class UpdatePropertyParams(Schema):
    property = fields.String(required=True, validate=validate.Length(min=1, max=120))
    value = fields.Raw(required=True, allow_none=True)

    @validates("property")
    def _known(self, value: str, **_: Any) -> None:
        if value not in UPDATABLE_PROPERTIES and not value.startswith("custom."):
            raise ValidationError(f"Use one of {', '.join(UPDATABLE_PROPERTIES)} or custom.<key>.")


class TagParams(Schema):
    tag = fields.String(required=True, validate=validate.Length(min=1, max=60))


class NoteParams(Schema):
    subject = _template(max_length=300)
    body = _template(required=True)


class SendEmailParams(Schema):
    subject = _template(required=True, max_length=300)
    body = _template(required=True)
    #: Transactional mail (an order confirmation) goes out without marketing consent.
    transactional = fields.Boolean(load_default=False)


class NotifyParams(Schema):
    user = _owner_field()
    title = _template(required=True, max_length=200)
    body = _template()
    link = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    email = fields.Boolean(load_default=False)


class EnrollParams(Schema):
    workflow_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class WebhookParams(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=2000))


UPDATABLE_PROPERTIES = ("first_name", "last_name", "job_title", "lifecycle_stage", "lead_status", "source",
                        "owner_id", "name", "domain", "industry", "city", "country", "phone")
COMPANY_PROPERTIES = frozenset({"name", "domain", "industry", "city", "country", "phone", "owner_id"})
CONTACT_PROPERTIES = frozenset({"first_name", "last_name", "job_title", "lifecycle_stage", "lead_status", "source",
                                "owner_id"})


class ActionSkipped(Exception):
    """Raised inside an action to record it as skipped with a reason (no contact to act on …)."""


# -- helpers ----------------------------------------------------------------------------------

def _text(template: str | None, ctx: ActionContext) -> str:
    return render(template, ctx.merge).strip() if template else ""


def _contact_id(session: Session, ctx: ActionContext) -> int:
    contact_id = related_contact_id(session, ctx.object_type, ctx.object_id)
    if contact_id is None:
        raise ActionSkipped("There is no contact to act on.")
    return contact_id


def _owner(value: Any, ctx: ActionContext) -> int | None:
    if value == "none":
        return None
    if value == "object_owner":
        return (ctx.merge.get("contact") or ctx.merge.get("object") or {}).get("owner_id") or \
            (ctx.merge.get("object") or {}).get("owner_id")
    return int(value)


def _links(session: Session, ctx: ActionContext) -> list[tuple[str, int]]:
    if ctx.object_type in ("contact", "company"):
        return [(ctx.object_type, ctx.object_id)]
    contact_id = related_contact_id(session, ctx.object_type, ctx.object_id)
    return [("contact", contact_id)] if contact_id else []


# -- built-ins --------------------------------------------------------------------------------

def create_task(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.crm import create_task as crm_create_task

    due = ctx.now + timedelta(days=params["due_in_days"]) if params.get("due_in_days") is not None else None
    task = crm_create_task(session, title=_text(params["title"], ctx)[:300] or "…", type=params["task_type"],
                           due_at=due, owner_id=_owner(params["owner"], ctx),
                           notes=_text(params.get("notes"), ctx) or None, links=_links(session, ctx))
    return "done", {"task_id": task.id, "title": task.title, "due_at": due.isoformat() if due else None}


def preview_create_task(session: Session, ctx: ActionContext, params: dict) -> dict:
    due = ctx.now + timedelta(days=params["due_in_days"]) if params.get("due_in_days") is not None else None
    return {"title": _text(params["title"], ctx), "due_at": due.isoformat() if due else None,
            "owner_id": _owner(params["owner"], ctx)}


def update_property(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.crm import update_company, update_contact

    prop, value = params["property"], params["value"]
    custom = prop.startswith("custom.")
    if ctx.object_type == "company":
        if not custom and prop not in COMPANY_PROPERTIES:
            raise ActionSkipped(f"Companies have no property {prop}.")
        changes = {"custom": {prop[7:]: value}} if custom else {prop: value}
        update_company(session, ctx.object_id, **changes)
        return "done", {"property": prop, "value": value}
    contact_id = _contact_id(session, ctx)
    if not custom and prop not in CONTACT_PROPERTIES:
        raise ActionSkipped(f"Contacts have no property {prop}.")
    changes = {"custom": {prop[7:]: value}} if custom else {prop: value}
    update_contact(session, contact_id, **changes)
    return "done", {"property": prop, "value": value, "contact_id": contact_id}


def add_tag(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.crm import add_tags

    contact_id = _contact_id(session, ctx)
    add_tags(session, contact_id, [params["tag"]])
    return "done", {"tag": params["tag"], "contact_id": contact_id}


def remove_tag(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.crm import remove_tags

    contact_id = _contact_id(session, ctx)
    remove_tags(session, contact_id, [params["tag"]])
    return "done", {"tag": params["tag"], "contact_id": contact_id}


def create_note(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.crm import log_activity

    links = _links(session, ctx)
    if not links:
        raise ActionSkipped("There is no contact or company to note this on.")
    activity = log_activity(session, "note", links=links, occurred_at=ctx.now, source="workflow",
                            subject=_text(params.get("subject"), ctx)[:300] or None, body=_text(params["body"], ctx))
    return "done", {"activity_id": activity.id}


def _mail_check(session: Session, ctx: ActionContext, params: dict) -> tuple[dict, str | None]:
    """(the contact, why not to send — or None)."""
    contact = ctx.merge.get("contact") or {}
    if not contact:
        return contact, "There is no contact to e-mail."
    if not contact.get("email"):
        return contact, "The contact has no e-mail address."
    if not params.get("transactional") and contact.get("consent_status") != "granted":
        return contact, f"No marketing consent (consent is {contact.get('consent_status')})."
    return contact, None


def send_email(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.crm import log_activity
    from kundo.platform.db import db
    from kundo.platform.mail.service import send_mail

    contact, refusal = _mail_check(session, ctx, params)
    if refusal:
        return "skipped", {"reason": refusal}
    subject = " ".join(_text(params["subject"], ctx).split())[:300] or "…"
    body = _text(params["body"], ctx)
    mail = send_mail(contact["email"], subject, body)
    db.session.commit()  # the control-plane outbox row; the mail itself is gone already
    log_activity(session, "system", links=[("contact", contact["id"])], occurred_at=ctx.now, source="workflow",
                 subject=subject, body=body,
                 payload={"kind": "workflow_email", "to": contact["email"], "workflow_id": ctx.workflow_id})
    return "done", {"to": contact["email"], "subject": subject, "mail_id": mail.id}


def preview_send_email(session: Session, ctx: ActionContext, params: dict) -> dict:
    contact, refusal = _mail_check(session, ctx, params)
    detail = {"to": contact.get("email"), "subject": " ".join(_text(params["subject"], ctx).split()),
              "body": _text(params["body"], ctx)}
    if refusal:
        detail["skipped"] = refusal
    return detail


def notify_user(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.platform.notifications import notify

    user_id = _owner(params["user"], ctx)
    if user_id is None:
        raise ActionSkipped("Nobody to notify: the record has no owner.")
    notify(session, user_id=user_id, title=_text(params["title"], ctx) or "…",
           body=_text(params.get("body"), ctx), link=params.get("link") or _object_link(ctx),
           email=bool(params.get("email")))
    return "done", {"user_id": user_id}


def preview_notify_user(session: Session, ctx: ActionContext, params: dict) -> dict:
    return {"user_id": _owner(params["user"], ctx), "title": _text(params["title"], ctx)}


def _object_link(ctx: ActionContext) -> str | None:
    return {"contact": f"/contacts/{ctx.object_id}", "company": f"/companies/{ctx.object_id}"}.get(ctx.object_type)


def enroll_in_workflow(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.platform.workflows.engine import enroll
    from kundo.platform.workflows.models import Workflow

    target = session.get(Workflow, params["workflow_id"])
    if target is None:
        raise ActionSkipped(f"Workflow {params['workflow_id']} no longer exists.")
    if target.status != "active":
        raise ActionSkipped(f"Workflow {target.name} is not active.")
    enrollment = enroll(session, target, ctx.object_type, ctx.object_id, now=ctx.now, run_now=False)
    if enrollment is None:
        raise ActionSkipped("Already enrolled there (its enrollment rule refuses another).")
    return "done", {"workflow_id": target.id, "enrollment_id": enrollment.id}


def preview_enroll(session: Session, ctx: ActionContext, params: dict) -> dict:
    return {"workflow_id": params["workflow_id"]}


def call_webhook(session: Session, ctx: ActionContext, params: dict) -> Result:
    from kundo.platform.webhooks import send_workflow_webhook

    payload = {"workflow_id": ctx.workflow_id, "enrollment_id": ctx.enrollment_id, "object_type": ctx.object_type,
               "object_id": ctx.object_id, "object": ctx.merge.get("object"), "contact": ctx.merge.get("contact")}
    delivery = send_workflow_webhook(session, url=params["url"], payload=payload)
    return "done", {"url": params["url"], "delivery_id": getattr(delivery, "id", None)}


def preview_webhook(session: Session, ctx: ActionContext, params: dict) -> dict:
    return {"url": params["url"]}


BUILTIN_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("send_email", _l("Send an e-mail"), SendEmailParams, send_email, preview_send_email),
    ActionSpec("create_task", _l("Create a task"), CreateTaskParams, create_task, preview_create_task),
    ActionSpec("update_property", _l("Set a property"), UpdatePropertyParams, update_property,
               lambda s, c, p: {"property": p["property"], "value": p["value"]}),
    ActionSpec("add_tag", _l("Add a tag"), TagParams, add_tag, lambda s, c, p: {"tag": p["tag"]}),
    ActionSpec("remove_tag", _l("Remove a tag"), TagParams, remove_tag, lambda s, c, p: {"tag": p["tag"]}),
    ActionSpec("create_note", _l("Add a note to the timeline"), NoteParams, create_note,
               lambda s, c, p: {"subject": _text(p.get("subject"), c), "body": _text(p["body"], c)}),
    ActionSpec("notify_user", _l("Notify a member"), NotifyParams, notify_user, preview_notify_user),
    ActionSpec("enroll_in_workflow", _l("Enroll in another workflow"), EnrollParams, enroll_in_workflow,
               preview_enroll),
    ActionSpec("call_webhook", _l("Call a webhook"), WebhookParams, call_webhook, preview_webhook),
)


def _plugin_action(plugin_id: str, action) -> ActionSpec:
    def run(session: Session, ctx: ActionContext, params: dict) -> Result:
        detail = action.run(session, object_type=ctx.object_type, object_id=ctx.object_id, params=params,
                            context={"workflow_id": ctx.workflow_id, "enrollment_id": ctx.enrollment_id,
                                     "now": ctx.now, "merge": ctx.merge})
        return "done", detail if isinstance(detail, dict) else {}

    return ActionSpec(action.key, action.label, action.params_schema, run,
                      lambda s, c, p: {"plugin": plugin_id, "params": p}, plugin_id=plugin_id)


def actions_for(tenant_id: int | None) -> dict[str, ActionSpec]:
    """The actions a tenant may use: built-ins plus those of plugins it enabled (None: built-ins only)."""
    actions = {spec.key: spec for spec in BUILTIN_ACTIONS}
    if tenant_id is None:
        return actions
    from kundo.plugins import enabled_plugin_ids, plugin_workflow_contributions

    enabled = enabled_plugin_ids(tenant_id)
    for plugin_id, action in plugin_workflow_contributions()[1]:
        if plugin_id in enabled and action.key not in actions:
            actions[action.key] = _plugin_action(plugin_id, action)
    return actions
