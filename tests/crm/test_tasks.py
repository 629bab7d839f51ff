"""Tasks: the API, "my day" in the workspace's time zone, task.due exactly once, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from kundo.crm.contacts.models import Contact
from kundo.crm.tasks.models import Task
from kundo.crm.tasks.service import complete_task, create_task, emit_due_tasks, my_tasks, update_task
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.tenants.workspace import WorkspaceProfile
from kundo.testing.web import HostClient

#: 23:30 UTC on 10 March is already 00:30 on 11 March in Berlin (UTC+1 in winter).
NOW = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


def tenant_of(app, workspace) -> Tenant:
    with app.app_context():
        return db.session.get(Tenant, workspace.tenant_id)


def make_contact(app, workspace, first="Anna", last="Schmidt") -> int:
    with app.app_context(), tenant_session(tenant_of(app, workspace)) as session:
        contact = Contact(first_name=first, last_name=last)
        session.add(contact)
        session.flush()
        return contact.id


def events(app, workspace, event_type):
    with app.app_context(), tenant_session(tenant_of(app, workspace)) as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id))
        return [(row.object_id, row.payload, row.actor_id) for row in rows]


def set_timezone(app, workspace, zone: str) -> None:
    with app.app_context(), tenant_session(tenant_of(app, workspace)) as session:
        session.get(WorkspaceProfile, 1).timezone = zone


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="Alpha AG")


@pytest.fixture
def token(ws, api_token):
    return api_token(ws)


@pytest.fixture
def host(client, ws):
    return HostClient(client, ws.host)


# ---- the API -------------------------------------------------------------------------------


def test_create_read_change_and_delete_a_task(app, ws, token, host):
    contact_id = make_contact(app, ws)
    created = host.api("POST", "/api/v1/tasks", token, json={
        "title": "  Call Anna back  ", "type": "call", "due_at": "2026-03-11T09:00:00+01:00",
        "reminder_at": "2026-03-11T08:45:00+01:00", "notes": "About the quote",
        "links": [{"object_type": "contact", "object_id": contact_id}]})
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    assert (task["title"], task["type"], task["owner_id"], task["created_by"]) == (
        "Call Anna back", "call", ws.owner_id, ws.owner_id)
    assert task["due_at"] == "2026-03-11T08:00:00+00:00" and task["done_at"] is None
    assert task["links"] == [{"object_type": "contact", "object_id": contact_id}]
    assert events(app, ws, "task.created") == [(task["id"], {
        "type": "call", "owner_id": ws.owner_id, "due_at": "2026-03-11T08:00:00+00:00",
        "links": [["contact", contact_id]]}, ws.owner_id)]

    assert host.api("GET", f"/api/v1/tasks/{task['id']}", token).get_json() == task
    patched = host.api("PATCH", f"/api/v1/tasks/{task['id']}", token,
                       json={"title": "Send the quote", "type": "email", "links": []}).get_json()
    assert (patched["title"], patched["type"], patched["links"], patched["notes"]) == (
        "Send the quote", "email", [], "About the quote")
    assert host.api("DELETE", f"/api/v1/tasks/{task['id']}", token).status_code == 204
    assert host.api("GET", f"/api/v1/tasks/{task['id']}", token).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"title": ""}, "title"),
    ({"title": "x", "type": "meeting"}, "type"),
    ({"title": "x", "due_at": "tomorrow"}, "due_at"),
    ({"title": "x", "due_at": "2026-03-11T09:00:00Z", "reminder_at": "2026-03-11T10:00:00Z"}, "reminder_at"),
    ({"title": "x", "links": [{"object_type": "contact"}]}, "links"),
])
def test_a_bad_task_is_422_naming_the_field(app, ws, token, host, body, field):
    response = host.api("POST", "/api/v1/tasks", token, json=body)
    assert response.status_code == 422, response.get_json()
    # Nested fields may be named down to the item ("links.0.object_id").
    assert [key.split(".")[0] for key in response.get_json()["errors"]] == [field]


def test_the_owner_must_be_a_member_of_the_workspace(app, ws, token, host, make_user, add_member):
    outsider_id, _email = make_user()
    response = host.api("POST", "/api/v1/tasks", token, json={"title": "x", "owner_id": outsider_id})
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["owner_id"]
    colleague_id, _email = add_member(ws)
    assigned = host.api("POST", "/api/v1/tasks", token, json={"title": "x", "owner_id": colleague_id})
    assert assigned.status_code == 201 and assigned.get_json()["owner_id"] == colleague_id
    patched = host.api("PATCH", f"/api/v1/tasks/{assigned.get_json()['id']}", token, json={"owner_id": outsider_id})
    assert patched.status_code == 422


def test_a_link_to_a_missing_contact_is_404(app, ws, token, host):
    response = host.api("POST", "/api/v1/tasks", token, json={
        "title": "x", "links": [{"object_type": "contact", "object_id": 777}]})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_completing_emits_task_completed_once_and_reopen_undoes_it(app, ws, token, host):
    task_id = host.api("POST", "/api/v1/tasks", token, json={"title": "Follow up"}).get_json()["id"]
    done = host.api("POST", f"/api/v1/tasks/{task_id}/complete", token)
    assert done.status_code == 200 and done.get_json()["done_at"] is not None
    again = host.api("POST", f"/api/v1/tasks/{task_id}/complete", token).get_json()
    assert again["done_at"] == done.get_json()["done_at"]
    assert [(object_id, actor) for object_id, _payload, actor in events(app, ws, "task.completed")] == [
        (task_id, ws.owner_id)]
    reopened = host.api("POST", f"/api/v1/tasks/{task_id}/reopen", token).get_json()
    assert reopened["done_at"] is None
    listed = host.api("GET", "/api/v1/tasks?status=done", token).get_json()["items"]
    assert listed == []


def test_writing_needs_the_write_scope(app, ws, api_token, host):
    reader = api_token(ws, scopes=["read"])
    assert host.api("POST", "/api/v1/tasks", reader, json={"title": "x"}).status_code == 403
    assert host.api("GET", "/api/v1/tasks", reader).status_code == 200


# ---- my day across a time-zone boundary -----------------------------------------------------


def _my_day_tasks(session, owner_id, other_owner_id):
    def task(title, due_at, owner=owner_id):
        return create_task(session, title=title, due_at=due_at, owner_id=owner)

    task("overdue: Berlin midnight", datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    task("overdue: yesterday", datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    task("today: UTC tomorrow, Berlin today", datetime(2026, 3, 11, 10, 0, tzinfo=UTC))
    task("today: 23:59 Berlin", datetime(2026, 3, 11, 22, 59, tzinfo=UTC))
    task("upcoming: Berlin midnight next day", datetime(2026, 3, 11, 23, 0, tzinfo=UTC))
    task("upcoming: no due date", None)
    finished = task("done", datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    complete_task(session, finished, now=NOW)
    task("someone else's", datetime(2026, 3, 11, 10, 0, tzinfo=UTC), owner=other_owner_id)


def _titles(buckets):
    return {name: [task.title for task in tasks] for name, tasks in buckets.items()}


def test_my_tasks_count_today_in_the_workspace_time_zone(app_ctx, ws, add_member):
    colleague_id, _email = add_member(ws)
    with tenant_session(tenant_of(app_ctx, ws)) as session:
        _my_day_tasks(session, ws.owner_id, colleague_id)
        berlin = _titles(my_tasks(session, ws.owner_id, now=NOW))
    assert berlin == {
        "overdue": ["overdue: yesterday", "overdue: Berlin midnight"],
        "today": ["today: UTC tomorrow, Berlin today", "today: 23:59 Berlin"],
        "upcoming": ["upcoming: Berlin midnight next day", "upcoming: no due date"],
    }
    set_timezone(app_ctx, ws, "UTC")
    with tenant_session(tenant_of(app_ctx, ws)) as session:
        utc = _titles(my_tasks(session, ws.owner_id, now=NOW))
    # In UTC it is still 10 March: nothing left today, the same tasks are upcoming.
    assert utc["today"] == []
    assert utc["upcoming"][:2] == ["today: UTC tomorrow, Berlin today", "today: 23:59 Berlin"]


def test_a_day_with_the_clock_change_ends_at_local_midnight(app_ctx, ws):
    """29 March 2026 has 23 hours in Berlin: it ends at 22:00 UTC, not 23:00."""
    now = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
    with tenant_session(tenant_of(app_ctx, ws)) as session:
        create_task(session, title="late today", due_at=datetime(2026, 3, 29, 21, 59, tzinfo=UTC),
                    owner_id=ws.owner_id)
        create_task(session, title="after midnight", due_at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
                    owner_id=ws.owner_id)
        buckets = _titles(my_tasks(session, ws.owner_id, now=now))
    assert buckets == {"overdue": [], "today": ["late today"], "upcoming": ["after midnight"]}


def test_the_task_list_filters_mine_overdue_today_and_object(app, ws, token, host, add_member, api_token):
    colleague_id, _email = add_member(ws)
    contact_id = make_contact(app, ws)
    now = datetime.now(UTC)
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        create_task(session, title="late", due_at=now - timedelta(hours=30), owner_id=ws.owner_id,
                    links=[("contact", contact_id)])
        create_task(session, title="soon", due_at=now + timedelta(minutes=1), owner_id=ws.owner_id)
        create_task(session, title="next week", due_at=now + timedelta(days=7), owner_id=ws.owner_id,
                    links=[("contact", contact_id)])
        create_task(session, title="colleague's", due_at=now - timedelta(hours=1), owner_id=colleague_id)
        create_task(session, title="whenever", owner_id=ws.owner_id)

    def titles(query):
        response = host.api("GET", f"/api/v1/tasks{query}", token)
        assert response.status_code == 200, response.get_json()
        return [item["title"] for item in response.get_json()["items"]]

    assert titles("") == ["late", "colleague's", "soon", "next week", "whenever"]
    assert titles("?mine=true") == ["late", "soon", "next week", "whenever"]
    assert titles(f"?owner_id={colleague_id}") == ["colleague's"]
    assert titles("?mine=true&overdue=true") == ["late"]
    assert titles(f"?object=contact:{contact_id}") == ["late", "next week"]
    today = titles("?mine=true&today=true")
    # "soon" is due in a minute; unless the workspace's day ends within it, it is today's.
    assert today in (["soon"], [])
    assert titles("?mine=true&today=true&overdue=true") == ["late", *today]
    for missing in ("contact:999", "company:9223372036854775807", "contact:9999999999999999999"):
        assert host.api("GET", f"/api/v1/tasks?object={missing}", token).status_code == 404
    assert titles("?object=deal:5") == []  # hub objects are taken as given
    malformed = host.api("GET", "/api/v1/tasks?object=contact", token)
    assert malformed.status_code == 422 and "object" in malformed.get_json()["errors"]
    colleague_token = api_token(ws, user_id=colleague_id)
    mine = host.api("GET", "/api/v1/tasks/mine", colleague_token).get_json()
    assert [t["title"] for t in mine["overdue"]] == ["colleague's"] and mine["today"] == mine["upcoming"] == []


def test_the_task_list_pages_by_cursor(app, ws, token, host):
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        for day in (3, 1, 2):
            create_task(session, title=f"day {day}", due_at=NOW + timedelta(days=day), owner_id=ws.owner_id)
        for n in (1, 2):
            create_task(session, title=f"undated {n}", owner_id=ws.owner_id)
    seen, cursor = [], None
    while True:
        page = host.api("GET", "/api/v1/tasks?limit=2" + (f"&cursor={cursor}" if cursor else ""), token).get_json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["day 1", "day 2", "day 3", "undated 1", "undated 2"]


# ---- task.due ------------------------------------------------------------------------------


def test_task_due_is_emitted_once_per_task(app_ctx, ws):
    tenant = tenant_of(app_ctx, ws)
    with tenant_session(tenant) as session:
        due = create_task(session, title="due", due_at=NOW - timedelta(minutes=5), owner_id=ws.owner_id)
        create_task(session, title="later", due_at=NOW + timedelta(hours=1), owner_id=ws.owner_id)
        finished = create_task(session, title="done", due_at=NOW - timedelta(hours=1), owner_id=ws.owner_id)
        complete_task(session, finished, now=NOW)
        create_task(session, title="undated", owner_id=ws.owner_id)
    for _run in range(3):
        with tenant_session(tenant) as session:
            emit_due_tasks(session, NOW)
    assert [object_id for object_id, _payload, _actor in events(app_ctx, ws, "task.due")] == [due.id]
    with tenant_session(tenant) as session:
        assert emit_due_tasks(session, NOW + timedelta(hours=2)) == 1  # "later" is due now
        assert emit_due_tasks(session, NOW + timedelta(hours=3)) == 0
        assert session.get(Task, due.id).due_notified_at == NOW


def test_postponing_a_task_announces_its_new_due_time_again(app_ctx, ws):
    tenant = tenant_of(app_ctx, ws)
    with tenant_session(tenant) as session:
        task = create_task(session, title="call", due_at=NOW - timedelta(minutes=1), owner_id=ws.owner_id)
        assert emit_due_tasks(session, NOW) == 1
        update_task(session, task, {"due_at": NOW + timedelta(days=1)})
        assert emit_due_tasks(session, NOW) == 0
        assert emit_due_tasks(session, NOW + timedelta(days=1)) == 1
        update_task(session, task, {"title": "call Anna"})  # same due time: no new announcement
        assert emit_due_tasks(session, NOW + timedelta(days=2)) == 0
    assert len(events(app_ctx, ws, "task.due")) == 2


def test_two_workers_at_once_announce_each_task_once(app_ctx, ws):
    tenant = tenant_of(app_ctx, ws)
    with tenant_session(tenant) as session:
        for n in range(3):
            create_task(session, title=f"t{n}", due_at=NOW - timedelta(minutes=n), owner_id=ws.owner_id)
    with tenant_session(tenant) as first:
        assert emit_due_tasks(first, NOW) == 3
        with tenant_session(tenant) as second:
            # The first worker still holds its rows: the second skips them instead of
            # waiting (a lock timeout turns waiting into a failure instead of a hang).
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert emit_due_tasks(second, NOW) == 0
    with tenant_session(tenant) as session:
        assert emit_due_tasks(session, NOW) == 0
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "task.due")) == 3


# ---- isolation -----------------------------------------------------------------------------


def test_another_workspace_cannot_see_or_touch_our_tasks(app, client, ws, token, host, make_workspace, api_token):
    contact_id = make_contact(app, ws)
    task = host.api("POST", "/api/v1/tasks", token, json={
        "title": "Alpha's secret", "links": [{"object_type": "contact", "object_id": contact_id}]}).get_json()
    other = make_workspace(name="Beta GmbH")
    beta, beta_token = HostClient(client, other.host), api_token(other)
    path = f"/api/v1/tasks/{task['id']}"
    assert beta.api("GET", path, beta_token).status_code == 404
    assert beta.api("PATCH", path, beta_token, json={"title": "mine now"}).status_code == 404
    assert beta.api("POST", f"{path}/complete", beta_token).status_code == 404
    assert beta.api("DELETE", path, beta_token).status_code == 404
    assert beta.api("GET", "/api/v1/tasks?status=all", beta_token).get_json()["items"] == []
    assert beta.api("GET", f"/api/v1/tasks?object=contact:{contact_id}", beta_token).status_code == 404
    linked = beta.api("POST", "/api/v1/tasks", beta_token, json={
        "title": "x", "links": [{"object_type": "contact", "object_id": contact_id}]})
    assert linked.status_code == 404
    assert host.api("GET", path, token).get_json()["title"] == "Alpha's secret"
