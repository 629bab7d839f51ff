"""Notifications: notify() in the caller's transaction, the API and the page, the bell, e-mails once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kundo.platform.db import db
from kundo.platform.jobs.models import Timer
from kundo.platform.mail.models import OutboxMail
from kundo.platform.notifications import notify
from kundo.platform.notifications.models import Notification
from kundo.platform.notifications.service import set_email_enabled
from kundo.tenants.session import TenantScope, tenant_session


def scope(workspace) -> TenantScope:
    return TenantScope(workspace.tenant_id, workspace.slug, workspace.schema_name, workspace.role_name)


def tell(app, workspace, user_id, title, **kwargs) -> int:
    with app.app_context(), tenant_session(scope(workspace)) as session:
        return notify(session, user_id=user_id, title=title, **kwargs).id


def mails_to(app, email) -> list[OutboxMail]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == email)
                                       .order_by(OutboxMail.id)))


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="Glocke GmbH")


def test_the_api_lists_counts_and_marks_only_your_own_notifications(app, ws, add_member, api_token, client):
    from kundo.testing.web import HostClient

    colleague_id, _ = add_member(ws)
    first = tell(app, ws, ws.owner_id, "Call Anna back", body="She asked about the quote.", link="/tasks",
                 kind="reminder")
    second = tell(app, ws, ws.owner_id, "Workflow finished")
    theirs = tell(app, ws, colleague_id, "Not for the owner")
    host = HostClient(client, ws.host)
    token = api_token(ws)

    page = host.api("GET", "/api/v1/notifications", token).get_json()
    assert [item["id"] for item in page["items"]] == [second, first]
    assert page["unread_count"] == 2
    assert page["items"][1] | {"created_at": None} == {
        "id": first, "kind": "reminder", "title": "Call Anna back", "body": "She asked about the quote.",
        "link": "/tasks", "read_at": None, "created_at": None}

    one = host.api("GET", "/api/v1/notifications?limit=1", token).get_json()
    assert [item["id"] for item in one["items"]] == [second] and one["next_cursor"]
    rest = host.api("GET", f"/api/v1/notifications?limit=1&cursor={one['next_cursor']}", token).get_json()
    assert [item["id"] for item in rest["items"]] == [first] and rest["next_cursor"] is None

    marked = host.api("POST", f"/api/v1/notifications/{first}/read", token)
    assert marked.status_code == 200 and marked.get_json()["read_at"]
    assert host.api("GET", "/api/v1/notifications/unread-count", token).get_json() == {"unread_count": 1}
    assert [i["id"] for i in host.api("GET", "/api/v1/notifications?unread=true", token).get_json()["items"]] == [
        second]

    # Someone else's notification does not exist for you.
    refused = host.api("POST", f"/api/v1/notifications/{theirs}/read", token)
    assert refused.status_code == 404 and refused.content_type == "application/problem+json"

    assert host.api("POST", "/api/v1/notifications/read-all", token).get_json() == {"marked": 1}
    assert host.api("GET", "/api/v1/notifications/unread-count", token).get_json() == {"unread_count": 0}
    colleague = api_token(ws, user_id=colleague_id)
    assert host.api("GET", "/api/v1/notifications/unread-count", colleague).get_json() == {"unread_count": 1}

    bad = host.api("GET", "/api/v1/notifications?cursor=nonsense", token)
    assert bad.status_code == 400


def test_another_workspace_sees_none_of_them(app, ws, make_workspace, api_token, client):
    from kundo.testing.web import HostClient

    tell(app, ws, ws.owner_id, "Only in Glocke")
    other = make_workspace()
    page = HostClient(client, other.host).api("GET", "/api/v1/notifications", api_token(other)).get_json()
    assert page["items"] == [] and page["unread_count"] == 0


def test_an_emailed_notification_is_sent_once_after_commit(app, ws, run_jobs):
    notification_id = tell(app, ws, ws.owner_id, "Reminder: send the quote", body="Due tomorrow.", link="/tasks",
                           email=True)
    run_jobs()
    run_jobs()
    mails = mails_to(app, ws.owner_email)
    assert len(mails) == 1
    assert mails[0].subject == "Reminder: send the quote"
    assert "Due tomorrow." in mails[0].body_text
    assert f"http://{ws.slug}.kundo.test/tasks" in mails[0].body_text
    with app.app_context(), tenant_session(scope(ws)) as session:
        assert session.get(Notification, notification_id).emailed_at is not None


def test_a_rolled_back_notification_sends_nothing(app, ws, run_jobs):
    with app.app_context(), tenant_session(scope(ws)) as session:
        notify(session, user_id=ws.owner_id, title="Never happened", email=True)
        session.rollback()
    run_jobs()
    assert mails_to(app, ws.owner_email) == []


def test_a_member_who_turned_emails_off_gets_the_bell_only(app, ws, run_jobs):
    with app.app_context(), tenant_session(scope(ws)) as session:
        set_email_enabled(session, ws.owner_id, False)
    tell(app, ws, ws.owner_id, "Quiet please", email=True)
    with app.app_context(), tenant_session(scope(ws)) as session:
        assert session.scalar(select(Timer.id).where(Timer.handler == "notifications.email")) is None
    run_jobs()
    assert mails_to(app, ws.owner_email) == []


def test_preferences_through_the_api(app, ws, api_token, client):
    from kundo.testing.web import HostClient

    host, token = HostClient(client, ws.host), api_token(ws)
    assert host.api("GET", "/api/v1/notifications/preferences", token).get_json() == {"email_enabled": True}
    assert host.api("PUT", "/api/v1/notifications/preferences", token,
                    json={"email_enabled": False}).get_json() == {"email_enabled": False}
    assert host.api("GET", "/api/v1/notifications/preferences", token).get_json() == {"email_enabled": False}
    assert host.api("PUT", "/api/v1/notifications/preferences", token, json={}).status_code == 422


def test_the_bell_and_the_page(app, ws, sign_in):
    host = sign_in(ws)
    empty = host.get("/notifications").get_data(as_text=True)
    assert 'data-testid="empty-state"' in empty and "No notifications yet" in empty
    assert 'class="bell-count"' not in empty

    first = tell(app, ws, ws.owner_id, "Call Anna back", link="/tasks")
    tell(app, ws, ws.owner_id, "Second thing", body="Details here")
    page = host.get("/notifications").get_data(as_text=True)
    assert '<span class="bell-count">2</span>' in page
    assert "Call Anna back" in page and "Details here" in page

    opened = host.submit(f"/notifications/{first}/open", page="/notifications")
    assert opened.status_code == 302 and opened.headers["Location"] == "/tasks"
    assert '<span class="bell-count">1</span>' in host.get("/tasks").get_data(as_text=True)

    host.submit("/notifications/read-all", page="/notifications")
    page = host.get("/notifications").get_data(as_text=True)
    assert 'class="bell-count"' not in page and "Mark all as read" not in page
    unread_only = host.get("/notifications?filter=unread").get_data(as_text=True)
    assert "You are all caught up" in unread_only

    host.submit("/notifications/preferences", {}, page="/notifications")
    assert 'name="email_enabled" checked' not in host.get("/notifications").get_data(as_text=True)
    host.submit("/notifications/preferences", {"email_enabled": "on"}, page="/notifications")
    assert 'name="email_enabled" checked' in host.get("/notifications").get_data(as_text=True)


def test_marking_someone_elses_notification_on_the_page_is_not_found(app, ws, add_member, sign_in):
    colleague_id, _ = add_member(ws)
    theirs = tell(app, ws, colleague_id, "Private")
    host = sign_in(ws)
    assert host.submit(f"/notifications/{theirs}/read", page="/notifications").status_code == 404
    assert "Private" not in host.get("/notifications").get_data(as_text=True)
