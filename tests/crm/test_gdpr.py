"""GDPR: the export holds everything about a contact; erasure leaves nothing that
identifies them anywhere in the tenant schema, keeps others' records, and is audited
without personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text

from kundo.crm.companies.service import create_company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.contacts.service import create_contact, find_contact_by_email, update_contact
from kundo.crm.gdpr.scrubbing import Scrubber
from kundo.crm.gdpr.service import erase_contact, export_contact
from kundo.crm.properties.service import create_definition
from kundo.crm.tasks.service import create_task
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.crm.timeline.service import log_activity
from kundo.platform.audit.models import AuditEntry
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.web import HostClient

#: Everything that identifies Wilhelmina; none of it may survive her erasure.
PERSONAL = ["Wilhelmina", "Zyxwortel", "wilhelmina.z@quokka.example", "wz.private@mailbox.example",
            "+49 30 5550123", "49305550123", "Chief Quokka Officer", "Head of Quokkas", "Zitherspiel",
            "203.0.113.7"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def tenant_of(app, workspace) -> Tenant:
    with app.app_context():
        return db.session.get(Tenant, workspace.tenant_id)


@pytest.fixture
def ws(make_workspace):
    return make_workspace(name="Alpha AG")


@pytest.fixture
def admin_token(ws, api_token):
    return api_token(ws)


@pytest.fixture
def host(client, ws):
    return HostClient(client, ws.host)


@pytest.fixture
def people(app, ws):
    """Wilhelmina (to be erased) and Bertram, with a company, a custom value, consent,
    a shared e-mail, activities of her own, a task and the events all this emitted."""
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        company = create_company(session, name="Quokka Systems GmbH", domain="quokka.example")
        create_definition(session, "contact", key="hobby", label="Hobby", type="text")
        her = create_contact(
            session, first_name="Wilhelmina", last_name="Zyxwortel", job_title="Chief Quokka Officer",
            emails=["wilhelmina.z@quokka.example", "wz.private@mailbox.example"], phones=["+49 30 5550123"],
            company_id=company.id, custom={"hobby": "Zitherspiel im Harz"}, tags=["vip"], lifecycle_stage="lead",
            consent={"status": "granted", "source": "Newsletter form, IP 203.0.113.7", "at": T0},
        )
        update_contact(session, her, job_title="Head of Quokkas")
        him = create_contact(session, first_name="Bertram", last_name="Olafsen", emails=["bertram@quokka.example"],
                             company_id=company.id)
        own_call = log_activity(
            session, "call", links=[("contact", her.id)], occurred_at=T0, subject="Call with Wilhelmina",
            body="Wilhelmina wants a demo.", payload={"direction": "out", "duration_seconds": 300,
                                                      "outcome": "connected", "phone_number": "+49 30 5550123"})
        shared = log_activity(
            session, "email", links=[("contact", her.id), ("contact", him.id), ("company", company.id)],
            occurred_at=T0, subject="Demo for Wilhelmina Zyxwortel and Bertram",
            body="Hi Bertram, WILHELMINA (wilhelmina.z@quokka.example) asked for a demo. Annabelle joins too.",
            payload={"direction": "out", "from": "sales@alpha.example",
                     "to": ["wilhelmina.z@quokka.example", "bertram@quokka.example"], "message_id": "<m1@alpha>"},
            external_id="gmail:m1")
        form = log_activity(
            session, "form_submission", links=[("contact", her.id), ("company", company.id)], occurred_at=T0,
            payload={"form": "Newsletter", "fields": {"email": "wz.private@mailbox.example",
                                                      "name": "Wilhelmina Zyxwortel"}},
            external_id="form:wz.private@mailbox.example:1")
        meeting = log_activity(
            session, "meeting", links=[("contact", her.id), ("deal", 9)], occurred_at=T0, subject="Quokka demo",
            payload={"starts_at": "2026-03-03T10:00:00Z", "ends_at": "2026-03-03T11:00:00Z",
                     "attendees": ["wilhelmina.z@quokka.example"]})
        task = create_task(session, title="Call Wilhelmina Zyxwortel back", notes="Her number: +49 30 5550123",
                           links=[("contact", her.id)], owner_id=ws.owner_id)
        return {"her": her.id, "him": him.id, "company": company.id, "own_call": own_call.id, "shared": shared.id,
                "form": form.id, "meeting": meeting.id, "task": task.id}


def mentions_in_tenant_schema(app, ws, terms) -> list[tuple[str, str, str]]:
    """(table, column, term) for every text-like column of the tenant schema that contains a term."""
    hits = []
    with app.app_context(), db.engine.connect() as conn:
        columns = conn.execute(text(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :schema "
            "AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'USER-DEFINED')"),
            {"schema": ws.schema_name}).all()
        assert len(columns) > 20  # the check really looks at the CRM tables
        for table, column in columns:
            for term in terms:
                found = conn.scalar(text(
                    f'SELECT count(*) FROM "{ws.schema_name}"."{table}" WHERE "{column}"::text ILIKE :term'),
                    {"term": f"%{term}%"})
                if found:
                    hits.append((table, column, term))
    return hits


# ---- export --------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_contact(app, ws, admin_token, host, people):
    response = host.api("GET", f"/api/v1/contacts/{people['her']}/gdpr-export", admin_token)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contact-{people["her"]}-gdpr-export.json"')
    export = json.loads(response.get_data(as_text=True))
    assert export["format"] == "kundo.contact-export/1"
    record = export["contact"]
    assert (record["first_name"], record["last_name"], record["job_title"]) == (
        "Wilhelmina", "Zyxwortel", "Head of Quokkas")
    assert record["tags"] == ["vip"] and record["lifecycle_stage"] == "lead" and record["erased_at"] is None
    assert export["emails"] == [{"email": "wilhelmina.z@quokka.example", "is_primary": True},
                                {"email": "wz.private@mailbox.example", "is_primary": False}]
    assert export["phones"] == ["+49 30 5550123"]
    assert [(c["name"], c["is_primary"]) for c in export["companies"]] == [("Quokka Systems GmbH", True)]
    assert export["custom_values"] == [{"key": "hobby", "label": "Hobby", "value": "Zitherspiel im Harz"}]
    consent = export["consent"]
    assert consent["status"] == "granted" and consent["source"] == "Newsletter form, IP 203.0.113.7"
    assert [entry["payload"]["status"] for entry in consent["history"]] == ["granted"]
    activities = {a["id"]: a for a in export["activities"]}
    assert set(activities) >= {people[k] for k in ("own_call", "shared", "form", "meeting")}
    assert len(activities) == 5  # and the consent entry
    assert activities[people["shared"]]["payload"]["to"] == ["wilhelmina.z@quokka.example", "bertram@quokka.example"]
    assert {"object_type": "deal", "object_id": 9} in activities[people["meeting"]]["links"]
    assert [t["title"] for t in export["tasks"]] == ["Call Wilhelmina Zyxwortel back"]
    event_types = [(e["type"], e["object_type"]) for e in export["events"]]
    assert ("contact.created", "contact") in event_types and ("contact.updated", "contact") in event_types
    assert event_types.count(("activity.logged", "activity")) == 5  # four logged here, and the consent entry
    assert ("task.created", "task") in event_types
    created = next(e for e in export["events"] if e["type"] == "contact.created")
    assert created["payload"]["email"] == "wilhelmina.z@quokka.example"
    # Nothing about Bertram beyond the shared e-mail.
    assert "Olafsen" not in response.get_data(as_text=True)


def test_the_export_of_a_missing_contact_is_404(app, ws, admin_token, host):
    assert host.api("GET", "/api/v1/contacts/31337/gdpr-export", admin_token).status_code == 404


# ---- erasure -------------------------------------------------------------------------------


def test_erasure_leaves_no_trace_of_the_person_in_the_tenant_schema(app, ws, admin_token, host, people):
    assert mentions_in_tenant_schema(app, ws, PERSONAL)  # the check finds what is there
    response = host.api("POST", f"/api/v1/contacts/{people['her']}/erase", admin_token,
                        json={"confirm": str(people["her"])})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["already_erased"] is False and result["erased_at"]
    assert result["counts"] == {"activities_blanked": 4, "activities_unlinked": 1, "tasks_scrubbed": 1,
                                "events_scrubbed": result["counts"]["events_scrubbed"], "emails_deleted": 2}
    assert mentions_in_tenant_schema(app, ws, PERSONAL) == []

    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        her = session.get(Contact, people["her"])
        assert her.erased_at is not None
        assert (her.first_name, her.last_name, her.job_title, her.phones, her.custom, her.consent_source) == (
            None, None, None, [], {}, None)
        assert her.primary_company_id == people["company"] and her.lifecycle_stage == "lead"
        assert session.scalars(select(ContactEmail).where(ContactEmail.contact_id == her.id)).all() == []
        for address in ("wilhelmina.z@quokka.example", "WZ.Private@mailbox.example"):
            assert find_contact_by_email(session, address) is None
        own_call = session.get(Activity, people["own_call"])
        assert (own_call.type, own_call.subject, own_call.body, own_call.payload) == ("call", None, None, {})
        shared = session.get(Activity, people["shared"])
        assert shared.subject == "Demo for [erased] and Bertram"
        assert shared.body == "Hi Bertram, [erased] ([erased]) asked for a demo. Annabelle joins too."
        assert shared.payload["to"] == ["[erased]", "bertram@quokka.example"]
        assert {(link.object_type, link.object_id) for link in shared.links} == {
            ("contact", people["him"]), ("company", people["company"])}
        assert session.get(Activity, people["form"]).external_id == f"erased:{people['form']}"
        assert session.get(Activity, people["shared"]).external_id == "gmail:m1"
        bertram = session.get(Contact, people["him"])
        assert (bertram.first_name, bertram.primary_email) == ("Bertram", "bertram@quokka.example")

    timeline = host.api("GET", f"/api/v1/contacts/{people['her']}/timeline", admin_token).get_json()
    assert people["shared"] not in [a["id"] for a in timeline["items"]]
    assert len(timeline["items"]) == 4
    task = host.api("GET", f"/api/v1/tasks/{people['task']}", admin_token).get_json()
    assert (task["title"], task["notes"]) == ("Call [erased] back", "Her number: [erased]")


def test_the_audit_entry_names_the_contact_by_id_only(app, ws, admin_token, host, people):
    host.api("POST", f"/api/v1/contacts/{people['her']}/erase", admin_token, json={"confirm": str(people["her"])})
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == ws.tenant_id,
                                                              AuditEntry.action == "contact.erased")).all()
        assert [(e.target, e.actor_user_id) for e in entries] == [(f"contact:{people['her']}", ws.owner_id)]
        recorded = json.dumps({"target": entries[0].target, "data": entries[0].data}).lower()
        assert entries[0].data["emails_deleted"] == 2
        for term in PERSONAL:
            assert term.lower() not in recorded


def test_erasing_twice_is_harmless_and_audited_once(app, ws, admin_token, host, people):
    path = f"/api/v1/contacts/{people['her']}/erase"
    first = host.api("POST", path, admin_token, json={"confirm": str(people["her"])}).get_json()
    again = host.api("POST", path, admin_token, json={"confirm": str(people["her"])})
    assert again.status_code == 200
    assert again.get_json()["already_erased"] is True
    assert again.get_json()["erased_at"] == first["erased_at"]

    def audit_count():
        with app.app_context():
            return len(db.session.scalars(select(AuditEntry).where(
                AuditEntry.tenant_id == ws.tenant_id, AuditEntry.action == "contact.erased")).all())

    assert audit_count() == 1
    # Had the audit commit failed after the erasure, repeating the request records it.
    with app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.tenant_id == ws.tenant_id,
                                                    AuditEntry.action == "contact.erased"))
        db.session.commit()
    host.api("POST", path, admin_token, json={"confirm": str(people["her"])})
    assert audit_count() == 1


def test_an_erased_contact_collects_no_new_activities(app, ws, admin_token, host, people):
    host.api("POST", f"/api/v1/contacts/{people['her']}/erase", admin_token, json={"confirm": str(people["her"])})
    response = host.api("POST", "/api/v1/activities", admin_token, json={
        "type": "note", "body": "Wilhelmina called", "links": [{"object_type": "contact", "object_id": people["her"]}]})
    assert response.status_code == 404


def test_erasure_needs_an_admin_and_the_contacts_id_as_confirmation(app, ws, host, people, add_member, api_token):
    member_id, _email = add_member(ws, role="member")
    path = f"/api/v1/contacts/{people['her']}/erase"
    assert host.api("POST", path, api_token(ws, user_id=member_id), json={"confirm": str(people["her"])}
                    ).status_code == 403
    admin_id, _email = add_member(ws, role="admin")
    admin = api_token(ws, user_id=admin_id)
    wrong = host.api("POST", path, admin, json={"confirm": str(people["him"])})
    assert wrong.status_code == 422 and list(wrong.get_json()["errors"]) == ["confirm"]
    assert host.api("POST", path, admin, json={}).status_code == 422
    assert host.api("POST", "/api/v1/contacts/31337/erase", admin, json={"confirm": "31337"}).status_code == 404
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        assert session.get(Contact, people["her"]).first_name == "Wilhelmina"
    assert host.api("POST", path, admin, json={"confirm": str(people["her"])}).status_code == 200


def test_the_service_exports_an_erased_contact_without_personal_data(app_ctx, ws, people):
    with tenant_session(tenant_of(app_ctx, ws)) as session:
        result = erase_contact(session, people["her"], actor_id=ws.owner_id)
        assert result.audit == {"action": "contact.erased", "target": f"contact:{people['her']}",
                                "data": result.counts}
        export = json.dumps(export_contact(session, people["her"]))
        links = session.scalars(select(ActivityLink).where(ActivityLink.object_id == people["her"],
                                                           ActivityLink.object_type == "contact")).all()
    assert len(links) == 4
    assert json.loads(export)["contact"]["erased_at"]
    for term in PERSONAL:
        assert term.lower() not in export.lower()


def test_the_scrubber_replaces_whole_names_ignoring_case_and_addresses_anywhere():
    scrubber = Scrubber(words=["Anna Schmidt", "Anna", "Schmidt"], literals=["anna@example.com"])
    assert scrubber.text("ANNA SCHMIDT met Annabelle; mail Anna@Example.com, Schmidtke stays") == (
        "[erased] met Annabelle; mail [erased], Schmidtke stays")
    assert scrubber.json({"to": ["anna@example.com", "b@example.com"], "n": 3, "Anna": None}) == {
        "to": ["[erased]", "b@example.com"], "n": 3, "[erased]": None}
    assert not Scrubber(words=[None, " ", "x"])


# ---- isolation -----------------------------------------------------------------------------


def test_another_workspace_can_neither_export_nor_erase_our_contacts(app, client, ws, admin_token, people,
                                                                     make_workspace, api_token):
    other = make_workspace(name="Beta GmbH")
    beta, beta_token = HostClient(client, other.host), api_token(other)
    her = people["her"]
    assert beta.api("GET", f"/api/v1/contacts/{her}/gdpr-export", beta_token).status_code == 404
    assert beta.api("POST", f"/api/v1/contacts/{her}/erase", beta_token, json={"confirm": str(her)}).status_code == 404
    # Our token on their host is refused before it reaches anything.
    assert beta.api("GET", f"/api/v1/contacts/{her}/gdpr-export", admin_token).status_code == 404
    with app.app_context(), tenant_session(tenant_of(app, ws)) as session:
        assert session.get(Contact, her).first_name == "Wilhelmina"
