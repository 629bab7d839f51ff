"""The one timeline: payload checks per type, idempotent external ids (also under a
race), links, order, filters and pagination, and that tenants never see each other."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import func, select, text

from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.crm.timeline.service import log_activity, timeline_for
from kundo.platform.api_pagination import encode_cursor
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.fixtures import TEST_DOMAIN
from kundo.testing.web import HostClient

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

VALID_PAYLOADS = {
    "note": {},
    "system": {"what": "merged", "from": 4},
    "call": {"direction": "out", "duration_seconds": 312, "outcome": "connected", "phone_number": "+49 30 1234"},
    "meeting": {"starts_at": "2026-03-02T10:00:00+01:00", "ends_at": "2026-03-02T11:00:00+01:00",
                "location": "Berlin", "attendees": ["anna@example.com"]},
    "email": {"direction": "in", "from": "anna@example.com", "to": ["sales@acme.example"],
              "message_id": "<abc@mail.example.com>"},
    "form_submission": {"form": "Newsletter", "fields": {"email": "anna@example.com", "consent": True}},
    "invoice": {"number": "RE-2026-0001", "amount": "1190.00", "currency": "EUR", "status": "sent"},
    "ticket_event": {"ticket_id": 17, "event": "replied"},
    "social_message": {"network": "linkedin", "author": "Anna Schmidt", "url": "https://www.linkedin.com/feed/1"},
}

#: (type, payload, the field the 422 must name)
BAD_PAYLOADS = [
    ("call", {"direction": "sideways", "duration_seconds": 10, "outcome": "connected"}, "payload.direction"),
    ("call", {"direction": "in", "duration_seconds": -1, "outcome": "connected"}, "payload.duration_seconds"),
    ("call", {"direction": "in", "duration_seconds": "10", "outcome": "connected"}, "payload.duration_seconds"),
    ("call", {"direction": "in", "duration_seconds": 10, "outcome": "maybe"}, "payload.outcome"),
    ("call", {"direction": "in", "duration_seconds": 10}, "payload.outcome"),
    ("call", {"direction": "in", "duration_seconds": 10, "outcome": "busy", "mood": "bad"}, "payload.mood"),
    ("meeting", {"starts_at": "2026-03-02T10:00:00Z"}, "payload.ends_at"),
    ("meeting", {"starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T09:00:00Z"}, "payload.ends_at"),
    ("meeting", {"starts_at": "next tuesday", "ends_at": "2026-03-02T09:00:00Z"}, "payload.starts_at"),
    ("email", {"direction": "in", "from": "anna@example.com", "to": ["x@example.com"]}, "payload.message_id"),
    ("email", {"direction": "in", "from": "not-an-address", "to": ["x@example.com"], "message_id": "m"},
     "payload.from"),
    ("email", {"direction": "in", "from": "a@example.com", "to": [], "message_id": "m"}, "payload.to"),
    ("email", {"direction": "up", "from": "a@example.com", "to": ["b@example.com"], "message_id": "m"},
     "payload.direction"),
    ("form_submission", {"form": "Newsletter"}, "payload.fields"),
    ("form_submission", {"fields": {"a": 1}}, "payload.form"),
    ("invoice", {"number": "1", "amount": "abc", "currency": "EUR", "status": "paid"}, "payload.amount"),
    ("invoice", {"number": "1", "amount": "10", "currency": "euro", "status": "paid"}, "payload.currency"),
    ("invoice", {"number": "1", "amount": "10", "currency": "EUR", "status": "lost"}, "payload.status"),
    ("invoice", {"amount": "10", "currency": "EUR", "status": "paid"}, "payload.number"),
    ("ticket_event", {"event": "created"}, "payload.ticket_id"),
    ("ticket_event", {"ticket_id": 3}, "payload.event"),
    ("social_message", {"network": "x", "author": "a", "url": "not a url"}, "payload.url"),
    ("social_message", {"author": "a", "url": "https://x.example/1"}, "payload.network"),
    ("social_message", {"network": "x", "url": "https://x.example/1"}, "payload.author"),
]


def tenant_of(app, workspace) -> Tenant:
    with app.app_context():
        return db.session.get(Tenant, workspace.tenant_id)


def make_contact(app, workspace, first="Anna", last="Schmidt", email=None, company_ids=()) -> int:
    with app.app_context(), tenant_session(tenant_of(app, workspace)) as session:
        contact = Contact(first_name=first, last_name=last)
        if email:
            contact.emails.append(ContactEmail(email=email, is_primary=True))
        session.add(contact)
        session.flush()
        session.add_all(ContactCompany(contact_id=contact.id, company_id=c) for c in company_ids)
        return contact.id


def make_company(app, workspace, name="Acme GmbH") -> int:
    with app.app_context(), tenant_session(tenant_of(app, workspace)) as session:
        company = Company(name=name)
        session.add(company)
        session.flush()
        return company.id


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="Alpha AG")


@pytest.fixture
def token(ws, api_token):
    return api_token(ws)


@pytest.fixture
def host(client, ws):
    return HostClient(client, ws.host)


def post_activity(host, token, **body):
    return host.api("POST", "/api/v1/activities", token, json=body)


def count(app, workspace, statement):
    with app.app_context(), tenant_session(tenant_of(app, workspace)) as session:
        return session.scalar(statement)


# ---- payloads ------------------------------------------------------------------------------


@pytest.mark.parametrize("activity_type", sorted(VALID_PAYLOADS))
def test_every_activity_type_is_logged_with_its_payload(app, ws, token, host, activity_type):
    contact_id = make_contact(app, ws)
    response = post_activity(host, token, type=activity_type, links=[{"object_type": "contact",
                                                                      "object_id": contact_id}],
                             subject=f"A {activity_type}", payload=VALID_PAYLOADS[activity_type])
    assert response.status_code == 201, response.get_json()
    activity = response.get_json()
    assert activity["type"] == activity_type
    assert activity["links"] == [{"object_type": "contact", "object_id": contact_id}]
    assert activity["source"] == "api"
    assert set(activity["payload"]) == set(VALID_PAYLOADS[activity_type])


def test_payload_values_are_stored_in_their_clean_form(app, ws, token, host):
    contact_id = make_contact(app, ws)
    link = [{"object_type": "contact", "object_id": contact_id}]
    invoice = post_activity(host, token, type="invoice", links=link,
                            payload={"number": "7", "amount": 0.1, "currency": "EUR", "status": "paid"}).get_json()
    assert invoice["payload"]["amount"] == "0.1"  # a decimal string, never a binary float
    meeting = post_activity(host, token, type="meeting", links=link,
                            payload={"starts_at": "2026-03-02T10:00:00", "ends_at": "2026-03-02T11:00:00+01:00"})
    assert meeting.get_json()["payload"] == {"starts_at": "2026-03-02T10:00:00+00:00",
                                             "ends_at": "2026-03-02T11:00:00+01:00"}


@pytest.mark.parametrize(("activity_type", "payload", "field"), BAD_PAYLOADS,
                         ids=[f"{t}-{f}-{i}" for i, (t, _p, f) in enumerate(BAD_PAYLOADS)])
def test_a_bad_payload_is_422_naming_the_field(app, ws, token, host, activity_type, payload, field):
    contact_id = make_contact(app, ws)
    response = post_activity(host, token, type=activity_type, payload=payload,
                             links=[{"object_type": "contact", "object_id": contact_id}])
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]
    assert count(app, ws, select(func.count()).select_from(Activity)) == 0


def test_an_unknown_type_is_422_naming_the_type(app, ws, token, host):
    contact_id = make_contact(app, ws)
    response = post_activity(host, token, type="fax", links=[{"object_type": "contact", "object_id": contact_id}])
    assert response.status_code == 422
    assert "type" in response.get_json()["errors"]


def test_the_service_refuses_what_the_api_would(app_ctx, ws):
    from kundo.crm.timeline.service import ActivityValidationError

    contact_id = make_contact(app_ctx, ws)
    with tenant_session(tenant_of(app_ctx, ws)) as session, pytest.raises(ActivityValidationError) as failure:
        log_activity(session, "call", links=[("contact", contact_id)],
                     payload={"direction": "in", "duration_seconds": -5, "outcome": "busy"})
    assert list(failure.value.errors) == ["payload.duration_seconds"]


# ---- links ---------------------------------------------------------------------------------


def test_links_must_point_at_existing_contacts_and_companies(app, ws, token, host):
    contact_id = make_contact(app, ws)
    for missing in ({"object_type": "contact", "object_id": contact_id + 1000},
                    {"object_type": "company", "object_id": 999}):
        response = post_activity(host, token, type="note", body="hi",
                                 links=[{"object_type": "contact", "object_id": contact_id}, missing])
        assert response.status_code == 404, response.get_json()
        assert str(missing["object_id"]) in response.get_json()["detail"]
    assert count(app, ws, select(func.count()).select_from(Activity)) == 0


def test_hub_objects_are_linked_as_given_and_links_are_deduplicated(app, ws, token, host):
    contact_id = make_contact(app, ws)
    link = {"object_type": "contact", "object_id": contact_id}
    response = post_activity(host, token, type="note", body="Quote sent",
                             links=[link, link, {"object_type": "deal", "object_id": 5}])
    assert response.status_code == 201
    assert response.get_json()["links"] == [link, {"object_type": "deal", "object_id": 5}]
    deal_page = host.api("GET", "/api/v1/activities?object_type=deal&object_id=5", token).get_json()
    assert [a["body"] for a in deal_page["items"]] == ["Quote sent"]


@pytest.mark.parametrize("links", [[], [{"object_type": "Contact!", "object_id": 1}],
                                   [{"object_type": "contact", "object_id": 0}]])
def test_malformed_links_are_422_naming_links(app, ws, token, host, links):
    response = post_activity(host, token, type="note", links=links)
    assert response.status_code == 422
    assert any(key.startswith("links") for key in response.get_json()["errors"])


def test_logging_emits_activity_logged_in_the_same_transaction(app, ws, token, host):
    contact_id = make_contact(app, ws)
    activity = post_activity(host, token, type="note", body="hello",
                             links=[{"object_type": "contact", "object_id": contact_id}]).get_json()
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "activity.logged")).all()
    assert [(e.object_type, e.object_id, e.actor_id) for e in events] == [("activity", activity["id"], ws.owner_id)]
    assert events[0].payload == {"type": "note", "source": "api", "links": [["contact", contact_id]]}


# ---- idempotency ---------------------------------------------------------------------------


def test_the_same_external_id_returns_the_stored_activity(app, ws, token, host):
    contact_id = make_contact(app, ws)
    body = {"type": "email", "external_id": "gmail:msg-1", "subject": "Angebot",
            "links": [{"object_type": "contact", "object_id": contact_id}],
            "payload": {"direction": "in", "from": "a@example.com", "to": ["b@example.com"], "message_id": "m1"}}
    first = post_activity(host, token, **body)
    again = post_activity(host, token, **{**body, "subject": "changed on the second sync"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count(app, ws, select(func.count()).select_from(Activity)) == 1
    assert count(app, ws, select(func.count()).select_from(OutboxEvent)
                 .where(OutboxEvent.type == "activity.logged")) == 1


def _wait_until_blocked_on_a_lock(app, timeout=10.0) -> None:
    """Wait until some backend of this database waits for a row lock (the racing insert)."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            with db.engine.connect() as conn:
                waiting = conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO%activities%'"))
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second insert never waited for the first")


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
def test_two_concurrent_inserts_of_one_external_id_make_one_activity(app, ws, first_commits):
    contact_id = make_contact(app, ws)
    tenant = tenant_of(app, ws)
    results: dict = {}

    def second_writer():
        with app.app_context(), tenant_session(tenant) as session:
            activity = log_activity(session, "note", links=[("contact", contact_id)], body="second",
                                    external_id="sync:42", source="email-sync")
            results["second"] = (activity.id, activity.body)

    with app.app_context(), tenant_session(tenant) as first:
        activity = log_activity(first, "note", links=[("contact", contact_id)], body="first",
                                external_id="sync:42", source="email-sync")
        results["first"] = (activity.id, activity.body)
        thread = threading.Thread(target=second_writer)
        thread.start()
        # The second writer checked for the id before the first committed, found
        # nothing, and is now blocked in its INSERT: a real race, not a lookup.
        _wait_until_blocked_on_a_lock(app)
        if not first_commits:
            first.rollback()
    thread.join(timeout=10)
    assert not thread.is_alive()
    expected_body = "first" if first_commits else "second"
    with app.app_context(), tenant_session(tenant) as session:
        stored = session.scalars(select(Activity)).all()
        assert [(a.body, a.external_id) for a in stored] == [(expected_body, "sync:42")]
        assert session.scalar(select(func.count()).select_from(ActivityLink)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 1
    assert results["second"] == (stored[0].id, expected_body)


# ---- reading the timeline ------------------------------------------------------------------


def _log_series(app, ws, contact_id, company_id):
    """Six activities on the contact at T0+0h … T0+5h, two on its company, one elsewhere."""
    other = make_contact(app, ws, first="Bert", last="Other")
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        for hour, kind in enumerate(["note", "call", "note", "email", "note", "call"]):
            payload = {"note": {}, "call": VALID_PAYLOADS["call"], "email": VALID_PAYLOADS["email"]}[kind]
            log_activity(session, kind, links=[("contact", contact_id)], occurred_at=T0 + timedelta(hours=hour),
                         subject=f"c{hour}", payload=payload)
        # Same moment as c2: the id breaks the tie, so pages stay stable.
        log_activity(session, "note", links=[("contact", contact_id)], occurred_at=T0 + timedelta(hours=2),
                     subject="c2b")
        for hour in (1, 7):
            log_activity(session, "note", links=[("company", company_id)], occurred_at=T0 + timedelta(hours=hour),
                         subject=f"company{hour}")
        log_activity(session, "note", links=[("contact", other)], occurred_at=T0, subject="elsewhere")


def _subjects(page):
    return [item["subject"] for item in page["items"]]


def test_a_timeline_is_newest_first_and_filtered_by_type(app, ws, token, host):
    company_id = make_company(app, ws)
    contact_id = make_contact(app, ws, company_ids=[company_id])
    _log_series(app, ws, contact_id, company_id)
    page = host.api("GET", f"/api/v1/contacts/{contact_id}/timeline", token).get_json()
    assert _subjects(page) == ["c5", "c4", "c3", "c2b", "c2", "c1", "c0"]
    assert page["next_cursor"] is None
    calls = host.api("GET", f"/api/v1/contacts/{contact_id}/timeline?types=call,email", token).get_json()
    assert _subjects(calls) == ["c5", "c3", "c1"]
    bad = host.api("GET", f"/api/v1/contacts/{contact_id}/timeline?types=fax", token)
    assert bad.status_code == 422 and "types" in bad.get_json()["errors"]


def test_a_timeline_pages_by_cursor_without_gaps_or_repeats(app, ws, token, host):
    company_id = make_company(app, ws)
    contact_id = make_contact(app, ws, company_ids=[company_id])
    _log_series(app, ws, contact_id, company_id)
    seen, cursor, pages = [], None, 0
    while True:
        query = f"/api/v1/activities?object_type=contact&object_id={contact_id}&limit=2"
        page = host.api("GET", query + (f"&cursor={cursor}" if cursor else ""), token).get_json()
        seen += _subjects(page)
        pages += 1
        # An activity arriving between pages (newer than all) must not shift later pages.
        if pages == 1:
            with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
                log_activity(session, "note", links=[("contact", contact_id)], subject="late")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c5", "c4", "c3", "c2b", "c2", "c1", "c0"]
    assert pages == 4
    bad = host.api("GET", f"/api/v1/contacts/{contact_id}/timeline?cursor=bm9wZQ", token)
    assert bad.status_code == 400 and "cursor" in bad.get_json()["errors"]


def test_include_company_joins_the_timelines_of_contacts_and_their_companies(app, ws, token, host):
    company_id = make_company(app, ws)
    contact_id = make_contact(app, ws, company_ids=[company_id])
    _log_series(app, ws, contact_id, company_id)
    contact_page = host.api("GET", f"/api/v1/contacts/{contact_id}/timeline?include_company=true&limit=4",
                            token).get_json()
    assert _subjects(contact_page) == ["company7", "c5", "c4", "c3"]
    company_only = host.api("GET", f"/api/v1/companies/{company_id}/timeline", token).get_json()
    assert _subjects(company_only) == ["company7", "company1"]
    company_page = host.api("GET", f"/api/v1/companies/{company_id}/timeline?include_company=true", token).get_json()
    assert _subjects(company_page) == ["company7", "c5", "c4", "c3", "c2b", "c2", "company1", "c1", "c0"]


def test_timeline_for_returns_a_keyset_cursor(app_ctx, ws):
    contact_id = make_contact(app_ctx, ws)
    with tenant_session(tenant_of(app_ctx, ws)) as session:
        for hour in range(3):
            log_activity(session, "note", links=[("contact", contact_id)], occurred_at=T0 + timedelta(hours=hour),
                         subject=str(hour))
        first = timeline_for(session, "contact", contact_id, limit=2)
        second = timeline_for(session, "contact", contact_id, limit=2, before=first.next_before)
    assert [a.subject for a in first.activities] == ["2", "1"]
    assert first.next_before == (T0 + timedelta(hours=1), first.activities[-1].id)
    assert [a.subject for a in second.activities] == ["0"] and second.next_before is None


def test_timelines_of_unknown_contacts_and_companies_are_404(app, ws, token, host):
    assert host.api("GET", "/api/v1/contacts/4242/timeline", token).status_code == 404
    assert host.api("GET", "/api/v1/companies/4242/timeline", token).status_code == 404
    assert host.api("GET", "/api/v1/activities?object_type=contact&object_id=4242", token).status_code == 404


def test_reading_needs_a_token_and_logging_needs_write(app, ws, api_token, host):
    contact_id = make_contact(app, ws)
    assert host.client.get(f"/api/v1/contacts/{contact_id}/timeline", base_url=host.base_url).status_code == 401
    reader = api_token(ws, scopes=["read"])
    assert host.api("GET", f"/api/v1/contacts/{contact_id}/timeline", reader).status_code == 200
    response = post_activity(host, reader, type="note", links=[{"object_type": "contact", "object_id": contact_id}])
    assert response.status_code == 403


def test_an_activity_on_a_contact_and_its_company_is_listed_once(app, ws, token, host):
    company_id = make_company(app, ws)
    contact_id = make_contact(app, ws, company_ids=[company_id])
    both = post_activity(host, token, type="note", subject="both", occurred_at="2026-03-02T10:00:00Z",
                         links=[{"object_type": "contact", "object_id": contact_id},
                                {"object_type": "company", "object_id": company_id}]).get_json()
    for path in (f"/api/v1/contacts/{contact_id}/timeline?include_company=true",
                 f"/api/v1/companies/{company_id}/timeline?include_company=true"):
        assert [item["id"] for item in host.api("GET", path, token).get_json()["items"]] == [both["id"]]


def test_links_made_through_the_orm_take_their_activitys_time(app_ctx, ws):
    """Other writers (consent, merges, hubs) add Activity(links=[...]) without naming the time."""
    contact_id = make_contact(app_ctx, ws)
    with tenant_session(tenant_of(app_ctx, ws)) as session:
        log_activity(session, "note", links=[("contact", contact_id)], occurred_at=T0, subject="logged")
        session.add(Activity(type="note", subject="given", occurred_at=T0 + timedelta(hours=1),
                             links=[ActivityLink(object_type="contact", object_id=contact_id)]))
        session.add(Activity(type="system", subject="server time",
                             links=[ActivityLink(object_type="contact", object_id=contact_id)]))
        session.flush()
        stored = session.execute(select(ActivityLink.occurred_at, Activity.occurred_at, Activity.subject)
                                 .join(Activity).order_by(Activity.id)).all()
        assert all(link_time == activity_time for link_time, activity_time, _subject in stored)
        page = timeline_for(session, "contact", contact_id)
    assert [a.subject for a in page.activities] == ["server time", "given", "logged"]


def test_the_t0004_migration_gives_existing_links_their_activitys_time(app_ctx, ws):
    """Down to t0003 (links without a time), add a timeline, up to head: every link has its time."""
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext

    from kundo.tenants.migrations import core_tenant_tree
    from kundo.tenants.session import TenantScope

    scope = TenantScope.of(tenant_of(app_ctx, ws))
    tree = core_tenant_tree()
    script = tree.script()

    def migrate(destination: str, down: bool) -> None:
        config = Config()
        config.set_main_option("script_location", tree.script_location)

        def steps(rev, context):  # noqa: ARG001 - alembic callback signature
            return script._downgrade_revs(destination, rev) if down else script._upgrade_revs(destination, rev)

        with db.engine.connect() as connection, connection.begin():
            connection.exec_driver_sql(scope.enter_sql)
            with EnvironmentContext(config, script, fn=steps, destination_rev=destination) as env:
                env.configure(connection=connection, transactional_ddl=True)
                env.run_migrations()
            if down:
                connection.exec_driver_sql(
                    "INSERT INTO activities (id, type, occurred_at, source) VALUES "
                    "(1, 'note', '2026-03-02 09:00+00', 'ui'), (2, 'note', '2026-03-02 11:00+00', 'ui');"
                    "INSERT INTO activity_links (activity_id, object_type, object_id) VALUES "
                    "(1, 'contact', 7), (2, 'contact', 7), (2, 'deal', 3)")

    migrate("t0003", down=True)
    migrate("heads", down=False)
    with tenant_session(scope) as session:
        times = session.execute(select(ActivityLink.object_type, ActivityLink.occurred_at)
                                .order_by(ActivityLink.activity_id, ActivityLink.object_type)).all()
        assert times == [("contact", T0), ("contact", T0 + timedelta(hours=2)), ("deal", T0 + timedelta(hours=2))]
        assert [a.id for a in timeline_for(session, "contact", 7).activities] == [2, 1]


# ---- isolation -----------------------------------------------------------------------------


def test_another_workspace_can_neither_read_nor_log_against_our_contacts(app, client, ws, token, host,
                                                                         make_workspace, api_token):
    contact_id = make_contact(app, ws)
    post_activity(host, token, type="note", body="secret of Alpha",
                  links=[{"object_type": "contact", "object_id": contact_id}])
    other = make_workspace(name="Beta GmbH")
    other_host, other_token = HostClient(client, other.host), api_token(other)
    assert other_host.api("GET", f"/api/v1/contacts/{contact_id}/timeline", other_token).status_code == 404
    assert other_host.api("GET", f"/api/v1/activities?object_type=contact&object_id={contact_id}",
                          other_token).status_code == 404
    logged = post_activity(other_host, other_token, type="note", body="x",
                           links=[{"object_type": "contact", "object_id": contact_id}])
    assert logged.status_code == 404
    # Alpha's token on Beta's host shows nothing either.
    assert other_host.api("GET", f"/api/v1/contacts/{contact_id}/timeline", token).status_code == 404
    # Ids are per workspace: Beta's own contact with the same id has an empty timeline.
    beta_contact = make_contact(app, other, first="Beta", last="Person")
    assert beta_contact == contact_id
    page = other_host.api("GET", f"/api/v1/contacts/{beta_contact}/timeline", other_token).get_json()
    assert page["items"] == []
    assert count(app, ws, select(func.count()).select_from(Activity)) == 1


# ---- the live API against its document ------------------------------------------------------


def _with_a_real_cursor(case):
    """Cursors are opaque: a generated one stands for "some cursor" and becomes one of
    the shape Kundo makes for timelines and task lists (forged ones have their own tests)."""
    if isinstance(case.query, dict) and case.query.get("cursor"):
        case.query["cursor"] = encode_cursor([T0, len(case.query["cursor"])])
    return case


def _fuzz(operation, root: str, headers: dict, excluded: list) -> None:
    """Valid and invalid requests for one operation, the same ones on every run."""
    strategies = [operation.as_strategy(mode).map(_with_a_real_cursor) if mode == GenerationMode.POSITIVE
                  else operation.as_strategy(mode) for mode in GenerationMode]

    @given(case=st.one_of(strategies))
    @settings(max_examples=8, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    def exercise(case):
        case.call_and_validate(base_url=root, headers=headers, excluded_checks=excluded)

    exercise()


SEMANTIC_RULES = {"POST /api/v1/activities", "POST /api/v1/tasks", "PATCH /api/v1/tasks/{task_id}",
                  "POST /api/v1/contacts/{contact_id}/erase"}


def test_the_timeline_tasks_and_gdpr_operations_keep_the_promises_of_the_document(app, make_workspace, api_token):
    """Generated requests, valid and invalid: no 5xx, every answer as documented.

    Some rules are beyond a schema: an activity's payload per type (documented in
    prose), a task owner's membership, erasure's confirmation equal to the id. Where
    they apply, a generated "valid" request may rightly be refused, so that check is off.
    """
    root = f"http://{TEST_DOMAIN}"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, base_url=root).include(
        tag=["api_crm_timeline", "api_crm_tasks", "api_crm_gdpr"])
    failures, operations_run = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        ws = make_workspace(name="Fuzz GmbH")
        make_contact(app, ws)  # id 1, which generated ids often are: some requests reach real data
        headers = {"Authorization": f"Bearer {api_token(ws)}"}
        excluded = [positive_data_acceptance] if operation.label in SEMANTIC_RULES else []
        try:
            _fuzz(operation, root, headers, excluded)
        except Exception as failure:  # noqa: BLE001 - collected and reported for every operation below
            failures[operation.label] = failure
        operations_run += 1
    assert operations_run == 14
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
