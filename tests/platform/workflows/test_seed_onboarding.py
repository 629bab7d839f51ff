"""The seed's workflow: a contact becomes a customer → welcome e-mail now, check-in task
after 3 days, satisfaction survey after 14 days — through the real broker and timers, with
the clock moved forward, every step asserted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kundo.crm import create_contact, create_task, set_lifecycle_stage
from kundo.crm.tasks.models import Task
from kundo.platform.clock import now as clock_now
from kundo.platform.workflows import service
from kundo.platform.workflows.models import WorkflowEnrollment, WorkflowRun
from kundo.testing.jobs import move_clock
from tests.platform.workflows.conftest import ONBOARDING, mails_to


def history(tenant, enrollment_id):
    with tenant.session() as session:
        return [(run.step_path, run.action or run.step_kind, run.result) for run in session.scalars(
            select(WorkflowRun).where(WorkflowRun.enrollment_id == enrollment_id).order_by(WorkflowRun.id))]


def test_onboarding_sequence_runs_every_step_at_its_time(wf_app, make_workspace, tenant_of, deliver):
    workspace = make_workspace(name="Onboarding GmbH")
    tenant = tenant_of(workspace)
    with tenant.session() as session:
        workflow = service.create_workflow(session, name="Customer onboarding", definition=ONBOARDING,
                                           status="active")
        workflow_id = workflow.id
        contact = create_contact(session, first_name="Ada", last_name="Lovelace", emails=["ada@onboarding.example"],
                                 lifecycle_stage="lead",
                                 consent={"status": "granted", "source": "newsletter form"})
        contact_id = contact.id
        # A task already on the books, to tell the workflow's task apart.
        create_task(session, title="Send the contract", links=[("contact", contact_id)])
    deliver()
    with tenant.session() as session:
        assert session.scalars(select(WorkflowEnrollment)).all() == []  # a lead is not a customer

    with tenant.session() as session:
        set_lifecycle_stage(session, contact_id, "customer")
    deliver()
    assert mails_to(wf_app, "ada@onboarding.example") == ["Welcome aboard, Ada!"]
    with tenant.session() as session:
        enrollment = session.scalar(select(WorkflowEnrollment).where(WorkflowEnrollment.workflow_id == workflow_id))
        assert (enrollment.object_type, enrollment.object_id, enrollment.status) == ("contact", contact_id, "waiting")
        enrollment_id = enrollment.id
    assert history(tenant, enrollment_id) == [("", "enrollment", "enrolled"), ("0", "send_email", "done"),
                                             ("1", "delay", "waiting")]

    # Two days later: still waiting, no check-in task yet.
    with wf_app.app_context():
        move_clock(wf_app, timedelta(days=2))
    deliver()
    with tenant.session() as session:
        assert session.scalars(select(Task.title).where(Task.title.startswith("Check in"))).all() == []

    # Day 3: the check-in call is on the list, due the next day, linked to Ada.
    move_clock(wf_app, timedelta(days=1, minutes=1))
    deliver()
    with wf_app.app_context(), tenant.session() as session:
        task = session.scalar(select(Task).where(Task.title == "Check in with Ada Lovelace"))
        assert task is not None and task.type == "call"
        assert [(link.object_type, link.object_id) for link in task.links] == [("contact", contact_id)]
        assert abs(task.due_at - (clock_now() + timedelta(days=1))) < timedelta(minutes=5)
    assert history(tenant, enrollment_id)[-2:] == [("2", "create_task", "done"), ("3", "delay", "waiting")]
    assert mails_to(wf_app, "ada@onboarding.example") == ["Welcome aboard, Ada!"]

    # Day 13: no survey yet; day 14: the survey goes out and the enrollment is complete.
    move_clock(wf_app, timedelta(days=10))
    deliver()
    assert mails_to(wf_app, "ada@onboarding.example") == ["Welcome aboard, Ada!"]
    move_clock(wf_app, timedelta(days=1, minutes=1))
    deliver()
    assert mails_to(wf_app, "ada@onboarding.example") == ["Welcome aboard, Ada!", "How are we doing, Ada?"]
    assert history(tenant, enrollment_id)[-2:] == [("4", "send_email", "done"), ("", "enrollment", "completed")]
    with tenant.session() as session:
        assert session.get(WorkflowEnrollment, enrollment_id).status == "completed"

    # Once per contact: becoming a customer again later enrolls nobody again.
    with tenant.session() as session:
        set_lifecycle_stage(session, contact_id, "evangelist")
    with tenant.session() as session:
        set_lifecycle_stage(session, contact_id, "customer")
    deliver()
    with tenant.session() as session:
        assert len(session.scalars(select(WorkflowEnrollment)).all()) == 1
    assert len(mails_to(wf_app, "ada@onboarding.example")) == 2
