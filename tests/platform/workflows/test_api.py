"""The workflows API: CRUD, refusals that name the field, pause/resume, dry run, enrollments."""

from __future__ import annotations

import copy

import pytest

from kundo.crm import create_contact
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.web import HostClient
from tests.platform.workflows.conftest import ONBOARDING


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="API Workflows AG")


@pytest.fixture
def host(client, ws):
    return HostClient(client, ws.host)


@pytest.fixture
def token(ws, api_token):
    return api_token(ws)


def contact_in(app, ws, **values) -> int:
    with app.app_context(), tenant_session(db.session.get(Tenant, ws.tenant_id)) as session:
        return create_contact(session, **values).id


def test_create_read_update_delete(host, token):
    created = host.api("POST", "/api/v1/workflows", token, json={"name": "Onboarding", "definition": ONBOARDING})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["status"], body["trigger_event"], body["stats"]["enrolled"]) == ("draft", "lifecycle_stage.changed", 0)
    workflow_id = body["id"]
    assert [item["id"] for item in host.api("GET", "/api/v1/workflows", token).get_json()["items"]] == [workflow_id]

    patched = host.api("PATCH", f"/api/v1/workflows/{workflow_id}", token, json={"name": "Customer onboarding"})
    assert patched.get_json()["name"] == "Customer onboarding"
    assert host.api("POST", f"/api/v1/workflows/{workflow_id}/resume", token).get_json()["status"] == "active"
    assert host.api("POST", f"/api/v1/workflows/{workflow_id}/pause", token).get_json()["status"] == "paused"
    assert host.api("DELETE", f"/api/v1/workflows/{workflow_id}", token).status_code == 204
    assert host.api("GET", f"/api/v1/workflows/{workflow_id}", token).status_code == 404


def test_an_invalid_definition_is_refused_naming_the_field(host, token):
    definition = copy.deepcopy(ONBOARDING)
    definition["steps"][0]["params"]["subject"] = "Hello {{ contact.first_name"
    definition["steps"][1]["unit"] = "fortnights"
    definition["trigger"]["conditions"]["rules"][0]["operator"] = "resembles"
    definition["steps"].append({"kind": "action", "action": "launch_rocket", "params": {}})
    response = host.api("POST", "/api/v1/workflows", token, json={"name": "Broken", "definition": definition})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert set(errors) == {"definition.steps.0.params.subject", "definition.steps.1.unit",
                           "definition.trigger.conditions.rules.0.operator", "definition.steps.5.action"}
    assert "line 1" in errors["definition.steps.0.params.subject"][0]

    no_trigger = host.api("POST", "/api/v1/workflows", token,
                          json={"name": "x", "definition": {"trigger": {"event": "moon.landed"}, "steps": []}})
    assert set(no_trigger.get_json()["errors"]) == {"definition.trigger.event", "definition.steps"}


def test_members_may_look_but_not_build(host, ws, api_token, add_member):
    member_id, _email = add_member(ws, "member")
    member_token = api_token(ws, user_id=member_id)
    assert host.api("GET", "/api/v1/workflows", member_token).status_code == 200
    refused = host.api("POST", "/api/v1/workflows", member_token, json={"name": "x", "definition": ONBOARDING})
    assert refused.status_code == 403


def test_dry_run_reports_what_would_happen_and_changes_nothing(app, host, ws, token):
    workflow_id = host.api("POST", "/api/v1/workflows", token,
                           json={"name": "Onboarding", "definition": ONBOARDING}).get_json()["id"]
    contact_id = contact_in(app, ws, first_name="Grace", emails=["grace@example.org"], lifecycle_stage="customer")
    report = host.api("POST", f"/api/v1/workflows/{workflow_id}/dry-run", token,
                      json={"object_type": "contact", "object_id": contact_id})
    assert report.status_code == 200, report.get_json()
    steps = report.get_json()["steps"]
    assert [(s["path"], s["result"]) for s in steps] == [
        ("0", "would_skip"), ("1", "would_wait"), ("2", "would_run"), ("3", "would_wait"), ("4", "would_skip")]
    assert steps[0]["detail"]["subject"] == "Welcome aboard, Grace!"
    assert "consent" in steps[0]["detail"]["skipped"]
    assert steps[2]["detail"]["title"] == "Check in with Grace"
    # Nothing was enrolled, no task made.
    enrollments = host.api("GET", f"/api/v1/workflows/{workflow_id}/enrollments", token).get_json()
    assert enrollments == {"items": [], "next_cursor": None}
    assert host.api("GET", f"/api/v1/tasks?object=contact:{contact_id}", token).get_json()["items"] == []
    missing = host.api("POST", f"/api/v1/workflows/{workflow_id}/dry-run", token,
                       json={"object_type": "contact", "object_id": 999999})
    assert missing.status_code == 404


def test_enrollments_and_their_history(app, host, ws, token, run_jobs):
    definition = copy.deepcopy(ONBOARDING)
    definition["steps"][0]["params"]["transactional"] = True
    workflow_id = host.api("POST", "/api/v1/workflows", token,
                           json={"name": "Onboarding", "definition": definition, "status": "active"}).get_json()["id"]
    contact_in(app, ws, first_name="Linus", emails=["linus@example.org"], lifecycle_stage="customer")
    run_jobs()
    page = host.api("GET", f"/api/v1/workflows/{workflow_id}/enrollments", token).get_json()
    assert [item["status"] for item in page["items"]] == ["waiting"]
    enrollment = host.api("GET", f"/api/v1/workflows/{workflow_id}/enrollments/{page['items'][0]['id']}",
                          token).get_json()
    assert [(run["step_path"], run["result"]) for run in enrollment["history"]] == [
        ("", "enrolled"), ("0", "done"), ("1", "waiting")]
    assert enrollment["history"][1]["detail"]["to"] == "linus@example.org"
    retry = host.api("POST", f"/api/v1/workflows/{workflow_id}/enrollments/{page['items'][0]['id']}/retry", token)
    assert retry.status_code == 409
