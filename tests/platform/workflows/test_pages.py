"""Workflow pages: list, the form builder (add/remove rows, errors on the field), detail with
test-on-record, pause/resume, run history; members may look, not build."""

from __future__ import annotations

import re

import pytest

from kundo.crm import create_contact
from kundo.platform.db import db
from kundo.platform.workflows import service
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from tests.platform.workflows.conftest import ONBOARDING


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="Pages Workflows GmbH")


def in_tenant(app, ws):
    return tenant_session(db.session.get(Tenant, ws.tenant_id))


BUILDER_FORM = {
    "name": "Welcome new leads",
    "trigger.event": "contact.created",
    "trigger.conditions.match": "all",
    "trigger.conditions.rules.0.property": "lifecycle_stage",
    "trigger.conditions.rules.0.operator": "is_any_of",
    "trigger.conditions.rules.0.value": "lead, subscriber",
    "enrollment.mode": "once",
    "goal.match": "all",
    "steps.0.kind": "action",
    "steps.0.action": "add_tag",
    "steps.0.params.tag": "welcomed",
    "steps.1.kind": "delay",
    "steps.1.mode": "next_weekday",
    "steps.1.weekdays": ["0", "2"],
    "steps.1.time": "09:30",
    "steps.2.kind": "branch",
    "steps.2.conditions.match": "any",
    "steps.2.conditions.rules.0.property": "tags",
    "steps.2.conditions.rules.0.operator": "has",
    "steps.2.conditions.rules.0.value": "vip",
    "steps.2.then.0.kind": "action",
    "steps.2.then.0.action": "create_task",
    "steps.2.then.0.params.title": "Call {{ contact.first_name }} personally",
    "steps.2.then.0.params.task_type": "call",
    "steps.2.then.0.params.owner": "object_owner",
    "steps.2.else.0.kind": "action",
    "steps.2.else.0.action": "create_note",
    "steps.2.else.0.params.body": "Welcomed automatically.",
}


def test_the_builder_makes_a_workflow_from_plain_forms(app, ws, sign_in):
    host = sign_in(ws)
    listing = host.get("/workflows")
    assert listing.status_code == 200 and "No workflows yet" in listing.get_data(as_text=True)
    assert host.get("/workflows/new").status_code == 200

    # "Add step" re-renders the form with one more step and saves nothing.
    added = host.submit("/workflows/new", {**BUILDER_FORM, "op": "add:steps"})
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and 'name="steps.3.kind"' in html
    with app.app_context(), in_tenant(app, ws) as session:
        assert service.list_workflows(session) == []

    # An error lands on its field.
    broken = host.submit("/workflows/new", {**BUILDER_FORM, "steps.2.then.0.params.title": "{{ oops"})
    assert broken.status_code == 400
    assert 'data-error-for="steps.2.then.0.params.title"' in broken.get_data(as_text=True)

    saved = host.submit("/workflows/new", BUILDER_FORM)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    with app.app_context(), in_tenant(app, ws) as session:
        ((workflow, _stats),) = service.list_workflows(session)
        definition = workflow.definition
    assert definition["trigger"]["conditions"]["rules"] == [
        {"property": "lifecycle_stage", "operator": "is_any_of", "value": ["lead", "subscriber"]}]
    assert definition["steps"][1] == {"kind": "delay", "mode": "next_weekday", "weekdays": [0, 2], "time": "09:30"}
    assert definition["steps"][2]["then"][0]["params"]["title"] == "Call {{ contact.first_name }} personally"
    assert definition["goal"] is None
    detail = host.get(saved.headers["Location"])
    assert "Welcome new leads" in detail.get_data(as_text=True)

    edit = host.get(f"/workflows/{workflow.id}/edit").get_data(as_text=True)
    assert 'value="welcomed"' in edit and 'value="lead, subscriber"' in edit


def test_detail_test_on_record_pause_resume_and_history(app, ws, sign_in, run_jobs):
    with app.app_context(), in_tenant(app, ws) as session:
        workflow_id = service.create_workflow(session, name="Onboarding", definition=ONBOARDING, status="active").id
    host = sign_in(ws)
    with app.app_context(), in_tenant(app, ws) as session:
        contact_id = create_contact(session, first_name="Mia", emails=["mia@example.org"], lifecycle_stage="customer",
                                    consent={"status": "granted", "source": "form"}).id
    run_jobs()

    page = host.get(f"/workflows/{workflow_id}").get_data(as_text=True)
    assert "enrollments-table" in page and "Waiting" in page
    tested = host.submit(f"/workflows/{workflow_id}/test", {"object_type": "contact", "object_id": str(contact_id)},
                         page=f"/workflows/{workflow_id}")
    html = tested.get_data(as_text=True)
    assert tested.status_code == 200 and "Welcome aboard, Mia!" in html and "Would wait" in html
    missing = host.submit(f"/workflows/{workflow_id}/test", {"object_type": "contact", "object_id": "99999999"},
                          page=f"/workflows/{workflow_id}")
    assert missing.status_code == 400

    paused = host.submit(f"/workflows/{workflow_id}/status", {"status": "paused"}, page=f"/workflows/{workflow_id}")
    assert paused.status_code == 302
    with app.app_context(), in_tenant(app, ws) as session:
        assert service.get_workflow(session, workflow_id).status == "paused"
    host.submit(f"/workflows/{workflow_id}/status", {"status": "active"}, page=f"/workflows/{workflow_id}")

    enrollment_link = re.search(rf'/workflows/{workflow_id}/enrollments/(\d+)', page).group(0)
    history = host.get(enrollment_link).get_data(as_text=True)
    assert "Run history" in history and "Welcome aboard, Mia!" in history


def test_members_see_workflows_but_cannot_build(app, ws, sign_in, add_member):
    with app.app_context(), in_tenant(app, ws) as session:
        workflow_id = service.create_workflow(session, name="Onboarding", definition=ONBOARDING).id
    _user_id, email = add_member(ws, "member")
    host = sign_in(ws, email)
    listing = host.get("/workflows").get_data(as_text=True)
    assert "Onboarding" in listing and "New workflow" not in listing
    assert host.get(f"/workflows/{workflow_id}").status_code == 200
    assert host.get("/workflows/new").status_code == 403
    assert host.get(f"/workflows/{workflow_id}/edit").status_code == 403


def test_pages_in_german(app, ws, sign_in):
    with app.app_context(), in_tenant(app, ws) as session:
        workflow_id = service.create_workflow(session, name="Onboarding", definition=ONBOARDING).id
    host = sign_in(ws)
    host.submit("/locale", {"locale": "de", "next": "/workflows"}, page="/workflows")
    listing = host.get("/workflows").get_data(as_text=True)
    assert "Neuer Workflow" in listing and "Entwurf" in listing
    detail = host.get(f"/workflows/{workflow_id}").get_data(as_text=True)
    assert "An einem Datensatz testen" in detail and "3 Tage warten" in detail
    builder = host.get(f"/workflows/{workflow_id}/edit").get_data(as_text=True)
    assert "Workflow speichern" in builder and "E-Mail senden" in builder
