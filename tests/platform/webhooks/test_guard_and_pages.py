"""The SSRF guard (with the operator's permission off), signatures, the admin pages, the dead-letter page."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from kundo.platform.db import db
from kundo.platform.jobs.deadletters import record_dead_letter
from kundo.platform.jobs.models import DeadLetter
from kundo.platform.webhooks.addresses import UnsafeWebhookUrl, is_public, resolve_target
from kundo.platform.webhooks.signing import signature_header, verify_signature
from kundo.testing.web import HostClient


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/hook", "http://localhost:5000/hook", "http://192.168.1.20/", "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://224.0.0.1/", "http://100.64.0.1/",
])
def test_private_loopback_and_link_local_addresses_are_refused(app, make_workspace, api_token, client, url):
    workspace = make_workspace()
    host = HostClient(client, workspace.host)
    response = host.api("POST", "/api/v1/webhooks", api_token(workspace),
                        json={"url": url, "event_types": ["contact.created"]})
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert "url" in response.get_json()["errors"]


def test_a_dns_name_is_judged_by_every_address_it_resolves_to():
    with pytest.raises(UnsafeWebhookUrl, match="127.0.0.1|::1"):
        resolve_target("http://localhost/hook", allow_private=False)
    assert resolve_target("http://localhost:8000/x?y=1", allow_private=True).path == "/x?y=1"
    with pytest.raises(UnsafeWebhookUrl):
        resolve_target("http://no-such-host.invalid/", allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://user:pw@example.com/", "not a url", "",
                                 "http:///path", "https://example.com:99999/"])
def test_malformed_addresses_are_refused(url):
    with pytest.raises(UnsafeWebhookUrl):
        resolve_target(url, allow_private=True)


def test_what_counts_as_public():
    assert is_public("93.184.215.14") and is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:10.0.0.1",
                    "255.255.255.255"):
        assert not is_public(address), address


def test_unknown_event_types_are_named_in_the_refusal(app, make_workspace, api_token, client):
    workspace = make_workspace()
    response = HostClient(client, workspace.host).api(
        "POST", "/api/v1/webhooks", api_token(workspace),
        json={"url": "https://93.184.215.14/", "event_types": ["nope"]})
    assert response.status_code == 422 and "nope" in response.get_json()["errors"]["event_types"][0]


def test_signatures_expire_and_need_the_right_secret():
    body = b'{"id":"evt_1"}'
    now = int(time.time())
    header = signature_header("whsec_a", body, now)
    assert verify_signature("whsec_a", header, body)
    assert not verify_signature("whsec_b", header, body)
    assert not verify_signature("whsec_a", signature_header("whsec_a", body, now - 3600), body)
    assert not verify_signature("whsec_a", "garbage", body)


def test_members_may_not_manage_webhooks(app, make_workspace, add_member, sign_in, api_token, client):
    workspace = make_workspace()
    member_id, member_email = add_member(workspace)
    assert sign_in(workspace, member_email).get("/settings/webhooks").status_code == 403
    token = api_token(workspace, user_id=member_id)
    assert HostClient(client, workspace.host).api("GET", "/api/v1/webhooks", token).status_code == 403


def test_the_webhooks_pages(app, make_workspace, sign_in):
    workspace = make_workspace()
    host = sign_in(workspace)
    page = host.get("/settings/webhooks").get_data(as_text=True)
    assert 'data-testid="empty-state"' in page and "No webhooks yet" in page

    refused = host.submit("/settings/webhooks", {"url": "http://10.0.0.1/hook", "event_types": ["task.created"]},
                          page="/settings/webhooks")
    assert refused.status_code == 400 and "private, loopback or link-local" in refused.get_data(as_text=True)
    unchosen = host.submit("/settings/webhooks", {"url": "https://93.184.215.14/hook"}, page="/settings/webhooks")
    assert unchosen.status_code == 400 and "Choose at least one event." in unchosen.get_data(as_text=True)

    created = host.submit("/settings/webhooks", {
        "url": "https://93.184.215.14/hook", "event_types": ["task.created", "contact.created"],
        "description": "ERP sync"}, page="/settings/webhooks")
    html = created.get_data(as_text=True)
    assert created.status_code == 201 and 'data-testid="new-secret">whsec_' in html
    secret = html.split('data-testid="new-secret">')[1].split("<")[0]
    listing = host.get("/settings/webhooks").get_data(as_text=True)
    assert "https://93.184.215.14/hook" in listing and secret not in listing  # shown once

    from kundo.platform.webhooks.models import WebhookSubscription
    from kundo.tenants.session import TenantScope, tenant_session

    scope = TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)
    with app.app_context(), tenant_session(scope) as session:
        subscription_id = session.scalar(select(WebhookSubscription.id))
    detail = host.get(f"/settings/webhooks/{subscription_id}").get_data(as_text=True)
    assert "Nothing sent yet" in detail and "Send test" in detail

    host.submit(f"/settings/webhooks/{subscription_id}/pause", {"paused": "1", "next": "detail"},
                page=f"/settings/webhooks/{subscription_id}")
    assert "Resume" in host.get(f"/settings/webhooks/{subscription_id}").get_data(as_text=True)
    host.submit(f"/settings/webhooks/{subscription_id}/test", page=f"/settings/webhooks/{subscription_id}")
    detail = host.get(f"/settings/webhooks/{subscription_id}").get_data(as_text=True)
    assert "webhook.test" in detail and 'data-status="pending"' in detail

    deleted = host.submit(f"/settings/webhooks/{subscription_id}/delete", page=f"/settings/webhooks/{subscription_id}")
    assert deleted.status_code == 302
    assert host.get(f"/settings/webhooks/{subscription_id}").status_code == 404


def test_the_failed_jobs_page_and_api(app, make_workspace, add_member, sign_in, api_token, client, run_jobs):
    workspace, other = make_workspace(), make_workspace()
    host = sign_in(workspace)
    empty = host.get("/settings/failed-jobs").get_data(as_text=True)
    assert 'data-testid="empty-state"' in empty and "Nothing failed" in empty
    with app.app_context():
        mine = record_dead_letter(kind="job", actor="kundo.dispatch_events", args=[workspace.tenant_id, [1]],
                                  tenant_id=workspace.tenant_id, error="Traceback …\nRuntimeError: CRM is down").id
        theirs = record_dead_letter(kind="job", actor="kundo.dispatch_events", args=[other.tenant_id, [1]],
                                    tenant_id=other.tenant_id, error="RuntimeError: not yours").id
    page = host.get("/settings/failed-jobs").get_data(as_text=True)
    assert "RuntimeError: CRM is down" in page and "not yours" not in page

    api = HostClient(client, workspace.host)
    token = api_token(workspace)
    items = api.api("GET", "/api/v1/jobs/dead-letters", token).get_json()["items"]
    assert [item["id"] for item in items] == [mine] and items[0]["actor"] == "kundo.dispatch_events"
    assert api.api("POST", f"/api/v1/jobs/dead-letters/{theirs}/retry", token).status_code == 404

    retried = host.submit(f"/settings/failed-jobs/{mine}/retry", page="/settings/failed-jobs")
    assert retried.status_code == 302
    with app.app_context():
        letter = db.session.get(DeadLetter, mine)
        assert letter.retried_at is not None and letter.retried_by == workspace.owner_id
    assert api.api("POST", f"/api/v1/jobs/dead-letters/{mine}/retry", token).status_code == 404  # once
    assert api.api("GET", "/api/v1/jobs/dead-letters", token).get_json()["items"] == []
    run_jobs()  # the retried job runs (and leaves no message queued for later tests)

    member_id, member_email = add_member(workspace)
    member = HostClient(app.test_client(), workspace.host)
    assert member.submit("/login", {"email": member_email, "password": workspace.password}).status_code == 302
    assert member.get("/settings/failed-jobs").status_code == 403
    assert api.api("GET", "/api/v1/jobs/dead-letters", api_token(workspace, user_id=member_id)).status_code == 403
