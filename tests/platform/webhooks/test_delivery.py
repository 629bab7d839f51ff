"""Outgoing webhooks end to end: a real receiver on loopback, signatures, retries, the log, isolation."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from kundo.crm import create_contact
from kundo.platform.jobs.models import Timer
from kundo.platform.webhooks import send_workflow_webhook
from kundo.platform.webhooks.delivery import MAX_ATTEMPTS
from kundo.platform.webhooks.models import WebhookDelivery, WebhookSubscription
from kundo.platform.webhooks.service import SECRET_PURPOSE, workflow_signing_secret
from kundo.platform.webhooks.signing import verify_signature
from kundo.tenants.session import TenantScope, tenant_session
from kundo.testing.jobs import move_clock, run_jobs
from kundo.testing.web import HostClient


def scope(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


def subscribe(app, workspace, token, url, event_types=("contact.created",)) -> dict:
    host = HostClient(app.test_client(), workspace.host)
    response = host.api("POST", "/api/v1/webhooks", token, json={"url": url, "event_types": list(event_types)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_contact(app, workspace, email="ada@example.org") -> int:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        return create_contact(session, first_name="Ada", emails=[email]).id


def deliveries(app, workspace) -> list[WebhookDelivery]:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_event_is_posted_signed_and_logged(hooks_app, make_workspace, api_token, receiver):
    workspace = make_workspace()
    token = api_token(workspace)
    created = subscribe(hooks_app, workspace, token, receiver.url())
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["event_types"] == ["contact.created"]

    contact_id = add_contact(hooks_app, workspace)
    run_jobs(hooks_app)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hook" and request.headers["Content-Type"] == "application/json"
    assert verify_signature(secret, request.headers["Kundo-Signature"], request.body)
    assert not verify_signature(secret, request.headers["Kundo-Signature"], request.body + b" ")
    assert not verify_signature("whsec_wrong", request.headers["Kundo-Signature"], request.body)
    body = json.loads(request.body)
    assert body["type"] == "contact.created" and body["object"] == {"type": "contact", "id": contact_id}
    assert body["workspace"] == workspace.slug
    assert request.headers["Kundo-Event-Id"] == body["id"] and request.headers["Kundo-Event-Type"] == "contact.created"

    host = HostClient(hooks_app.test_client(), workspace.host)
    log = host.api("GET", f"/api/v1/webhooks/{created['id']}/deliveries", token).get_json()["items"]
    assert [(d["status"], d["response_code"], d["attempts"], d["event_id"]) for d in log] == [
        ("succeeded", 200, 1, body["id"])]
    assert log[0]["duration_ms"] is not None and log[0]["last_error"] is None

    # The secret is stored encrypted and never listed again.
    with hooks_app.app_context(), tenant_session(scope(workspace)) as session:
        stored = session.scalar(select(WebhookSubscription.secret_encrypted))
    assert secret not in stored
    from kundo.platform.crypto import decrypt_secret

    with hooks_app.app_context():
        assert decrypt_secret(stored, purpose=SECRET_PURPOSE) == secret
    listed = host.api("GET", "/api/v1/webhooks", token).get_json()
    assert [item["id"] for item in listed] == [created["id"]] and "secret" not in listed[0]


def test_a_500_is_retried_with_backoff_and_the_same_event_id(hooks_app, make_workspace, api_token, receiver):
    workspace = make_workspace()
    subscribe(hooks_app, workspace, api_token(workspace), receiver.url())
    receiver.statuses = [500]
    add_contact(hooks_app, workspace)
    run_jobs(hooks_app)
    [delivery] = deliveries(hooks_app, workspace)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
    assert "receiver broke" in delivery.last_error
    run_jobs(hooks_app)
    assert len(receiver.requests) == 1  # the retry waits for its time

    move_clock(hooks_app, timedelta(seconds=31))
    run_jobs(hooks_app)
    [delivery] = deliveries(hooks_app, workspace)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["Kundo-Event-Id"] == receiver.requests[1].headers["Kundo-Event-Id"]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_a_receiver_that_keeps_failing_ends_as_failed(hooks_app, make_workspace, api_token, receiver):
    workspace = make_workspace()
    subscribe(hooks_app, workspace, api_token(workspace), receiver.url())
    receiver.statuses = [503] * 20
    add_contact(hooks_app, workspace)
    for _ in range(MAX_ATTEMPTS + 2):
        run_jobs(hooks_app)
        move_clock(hooks_app, timedelta(hours=7))
    [delivery] = deliveries(hooks_app, workspace)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", MAX_ATTEMPTS, 503)
    assert len(receiver.requests) == MAX_ATTEMPTS
    with hooks_app.app_context(), tenant_session(scope(workspace)) as session:
        assert session.scalar(select(Timer.id).where(Timer.handler == "webhooks.deliver",
                                                      Timer.fired_at.is_(None))) is None


def test_an_address_that_turned_private_is_refused_at_delivery(hooks_app, make_workspace, api_token, receiver):
    workspace = make_workspace()
    subscribe(hooks_app, workspace, api_token(workspace), receiver.url())
    hooks_app.config["KUNDO"].webhook_allow_private = False  # the operator withdrew the permission
    add_contact(hooks_app, workspace)
    run_jobs(hooks_app)
    assert receiver.requests == []
    [delivery] = deliveries(hooks_app, workspace)
    assert delivery.status == "retrying" and "127.0.0.1" in delivery.last_error and delivery.response_code is None


def test_paused_subscriptions_and_other_event_types_get_nothing(hooks_app, make_workspace, api_token, receiver):
    workspace = make_workspace()
    token = api_token(workspace)
    host = HostClient(hooks_app.test_client(), workspace.host)
    paused = subscribe(hooks_app, workspace, token, receiver.url("/paused"))
    assert host.api("PATCH", f"/api/v1/webhooks/{paused['id']}", token, json={"paused": True}).get_json()["paused"]
    subscribe(hooks_app, workspace, token, receiver.url("/tasks-only"), event_types=["task.created"])
    everything = subscribe(hooks_app, workspace, token, receiver.url("/all"), event_types=["*"])
    assert everything["event_types"] == ["*"]
    add_contact(hooks_app, workspace)
    run_jobs(hooks_app)
    assert sorted({r.path for r in receiver.requests}) == ["/all"]


def test_a_tenants_subscription_never_sees_another_tenants_events(hooks_app, make_workspace, api_token, receiver):
    mine, theirs = make_workspace(), make_workspace()
    created = subscribe(hooks_app, mine, api_token(mine), receiver.url())
    add_contact(hooks_app, theirs, "eve@theirs.example")
    run_jobs(hooks_app)
    assert receiver.requests == []
    host = HostClient(hooks_app.test_client(), theirs.host)
    other_token = api_token(theirs)
    assert host.api("GET", "/api/v1/webhooks", other_token).get_json() == []
    assert host.api("GET", f"/api/v1/webhooks/{created['id']}", other_token).status_code == 404
    assert host.api("DELETE", f"/api/v1/webhooks/{created['id']}", other_token).status_code == 404


def test_a_workflow_webhook_is_signed_with_the_workspace_secret(hooks_app, make_workspace, receiver):
    workspace = make_workspace()
    with hooks_app.app_context(), tenant_session(scope(workspace)) as session:
        send_workflow_webhook(session, url=receiver.url("/workflow"), payload={"contact_id": 7, "step": "welcome"})
    run_jobs(hooks_app)
    [request] = receiver.requests
    with hooks_app.app_context():
        secret = workflow_signing_secret(workspace.tenant_id)
    assert verify_signature(secret, request.headers["Kundo-Signature"], request.body)
    body = json.loads(request.body)
    assert body["type"] == "workflow.webhook" and body["data"] == {"contact_id": 7, "step": "welcome"}
    [delivery] = deliveries(hooks_app, workspace)
    assert delivery.subscription_id is None and delivery.status == "succeeded"


def test_send_test_and_delete(hooks_app, make_workspace, api_token, receiver):
    workspace = make_workspace()
    token = api_token(workspace)
    host = HostClient(hooks_app.test_client(), workspace.host)
    created = subscribe(hooks_app, workspace, token, receiver.url())
    queued = host.api("POST", f"/api/v1/webhooks/{created['id']}/test", token)
    assert queued.status_code == 202 and queued.get_json()["status"] == "pending"
    run_jobs(hooks_app)
    assert json.loads(receiver.requests[0].body)["type"] == "webhook.test"
    assert host.api("DELETE", f"/api/v1/webhooks/{created['id']}", token).status_code == 204
    assert host.api("GET", "/api/v1/webhooks", token).get_json() == []
    assert deliveries(hooks_app, workspace) == []
