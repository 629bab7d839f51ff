"""Bulk actions: owner, tags and delete on ids or a whole filter, set-based, one event per changed contact."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.bulk import BulkError, ConfirmationRequired, run_bulk_action
from kundo.crm.tasks.models import Task, TaskLink
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.web import HostClient


@pytest.fixture
def crm(app_ctx, make_workspace, add_member):
    """Four listed contacts and one erased one; returns (workspace, tenant, ids, member_id)."""
    workspace = make_workspace()
    member_id, _email = add_member(workspace)
    tenant = db.session.get(Tenant, workspace.tenant_id)
    with tenant_session(tenant) as session:
        rows = {
            "anna": Contact(first_name="Anna", last_name="Alt", tags=["VIP"], owner_id=workspace.owner_id,
                            lifecycle_stage="lead"),
            "ben": Contact(first_name="Ben", last_name="Bau", tags=[], owner_id=None, lifecycle_stage="lead"),
            "cem": Contact(first_name="Cem", last_name="Cay", tags=["partner"], owner_id=member_id,
                           lifecycle_stage="customer"),
            "dora": Contact(first_name=None, last_name=None, tags=["vip", "partner"], owner_id=None,
                            lifecycle_stage="lead"),
            "erased": Contact(first_name="Eve", tags=["vip"], lifecycle_stage="lead", erased_at=func.now()),
        }
        rows["dora"].emails = [ContactEmail(email="dora@example.com", is_primary=True)]
        session.add_all(rows.values())
        session.flush()
        ids = {key: row.id for key, row in rows.items()}
    return workspace, tenant, ids, member_id


def events(tenant, event_type):
    with tenant_session(tenant) as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type))
        return {row.object_id: row for row in rows}


def contacts(tenant):
    with tenant_session(tenant) as session:
        return {row.id: row for row in session.scalars(select(Contact))}


def test_assign_owner_by_ids_changes_and_announces_only_what_changes(crm):
    workspace, tenant, ids, member_id = crm
    with tenant_session(tenant) as session:
        result = run_bulk_action(session, "assign_owner", ids=[ids["anna"], ids["ben"], ids["cem"]], value=member_id,
                                 actor_id=workspace.owner_id)
    assert (result.matched, result.changed) == (3, 2)
    rows = contacts(tenant)
    assert [rows[ids[key]].owner_id for key in ("anna", "ben", "cem", "dora")] == [member_id] * 3 + [None]
    announced = events(tenant, "contact.updated")
    assert set(announced) == {ids["anna"], ids["ben"]}
    assert announced[ids["anna"]].payload == {
        "changes": {"owner_id": {"from": workspace.owner_id, "to": member_id}}}
    assert announced[ids["ben"]].payload == {"changes": {"owner_id": {"from": None, "to": member_id}}}
    assert announced[ids["ben"]].actor_id == workspace.owner_id


def test_assign_owner_by_filter_can_also_remove_the_owner(crm):
    _workspace, tenant, ids, member_id = crm
    with tenant_session(tenant) as session:
        result = run_bulk_action(session, "assign_owner", filters=[{"field": "owner_id", "op": "is",
                                                                    "value": member_id}], value=None)
    assert (result.matched, result.changed) == (1, 1)
    assert contacts(tenant)[ids["cem"]].owner_id is None


def test_add_tag_ignores_case_and_skips_erased_contacts(crm):
    _workspace, tenant, ids, _member = crm
    with tenant_session(tenant) as session:
        result = run_bulk_action(session, "add_tag", filters=[{"field": "lifecycle_stage", "op": "eq",
                                                               "value": "lead"}], value=" vip ")
    assert (result.matched, result.changed) == (3, 1)
    rows = contacts(tenant)
    assert rows[ids["ben"]].tags == ["vip"]
    assert rows[ids["anna"]].tags == ["VIP"]        # already tagged, whatever the case
    assert rows[ids["erased"]].tags == ["vip"]
    assert events(tenant, "contact.updated")[ids["ben"]].payload == {
        "changes": {"tags": {"from": [], "to": ["vip"]}}}


def test_remove_tag_by_ids(crm):
    _workspace, tenant, ids, _member = crm
    with tenant_session(tenant) as session:
        result = run_bulk_action(session, "remove_tag", ids=list(ids.values()), value="Vip")
    assert (result.matched, result.changed) == (4, 2)
    rows = contacts(tenant)
    assert (rows[ids["anna"]].tags, rows[ids["dora"]].tags, rows[ids["cem"]].tags) == ([], ["partner"], ["partner"])
    assert set(events(tenant, "contact.updated")) == {ids["anna"], ids["dora"]}
    assert events(tenant, "contact.updated")[ids["dora"]].payload["changes"]["tags"] == {
        "from": ["vip", "partner"], "to": ["partner"]}


def test_delete_refuses_without_the_right_count_and_changes_nothing(crm):
    _workspace, tenant, ids, _member = crm
    everyone = [{"field": "name", "op": "is_not_empty"}]
    for confirm in (None, 2, True):
        with pytest.raises(ConfirmationRequired) as refusal, tenant_session(tenant) as session:
            run_bulk_action(session, "delete", filters=everyone, confirm=confirm)
        assert refusal.value.count == 3
        assert "3" in str(refusal.value)
    assert len(contacts(tenant)) == 5


def test_delete_with_the_count_deletes_links_and_orphaned_activities(crm):
    workspace, tenant, ids, _member = crm
    with tenant_session(tenant) as session:
        company = Company(name="Keep AG")
        session.add(company)
        session.flush()
        lonely = Activity(type="note", subject="only Ben", links=[ActivityLink(object_type="contact",
                                                                                object_id=ids["ben"])])
        shared = Activity(type="note", subject="Ben and the company",
                          links=[ActivityLink(object_type="contact", object_id=ids["ben"]),
                                 ActivityLink(object_type="company", object_id=company.id)])
        kept = Activity(type="note", subject="Anna", links=[ActivityLink(object_type="contact", object_id=ids["anna"])])
        task = Task(title="Call Ben", links=[TaskLink(object_type="contact", object_id=ids["ben"])])
        session.add_all([lonely, shared, kept, task])
        session.flush()
        activity_ids = {"lonely": lonely.id, "shared": shared.id, "kept": kept.id}
        task_id = task.id
    with tenant_session(tenant) as session:
        result = run_bulk_action(session, "delete", ids=[ids["ben"], ids["dora"], ids["erased"]], confirm=2,
                                 actor_id=workspace.owner_id)
    assert (result.matched, result.changed) == (2, 2)
    assert set(contacts(tenant)) == {ids["anna"], ids["cem"], ids["erased"]}
    deleted = events(tenant, "contact.deleted")
    assert deleted[ids["ben"]].payload == {"name": "Ben Bau", "email": None}
    assert deleted[ids["dora"]].payload == {"name": "dora@example.com", "email": "dora@example.com"}
    with tenant_session(tenant) as session:
        remaining = set(session.scalars(select(Activity.id)))
        assert remaining == {activity_ids["shared"], activity_ids["kept"]}
        assert session.scalars(select(ActivityLink.object_type).where(
            ActivityLink.activity_id == activity_ids["shared"])).all() == ["company"]
        assert session.get(Task, task_id) is not None
        assert session.scalars(select(TaskLink).where(TaskLink.task_id == task_id)).all() == []
        assert session.scalar(select(func.count()).select_from(ContactEmail)) == 0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"action": "paint", "ids": [1]}, "action"),
    ({"action": "add_tag", "ids": [1], "value": ""}, "value"),
    ({"action": "add_tag", "ids": [1], "value": "x" * 61}, "value"),
    ({"action": "assign_owner", "ids": [1], "value": "bob"}, "value"),
    ({"action": "add_tag", "value": "x"}, "ids"),
    ({"action": "add_tag", "ids": [1], "filters": [], "value": "x"}, "ids"),
    ({"action": "add_tag", "ids": [], "value": "x"}, "ids"),
])
def test_bad_requests_are_refused_naming_the_field(crm, kwargs, field):
    tenant = crm[1]
    with pytest.raises(BulkError) as refusal, tenant_session(tenant) as session:
        run_bulk_action(session, **kwargs)
    assert refusal.value.field == field


def test_large_selections_run_as_a_fixed_number_of_statements(crm):
    """Set-based: the statements do not grow with the selection (no per-row ORM loop)."""
    _workspace, tenant, _ids, member_id = crm
    with tenant_session(tenant) as session:
        session.execute(Contact.__table__.insert(), [{"first_name": f"Bulk {n}", "tags": []} for n in range(600)])

    def statements(action, value, **selection):
        seen = []
        engine = db.engine

        def count(conn, cursor, statement, *args):  # noqa: ARG001
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            with tenant_session(tenant) as session:
                result = run_bulk_action(session, action, value=value, **selection)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen), result

    small, _ = statements("add_tag", "few", filters=[{"field": "name", "op": "eq", "value": "Bulk 7"}])
    large, result = statements("add_tag", "many", filters=[{"field": "name", "op": "starts_with", "value": "bulk"}])
    assert result.changed == 600
    assert large == small
    with tenant_session(tenant) as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.type == "contact.updated")) == 601
    owners, result = statements("assign_owner", member_id, filters=[{"field": "tags", "op": "has", "value": "many"}])
    assert result.changed == 600 and owners == small


# --- the API ----------------------------------------------------------------------------------

def post_bulk(client, workspace, token, body):
    return HostClient(client, workspace.host).api("POST", "/api/v1/contacts/bulk", token, json=body)


def test_api_assigns_an_owner_only_from_the_workspace(crm, client, api_token, make_user):
    workspace, tenant, ids, member_id = crm
    token = api_token(workspace)
    outsider, _email = make_user()
    refused = post_bulk(client, workspace, token, {"action": "assign_owner", "ids": [ids["ben"]], "value": outsider})
    assert refused.status_code == 422
    assert "member" in refused.get_json()["errors"]["value"][0]
    done = post_bulk(client, workspace, token, {"action": "assign_owner", "ids": [ids["ben"]], "value": member_id})
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {"action": "assign_owner", "matched": 1, "changed": 1}
    assert contacts(tenant)[ids["ben"]].owner_id == member_id


def test_api_delete_asks_for_the_count_then_deletes(crm, client, api_token):
    workspace, tenant, ids, _member = crm
    token = api_token(workspace)
    body = {"action": "delete", "filter": [{"field": "lifecycle_stage", "op": "eq", "value": "lead"}]}
    refused = post_bulk(client, workspace, token, body)
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["count"] == 3
    assert "confirm" in refused.get_json()["errors"]
    assert len(contacts(tenant)) == 5
    done = post_bulk(client, workspace, token, {**body, "confirm": 3})
    assert done.get_json() == {"action": "delete", "matched": 3, "changed": 3}
    assert set(contacts(tenant)) == {ids["cem"], ids["erased"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "add_tag", "value": "x"}, "ids"),
    ({"action": "add_tag", "ids": [1], "filter": [], "value": "x"}, "ids"),
    ({"action": "add_tag", "filter": [{"field": "nope", "op": "eq", "value": 1}], "value": "x"}, "filter"),
    ({"action": "explode", "ids": [1]}, "action"),
    ({"action": "add_tag", "ids": [1], "value": 5}, "value"),
])
def test_api_names_the_field_to_fix(crm, client, api_token, body, field):
    workspace = crm[0]
    response = post_bulk(client, workspace, api_token(workspace), body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_api_needs_the_write_scope(crm, client, api_token):
    workspace, _tenant, ids, _member = crm
    token = api_token(workspace, scopes=("read",))
    assert post_bulk(client, workspace, token, {"action": "add_tag", "ids": [ids["ben"]], "value": "x"}).status_code \
        == 403


def test_api_cannot_touch_another_workspaces_contacts(crm, client, api_token, make_workspace):
    workspace, tenant, ids, _member = crm
    other = make_workspace()
    response = post_bulk(client, other, api_token(other), {"action": "delete", "ids": list(ids.values()),
                                                           "confirm": 0})
    assert response.get_json() == {"action": "delete", "matched": 0, "changed": 0}
    assert len(contacts(tenant)) == 5
