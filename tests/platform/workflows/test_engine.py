"""The engine's rules: tenant isolation, failures contained to their enrollment, goals,
consent, branches, pause holding enrollments and resume releasing them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kundo.crm import Contact, create_contact, set_lifecycle_stage
from kundo.crm.properties.service import create_definition
from kundo.platform.clock import now as clock_now
from kundo.platform.workflows import service
from kundo.platform.workflows.models import WorkflowEnrollment, WorkflowRun
from kundo.testing.jobs import move_clock
from tests.platform.workflows.conftest import mails_to


def tag_on_create(tag: str, steps=None, goal=None) -> dict:
    return {"trigger": {"event": "contact.created", "conditions": None}, "enrollment": {"mode": "once"},
            "goal": goal, "steps": steps or [{"kind": "action", "action": "add_tag", "params": {"tag": tag}}]}


def enrollments(tenant):
    with tenant.session() as session:
        return [(e.workflow_id, e.object_id, e.status, e.last_error) for e in
                session.scalars(select(WorkflowEnrollment).order_by(WorkflowEnrollment.id))]


def test_a_tenants_workflows_never_see_another_tenants_events(make_workspace, tenant_of, deliver):
    mine, theirs = tenant_of(make_workspace()), tenant_of(make_workspace())
    with mine.session() as session:
        workflow_id = service.create_workflow(session, name="Tag", definition=tag_on_create("mine"),
                                              status="active").id
    with theirs.session() as session:
        other = create_contact(session, first_name="Theo", emails=["theo@theirs.example"])
        other_id = other.id
    with mine.session() as session:
        own_id = create_contact(session, first_name="Mona", emails=["mona@mine.example"]).id
    deliver()
    assert [(w, o, s) for w, o, s, _e in enrollments(mine)] == [(workflow_id, own_id, "completed")]
    assert enrollments(theirs) == []
    with theirs.session() as session:
        assert session.get(Contact, other_id).tags == []
    with mine.session() as session:
        assert session.get(Contact, own_id).tags == ["mine"]


def test_a_failing_action_fails_its_enrollment_only(make_workspace, tenant_of, deliver):
    tenant = tenant_of(make_workspace())
    with tenant.session() as session:
        broken = service.create_workflow(session, name="Broken", status="active", definition=tag_on_create("x", steps=[
            {"kind": "action", "action": "update_property", "params": {"property": "custom.no_such", "value": 1}},
            {"kind": "action", "action": "add_tag", "params": {"tag": "never"}}])).id
        steady = service.create_workflow(session, name="Steady", definition=tag_on_create("steady"),
                                         status="active").id
        contact_id = create_contact(session, first_name="Fay", emails=["fay@example.org"]).id
    deliver()
    rows = {w: (s, e) for w, _o, s, e in enrollments(tenant)}
    assert rows[steady] == ("completed", None)
    assert rows[broken][0] == "failed" and "no_such" in rows[broken][1]
    with tenant.session() as session:
        assert session.get(Contact, contact_id).tags == ["steady"]
        failed = session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == broken,
                                                           WorkflowRun.result == "failed")).one()
        assert (failed.step_path, failed.action) == ("0", "update_property") and "no_such" in failed.error


def test_goal_consent_and_branches(make_workspace, tenant_of, deliver):
    tenant = tenant_of(make_workspace())
    definition = {
        "trigger": {"event": "contact.created", "conditions": None}, "enrollment": {"mode": "once"},
        "goal": {"match": "all", "rules": [{"property": "lifecycle_stage", "operator": "is_any_of",
                                            "value": ["customer"]}]},
        "steps": [
            {"kind": "action", "action": "send_email",
             "params": {"subject": "News", "body": "Hi {{ contact.first_name }}"}},
            {"kind": "branch", "conditions": {"match": "all", "rules": [
                {"property": "custom.budget", "operator": "gt", "value": 1000}]},
             "then": [{"kind": "action", "action": "add_tag", "params": {"tag": "big"}}],
             "else": [{"kind": "action", "action": "add_tag", "params": {"tag": "small"}}]},
            {"kind": "delay", "mode": "duration", "amount": 2, "unit": "days"},
            {"kind": "action", "action": "add_tag", "params": {"tag": "nurtured"}},
        ],
    }
    with tenant.session() as session:
        service.create_workflow(session, name="Nurture", definition=definition, status="active")
        create_definition(session, "contact", key="budget", label="Budget", type="number")
        no_consent = create_contact(session, first_name="Nora", emails=["nora@example.org"], custom={"budget": 5000}).id
        consented = create_contact(session, first_name="Carl", emails=["carl@example.org"], custom={"budget": 10},
                                   consent={"status": "granted", "source": "form"}).id
    deliver()
    assert mails_to(tenant.app, "nora@example.org") == []
    assert mails_to(tenant.app, "carl@example.org") == ["News"]
    with tenant.session() as session:
        assert session.get(Contact, no_consent).tags == ["big"]
        assert session.get(Contact, consented).tags == ["small"]
        skipped = session.scalars(select(WorkflowRun).where(WorkflowRun.result == "skipped")).one()
        assert "consent" in skipped.detail["reason"]
        set_lifecycle_stage(session, consented, "customer")  # reaches the goal while waiting
    move_clock(tenant.app, timedelta(days=2, minutes=1))
    deliver()
    with tenant.session() as session:
        assert session.get(Contact, no_consent).tags == ["big", "nurtured"]
        assert session.get(Contact, consented).tags == ["small"]
    statuses = {o: s for _w, o, s, _e in enrollments(tenant)}
    assert statuses == {no_consent: "completed", consented: "goal_reached"}


def test_pause_holds_waiting_enrollments_and_resume_releases_them(make_workspace, tenant_of, deliver):
    tenant = tenant_of(make_workspace())
    steps = [{"kind": "delay", "mode": "duration", "amount": 1, "unit": "hours"},
             {"kind": "action", "action": "add_tag", "params": {"tag": "later"}}]
    with tenant.session() as session:
        workflow_id = service.create_workflow(session, name="Later", definition=tag_on_create("x", steps=steps),
                                              status="active").id
        first = create_contact(session, first_name="Pia", emails=["pia@example.org"]).id
    deliver()
    with tenant.session() as session:
        service.set_status(session, service.get_workflow(session, workflow_id), "paused", clock_now())
        second = create_contact(session, first_name="Pete", emails=["pete@example.org"]).id
    move_clock(tenant.app, timedelta(hours=1, minutes=1))
    deliver()
    assert {o: s for _w, o, s, _e in enrollments(tenant)} == {first: "held"}  # Pete arrived while paused
    with tenant.session() as session:
        assert session.get(Contact, first).tags == []
        service.set_status(session, service.get_workflow(session, workflow_id), "active", clock_now())
    deliver()
    with tenant.session() as session:
        assert session.get(Contact, first).tags == ["later"]
        assert session.get(Contact, second).tags == []
    assert {o: s for _w, o, s, _e in enrollments(tenant)} == {first: "completed"}


def test_notify_the_records_owner(make_workspace, tenant_of, deliver):
    from kundo.platform.notifications.models import Notification

    workspace = make_workspace()
    tenant = tenant_of(workspace)
    steps = [{"kind": "action", "action": "notify_user",
              "params": {"user": "object_owner", "title": "New lead: {{ contact.first_name }}"}}]
    with tenant.session() as session:
        service.create_workflow(session, name="Tell owner", definition=tag_on_create("x", steps=steps), status="active")
        create_contact(session, first_name="Olga", emails=["olga@example.org"], owner_id=workspace.owner_id)
    deliver()
    with tenant.session() as session:
        notes = session.scalars(select(Notification).where(Notification.user_id == workspace.owner_id)).all()
        assert [note.title for note in notes] == ["New lead: Olga"]
        assert notes[0].link and notes[0].link.startswith("/contacts/")


def test_call_a_webhook_goes_through_the_webhook_guard(make_workspace, tenant_of, deliver):
    tenant = tenant_of(make_workspace())
    steps = [{"kind": "action", "action": "call_webhook", "params": {"url": "http://127.0.0.1:9/hook"}}]
    with tenant.session() as session:
        service.create_workflow(session, name="Hook", definition=tag_on_create("x", steps=steps), status="active")
        create_contact(session, first_name="Hugo", emails=["hugo@example.org"])
    deliver()
    ((_workflow, _object, status, error),) = enrollments(tenant)
    assert status == "failed" and error  # loopback is refused by the webhooks module, recorded in the history



def test_a_workflow_that_triggers_itself_stops_after_a_few_rounds(make_workspace, tenant_of, deliver):
    """A note on every new timeline entry makes a new entry: the chain is cut, nothing spins for ever."""
    from kundo.crm.timeline.models import Activity
    from kundo.platform.workflows.engine import MAX_CAUSE_DEPTH

    tenant = tenant_of(make_workspace())
    definition = {"trigger": {"event": "activity.logged", "conditions": None}, "enrollment": {"mode": "once"},
                  "goal": None, "steps": [{"kind": "action", "action": "create_note",
                                           "params": {"body": "Noted again"}}]}
    with tenant.session() as session:
        service.create_workflow(session, name="Echo", definition=definition, status="active")
        contact = create_contact(session, first_name="Eli", emails=["eli@example.org"])
        from kundo.crm import log_activity

        log_activity(session, "note", links=[("contact", contact.id)], body="The first note")
    for _ in range(MAX_CAUSE_DEPTH + 3):
        deliver()
    with tenant.session() as session:
        notes = session.scalars(select(Activity.body).where(Activity.type == "note")).all()
    assert notes.count("Noted again") == MAX_CAUSE_DEPTH
    assert len(enrollments(tenant)) == MAX_CAUSE_DEPTH
