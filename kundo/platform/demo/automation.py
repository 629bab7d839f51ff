"""The demo's workflows and the notifications waiting for the demo owner.

The onboarding workflow is active, so contacts that become customers in the demo (the
won deals) are enrolled by the worker and the welcome e-mails appear in the local mail
outbox; the lead nurturing workflow is paused, to show a workflow that is kept but not
running. Texts are written in the workspace's language (the caller forces its locale).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

ONBOARDING_NAME = _l("Customer onboarding")
ONBOARDING_DESCRIPTION = _l("When a contact becomes a customer: welcome e-mail, check-in task after 3 days, "
                            "survey e-mail after 14 days.")
WELCOME_SUBJECT = _l("Welcome aboard, {{ contact.first_name }}!")
WELCOME_BODY = _l("Hello {{ contact.first_name }},\n\nthank you for your trust. Over the next days we will help "
                  "you get started; reply to this e-mail whenever you have a question.")
CHECK_IN_TITLE = _l("Check in with {{ contact.first_name }} {{ contact.last_name }}")
SURVEY_SUBJECT = _l("How are we doing, {{ contact.first_name }}?")
SURVEY_BODY = _l("Two weeks in: tell us in one minute how satisfied you are so far.")

NURTURING_NAME = _l("Lead nurturing")
NURTURING_DESCRIPTION = _l("New leads get the tag “nurture”; a week later their owner is reminded to follow up.")
NURTURING_TASK = _l("Follow up with the new lead {{ contact.first_name }} {{ contact.last_name }}")

#: (kind, title msgid, body msgid, link, needs the Sales Hub)
NOTIFICATIONS = (
    ("info", _l("Welcome to the Kundo demo"),
     _l("Everything here is sample data: move deals on the board, open the forecast, look at the workflows."),
     "/workflows", False),
    ("success", _l("Deal won: Elbtal Energie – premium support"),
     _l("Stefan Schröder signed the contract. The onboarding workflow has started for him."),
     "/apps/sales/board", True),
    ("reminder", _l("Task due today: call Lena Hoffmann"),
     _l("Call back about the rollout timeline."), "/tasks", False),
)


def onboarding_definition() -> dict:
    return {
        "trigger": {"event": "lifecycle_stage.changed",
                    "conditions": {"match": "all", "rules": [
                        {"property": "event.to", "operator": "is_any_of", "value": ["customer"]}]}},
        "enrollment": {"mode": "once"},
        "goal": None,
        "steps": [
            {"kind": "action", "action": "send_email",
             "params": {"subject": str(WELCOME_SUBJECT), "body": str(WELCOME_BODY)}},
            {"kind": "delay", "mode": "duration", "amount": 3, "unit": "days"},
            {"kind": "action", "action": "create_task",
             "params": {"title": str(CHECK_IN_TITLE), "task_type": "call", "due_in_days": 1}},
            {"kind": "delay", "mode": "duration", "amount": 11, "unit": "days"},
            {"kind": "action", "action": "send_email",
             "params": {"subject": str(SURVEY_SUBJECT), "body": str(SURVEY_BODY)}},
        ],
    }


def nurturing_definition() -> dict:
    return {
        "trigger": {"event": "contact.created",
                    "conditions": {"match": "all", "rules": [
                        {"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead"]}]}},
        "enrollment": {"mode": "once"},
        "goal": None,
        "steps": [
            {"kind": "action", "action": "add_tag", "params": {"tag": "nurture"}},
            {"kind": "delay", "mode": "duration", "amount": 7, "unit": "days"},
            {"kind": "action", "action": "create_task",
             "params": {"title": str(NURTURING_TASK), "task_type": "follow_up", "due_in_days": 2}},
        ],
    }


def seed_workflows(session, owner_id: int) -> int:
    """The active onboarding and the paused nurturing workflow — only when the workspace has no workflows."""
    from kundo.platform.clock import now
    from kundo.platform.workflows.models import Workflow
    from kundo.platform.workflows.service import create_workflow, set_status

    if session.scalar(select(func.count()).select_from(Workflow)):
        return 0
    create_workflow(session, name=str(ONBOARDING_NAME), description=str(ONBOARDING_DESCRIPTION),
                    definition=onboarding_definition(), status="active", created_by=owner_id)
    nurturing = create_workflow(session, name=str(NURTURING_NAME), description=str(NURTURING_DESCRIPTION),
                                definition=nurturing_definition(), status="active", created_by=owner_id)
    set_status(session, nurturing, "paused", now())
    return 2


def seed_notifications(session, owner_id: int, *, sales: bool) -> int:
    """A few notifications for the owner — only when they have none in this workspace.

    :param sales: whether the Sales Hub's data is there (a won deal to talk about).
    """
    from kundo.platform.notifications.models import Notification
    from kundo.platform.notifications.service import notify

    if session.scalar(select(Notification.id).where(Notification.user_id == owner_id).limit(1)) is not None:
        return 0
    chosen = [entry for entry in NOTIFICATIONS if sales or not entry[4]]
    for kind, title, body, link, _needs_sales in reversed(chosen):  # the welcome comes out on top
        notify(session, user_id=owner_id, title=str(title), body=str(body), link=link, kind=kind)
    return len(chosen)
