"""The contacts service against real PostgreSQL: e-mails, phones, lifecycle, tags, consent, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kundo.crm.companies.service import create_company
from kundo.crm.contacts import service
from kundo.crm.contacts.errors import ContactError, ContactNotFound, DuplicateEmailError
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.properties.models import PropertyDefinition
from kundo.crm.properties.service import PropertyValidationError
from kundo.crm.tasks.models import Task, TaskLink
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, open_tenant_session


@pytest.fixture
def tdb(app_ctx, make_workspace):
    """A tenant session of a fresh workspace; the test commits when it needs to."""
    workspace = make_workspace()
    session = open_tenant_session(TenantScope.of(db.session.get(Tenant, workspace.tenant_id)))
    yield session
    session.rollback()
    session.close()


def events(session, event_type):
    return session.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id)).all()


def define(session, key, type_, **extra):
    session.add(PropertyDefinition(object_type="contact", key=key, label=key.title(), type=type_, **extra))
    session.flush()


def test_create_contact_stores_every_field_and_announces_it(tdb):
    define(tdb, "budget", "number")
    company = create_company(tdb, name="Acme GmbH", domain="acme.de")
    contact = service.create_contact(
        tdb, first_name=" Ada ", last_name="Lovelace", emails=["Ada@Acme.DE", "ada@private.example"],
        phones=["+49 30 1234-567", "0171 / 555 12 12"], job_title="CTO", owner_id=7, company_id=company.id,
        lifecycle_stage="lead", lead_status="new", source="api", tags=["vip", " VIP ", "berlin"],
        custom={"budget": "12500,50"}, actor_id=7,
    )
    tdb.commit()
    tdb.expire_all()
    stored = tdb.get(Contact, contact.id)
    assert (stored.first_name, stored.last_name, stored.job_title) == ("Ada", "Lovelace", "CTO")
    assert [(row.email, row.is_primary) for row in stored.emails] == [("Ada@acme.de", True),
                                                                      ("ada@private.example", False)]
    assert stored.phones == ["+49 30 1234-567", "0171 / 555 12 12"]
    assert stored.phone_digits == "49301234567 01715551212"
    assert stored.tags == ["vip", "berlin"]
    assert stored.custom == {"budget": 12500.5}
    assert stored.primary_company_id == company.id
    assert list(stored.lifecycle_dates) == ["lead"]
    assert datetime.fromisoformat(stored.lifecycle_dates["lead"]) > datetime.now(UTC) - timedelta(minutes=1)
    [created] = events(tdb, "contact.created")
    assert (created.object_id, created.actor_id) == (contact.id, 7)
    assert created.payload["email"] == "Ada@acme.de" and created.payload["primary_company_id"] == company.id
    [stage] = events(tdb, "lifecycle_stage.changed")
    assert stage.payload == {"from": None, "to": "lead"}


def test_an_email_belongs_to_one_contact_whatever_its_case(tdb):
    first = service.create_contact(tdb, first_name="Grace", last_name="Hopper", emails=["grace@navy.example"])
    with pytest.raises(DuplicateEmailError) as refused:
        service.create_contact(tdb, emails=["GRACE@Navy.example"])
    assert refused.value.contact_id == first.id
    assert "grace@navy.example" in str(refused.value) and "Grace Hopper" in str(refused.value)
    assert str(first.id) in str(refused.value)
    assert tdb.scalar(select(func.count()).select_from(Contact)) == 1


@pytest.mark.parametrize(("field", "value", "named"), [
    ("emails", ["not-an-address"], "emails"),
    ("emails", ["two@@example.com"], "emails"),
    ("phones", ["call me maybe"], "phones"),
    ("lifecycle_stage", "prospect", "lifecycle_stage"),
    ("first_name", "x" * 201, "first_name"),
    ("tags", ["t" * 61], "tags"),
])
def test_bad_input_is_refused_naming_the_field(tdb, field, value, named):
    with pytest.raises(ContactError) as refused:
        service.create_contact(tdb, **{field: value})
    assert refused.value.field == named
    assert tdb.scalar(select(func.count()).select_from(Contact)) == 0


def test_custom_values_go_through_the_property_definitions(tdb):
    define(tdb, "size", "enum", options=[{"value": "s", "label": "S"}, {"value": "l", "label": "L"}])
    define(tdb, "region", "text", required=True)
    with pytest.raises(PropertyValidationError) as refused:
        service.create_contact(tdb, custom={"size": "xl", "colour": "red"})
    assert set(refused.value.errors) == {"size", "colour", "region"}
    contact = service.create_contact(tdb, custom={"size": "s", "region": "Nord"})
    service.update_contact(tdb, contact, custom={"size": None})
    assert contact.custom == {"region": "Nord"}
    with pytest.raises(PropertyValidationError) as refused:
        service.update_contact(tdb, contact, custom={"region": ""})
    assert refused.value.errors == {"region": "This property is required."}


def test_update_changes_only_the_given_fields_and_says_what_changed(tdb):
    contact = service.create_contact(tdb, first_name="Ada", last_name="Byron", phones=["030 1"], job_title="CTO")
    service.update_contact(tdb, contact.id, last_name="Lovelace", phones=["+44 20 7946 0000"], owner_id=3,
                           actor_id=3)
    assert (contact.first_name, contact.last_name, contact.job_title) == ("Ada", "Lovelace", "CTO")
    assert contact.phone_digits == "442079460000"
    [updated] = events(tdb, "contact.updated")
    assert updated.payload["changes"] == {
        "last_name": {"from": "Byron", "to": "Lovelace"},
        "phones": {"from": ["030 1"], "to": ["+44 20 7946 0000"]},
        "owner_id": {"from": None, "to": 3},
    }
    service.update_contact(tdb, contact, first_name="Ada")
    assert len(events(tdb, "contact.updated")) == 1  # nothing changed, nothing announced
    with pytest.raises(TypeError):
        service.update_contact(tdb, contact, emails=["x@example.com"])
    with pytest.raises(ContactNotFound):
        service.update_contact(tdb, 999_999, first_name="Nobody")


def test_lifecycle_dates_remember_when_each_stage_was_first_reached(tdb):
    contact = service.create_contact(tdb, lifecycle_stage="subscriber")
    service.set_lifecycle_stage(tdb, contact, "lead")
    first_lead = contact.lifecycle_dates["lead"]
    service.set_lifecycle_stage(tdb, contact, "customer")
    service.set_lifecycle_stage(tdb, contact, "lead")
    assert contact.lifecycle_stage == "lead"
    assert contact.lifecycle_dates["lead"] == first_lead
    assert set(contact.lifecycle_dates) == {"subscriber", "lead", "customer"}
    moves = [(event.payload["from"], event.payload["to"]) for event in events(tdb, "lifecycle_stage.changed")]
    assert moves == [(None, "subscriber"), ("subscriber", "lead"), ("lead", "customer"), ("customer", "lead")]
    tdb.commit()
    tdb.expire_all()
    assert set(tdb.get(Contact, contact.id).lifecycle_dates) == {"subscriber", "lead", "customer"}


def test_emails_can_be_added_removed_and_made_primary(tdb):
    contact = service.create_contact(tdb, emails=["one@example.com"])
    other = service.create_contact(tdb, emails=["taken@example.com"])
    service.add_email(tdb, contact, "two@example.com")
    assert [(row.email, row.is_primary) for row in contact.emails] == [("one@example.com", True),
                                                                       ("two@example.com", False)]
    service.add_email(tdb, contact, "TWO@example.com", primary=True)
    assert [(row.email, row.is_primary) for row in contact.emails] == [("two@example.com", True),
                                                                       ("one@example.com", False)]
    with pytest.raises(DuplicateEmailError) as refused:
        service.add_email(tdb, contact, "Taken@Example.com")
    assert refused.value.contact_id == other.id
    service.remove_email(tdb, contact, "two@example.com")
    assert [(row.email, row.is_primary) for row in contact.emails] == [("one@example.com", True)]
    with pytest.raises(ContactError):
        service.remove_email(tdb, contact, "taken@example.com")
    tdb.commit()
    assert tdb.scalar(select(func.count()).select_from(ContactEmail).where(ContactEmail.is_primary)) == 2


def test_tags_are_added_and_removed_without_case_repeats(tdb):
    contact = service.create_contact(tdb, tags=["Partner"])
    service.add_tags(tdb, contact, ["partner", "Messe 2026", ""])
    assert contact.tags == ["Partner", "Messe 2026"]
    service.remove_tags(tdb, contact, ["PARTNER"])
    assert contact.tags == ["Messe 2026"]


def test_consent_decisions_are_kept_as_history_in_the_timeline(tdb):
    contact = service.create_contact(tdb, emails=["gdpr@example.com"],
                                     consent={"status": "granted", "source": "Newsletter form on /blog"})
    with pytest.raises(ContactError) as refused:
        service.set_consent(tdb, contact, "withdrawn", source="")
    assert refused.value.field == "consent.source"
    with pytest.raises(ContactError):
        service.set_consent(tdb, contact, "maybe", source="phone")
    with pytest.raises(ContactError):
        service.set_consent(tdb, contact, "granted", source="phone", at=datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(ContactError) as refused:
        service.create_contact(tdb, consent={"status": "granted", "source": "form", "at": "yesterday"})
    assert refused.value.field == "consent.at"
    withdrawn_at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    service.set_consent(tdb, contact, "withdrawn", source="Unsubscribe link in mailing 42", at=withdrawn_at,
                        actor_id=5)
    assert (contact.consent_status, contact.consent_at, contact.consent_source) == (
        "withdrawn", withdrawn_at, "Unsubscribe link in mailing 42")
    history = tdb.scalars(select(Activity).join(ActivityLink).where(
        ActivityLink.object_type == "contact", ActivityLink.object_id == contact.id).order_by(Activity.id)).all()
    assert [(a.type, a.payload["status"], a.payload["previous"], a.payload["source"]) for a in history] == [
        ("system", "granted", "unknown", "Newsletter form on /blog"),
        ("system", "withdrawn", "granted", "Unsubscribe link in mailing 42"),
    ]
    assert history[1].occurred_at == withdrawn_at and history[1].actor_id == 5
    [changed] = events(tdb, "contact.updated")
    assert changed.payload["changes"] == {"consent_status": {"from": "granted", "to": "withdrawn"}}


def test_delete_contact_frees_its_email_and_drops_what_only_it_had(tdb):
    company = create_company(tdb, name="Shared AG")
    contact = service.create_contact(tdb, emails=["leaving@example.com"], company_id=company.id)
    own = Activity(type="note", subject="only about the contact",
                   links=[ActivityLink(object_type="contact", object_id=contact.id)])
    shared = Activity(type="note", subject="also about the company",
                      links=[ActivityLink(object_type="contact", object_id=contact.id),
                             ActivityLink(object_type="company", object_id=company.id)])
    task = Task(title="Call back", links=[TaskLink(object_type="contact", object_id=contact.id)])
    tdb.add_all([own, shared, task])
    tdb.flush()
    own_id, shared_id, task_id, contact_id = own.id, shared.id, task.id, contact.id
    service.delete_contact(tdb, contact, actor_id=1)
    tdb.commit()
    tdb.expire_all()
    assert tdb.get(Contact, contact_id) is None
    assert tdb.get(Activity, own_id) is None
    assert [(link.object_type, link.object_id) for link in tdb.get(Activity, shared_id).links] == [
        ("company", company.id)]
    assert tdb.get(Task, task_id).links == []
    [deleted] = events(tdb, "contact.deleted")
    assert deleted.object_id == contact_id and deleted.payload["email"] == "leaving@example.com"
    again = service.create_contact(tdb, emails=["Leaving@example.com"])
    assert again.id != contact_id


# --- API ---------------------------------------------------------------------------------------------------

@pytest.fixture
def api(client, make_workspace, api_token):
    """call(method, path, json=None, token=None) on a fresh workspace with its owner's token."""
    from kundo.testing.web import HostClient

    workspace = make_workspace()
    host = HostClient(client, workspace.host)
    token = api_token(workspace)

    def call(method, path, json=None, token_=None, **kwargs):
        return host.api(method, f"/api/v1{path}", token_ or token, json=json, **kwargs)

    call.workspace = workspace
    return call


def test_api_creates_reads_changes_and_deletes_a_contact(api, app):
    created = api("POST", "/contacts", {
        "first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@analytical.example"], "phones": ["030 123"],
        "lifecycle_stage": "lead", "tags": ["vip"], "owner_id": api.workspace.owner_id,
        "consent": {"status": "granted", "source": "Trade fair sign-up sheet"},
    })
    assert created.status_code == 201, created.json
    body = created.json
    assert body["name"] == "Ada Lovelace" and body["email"] == "ada@analytical.example"
    assert body["emails"] == [{"email": "ada@analytical.example", "primary": True}]
    assert body["consent"]["status"] == "granted" and body["consent"]["source"] == "Trade fair sign-up sheet"
    assert set(body["lifecycle_dates"]) == {"lead"} and body["owner_id"] == api.workspace.owner_id
    contact_id = body["id"]
    assert api("GET", f"/contacts/{contact_id}").json["phones"] == ["030 123"]
    patched = api("PATCH", f"/contacts/{contact_id}", {"job_title": "Analyst", "lifecycle_stage": "customer"})
    assert patched.status_code == 200
    assert patched.json["job_title"] == "Analyst" and patched.json["first_name"] == "Ada"
    assert set(patched.json["lifecycle_dates"]) == {"lead", "customer"}
    assert api("DELETE", f"/contacts/{contact_id}").status_code == 204
    gone = api("GET", f"/contacts/{contact_id}")
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"


def test_api_names_the_contact_that_has_an_email_already(api):
    first = api("POST", "/contacts", {"first_name": "Grace", "emails": ["grace@example.com"]}).json
    response = api("POST", "/contacts", {"emails": ["Grace@Example.com"]})
    assert response.status_code == 409
    assert f"id {first['id']}" in response.json["detail"]
    assert "grace@example.com" in response.json["detail"] and "Grace" in response.json["detail"]
    assert response.json["errors"]["emails"]


def test_api_refuses_bad_fields_with_422_naming_them(api, make_workspace, add_member):
    api_member, _email = add_member(api.workspace)
    stranger = make_workspace().owner_id
    cases = [
        ({"emails": ["nope"]}, "emails"),
        ({"lifecycle_stage": "prospect"}, "lifecycle_stage"),
        ({"owner_id": stranger}, "owner_id"),
        ({"company_id": 123456}, "company_id"),
        ({"phones": ["call me"]}, "phones"),
        ({"consent": {"status": "granted"}}, "consent"),
        ({"first_name": 5}, "first_name"),
    ]
    for payload, field in cases:
        response = api("POST", "/contacts", payload)
        assert response.status_code == 422, (payload, response.json)
        assert field in response.json["errors"], (payload, response.json)
    assert api("POST", "/contacts", {"consent": {"status": "granted"}}).json["errors"]["consent"][0].startswith(
        "source: ")
    assert api("POST", "/contacts", {"owner_id": api_member}).status_code == 201


def test_api_emails_tags_consent_and_companies_of_a_contact(api):
    contact = api("POST", "/contacts", {"emails": ["one@example.com"], "tags": ["A"]}).json
    path = f"/contacts/{contact['id']}"
    added = api("POST", f"{path}/emails", {"email": "two@example.com", "primary": True})
    assert [row["email"] for row in added.json["emails"]] == ["two@example.com", "one@example.com"]
    assert api("DELETE", f"{path}/emails/two@example.com").json["email"] == "one@example.com"
    assert api("DELETE", f"{path}/emails/never@example.com").status_code == 404
    tagged = api("POST", f"{path}/tags", {"add": ["b", "a"], "remove": ["A"]})
    assert tagged.json["tags"] == ["b"]
    unproven = api("POST", f"{path}/consent", {"status": "granted"})
    assert unproven.status_code == 422 and list(unproven.json["errors"]) == ["source"]
    consent = api("POST", f"{path}/consent", {"status": "withdrawn", "source": "Phone call",
                                               "at": "2026-01-05T10:00:00+01:00"})
    assert consent.json["consent"] == {"status": "withdrawn", "source": "Phone call",
                                       "at": "2026-01-05T09:00:00+00:00"}
    company = api("POST", "/companies", {"domain": "acme.example"}).json
    api("PATCH", path, {"company_id": company["id"]})
    companies = api("GET", f"{path}/companies").json
    assert companies == [{"company": companies[0]["company"], "role": None, "primary": True}]
    assert companies[0]["company"]["name"] == "Acme"
    cleared = api("PATCH", path, {"company_id": None}).json
    assert cleared["primary_company_id"] is None
    assert api("GET", f"{path}/companies").json[0]["primary"] is False  # the link stays, unmarked


def test_api_custom_property_errors_name_the_property(api):
    api("POST", "/properties/contact", {"key": "budget", "label": "Budget", "type": "number"})
    response = api("POST", "/contacts", {"custom": {"budget": "lots", "colour": "red"}})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["custom"]
    assert sorted(message.split(":")[0] for message in response.json["errors"]["custom"]) == ["budget", "colour"]
    contact = api("POST", "/contacts", {"custom": {"budget": "1500"}}).json
    assert contact["custom"] == {"budget": 1500}
    assert api("PATCH", f"/contacts/{contact['id']}", {"custom": {"budget": None}}).json["custom"] == {}


def test_api_duplicates_and_merge(api):
    company = api("POST", "/companies", {"name": "Acme"}).json
    keep = api("POST", "/contacts", {"first_name": "Jon", "last_name": "Smith", "company_id": company["id"],
                                     "emails": ["jon@acme.example"]}).json
    other = api("POST", "/contacts", {"first_name": "John", "last_name": "Smith", "company_id": company["id"],
                                      "emails": ["john@acme.example"]}).json
    [suggestion] = api("GET", "/contacts/duplicates").json
    assert [c["id"] for c in suggestion["contacts"]] == [keep["id"], other["id"]]
    assert suggestion["reasons"] == ["similar_name_same_company", "similar_name_same_email_domain"]
    assert 0.5 < suggestion["score"] <= 1
    assert api("GET", f"/contacts/duplicates?contact_id={other['id']}").json == [suggestion]
    assert api("GET", "/contacts/duplicates?contact_id=999999").status_code == 404
    assert api("POST", f"/contacts/{keep['id']}/merge", {"merge_id": keep["id"]}).status_code == 422
    assert api("POST", f"/contacts/{keep['id']}/merge", {"merge_id": 999999}).status_code == 404
    assert api("POST", "/contacts/999999/merge", {"merge_id": keep["id"]}).status_code == 404
    merged = api("POST", f"/contacts/{keep['id']}/merge", {"merge_id": other["id"]})
    assert merged.status_code == 200
    assert [row["email"] for row in merged.json["emails"]] == ["jon@acme.example", "john@acme.example"]
    assert api("GET", f"/contacts/{other['id']}").status_code == 404
    assert api("GET", "/contacts/duplicates").json == []


def test_api_match_for_integrations(api):
    first = api("POST", "/match", {"email": "Lea@Firma.example", "first_name": "Lea", "source": "form:contact"})
    assert first.status_code == 200
    assert first.json["contact_created"] and first.json["company_created"]
    assert first.json["contact"]["first_name"] == "Lea" and first.json["company"]["domain"] == "firma.example"
    again = api("POST", "/match", {"email": "lea@firma.example", "first_name": "Someone else"}).json
    assert not again["contact_created"] and again["contact"]["id"] == first.json["contact"]["id"]
    assert again["contact"]["first_name"] == "Lea"
    looked_up = api("POST", "/match", {"email": "new@other.example", "create": False}).json
    assert looked_up == {"contact": None, "company": None, "contact_created": False, "company_created": False}
    assert api("POST", "/match", {"email": "bad"}).status_code == 422


def test_api_needs_the_right_scope(api, api_token):
    read_only = api_token(api.workspace, scopes=("read",))
    contact = api("POST", "/contacts", {"first_name": "X"}).json
    assert api("GET", f"/contacts/{contact['id']}", token_=read_only).status_code == 200
    assert api("POST", "/contacts", {"first_name": "X"}, token_=read_only).status_code == 403
    assert api("DELETE", f"/contacts/{contact['id']}", token_=read_only).status_code == 403
    assert api("POST", "/match", {"email": "x@example.com"}, token_=read_only).status_code == 403
    assert api("GET", f"/contacts/{contact['id']}", token_="kundo_nope_nope").status_code == 401


def test_another_workspace_sees_none_of_the_contacts(api, client, make_workspace, api_token):
    from kundo.testing.web import HostClient

    first = api("POST", "/contacts", {"first_name": "First of A"}).json
    contact = api("POST", "/contacts", {"first_name": "Private", "emails": ["private@a.example"]}).json
    mine = api("POST", "/contacts", {"first_name": "Mine"}).json
    theirs = make_workspace()
    other_host, other_token = HostClient(client, theirs.host), api_token(theirs)

    def other(method, path, json=None):
        return other_host.api(method, f"/api/v1{path}", other_token, json=json)

    own = other("POST", "/contacts", {"first_name": "Theirs"}).json
    # Ids count per workspace: the same number names B's own contact, never A's.
    assert own["id"] == first["id"] and other("GET", f"/contacts/{own['id']}").json["first_name"] == "Theirs"
    for method, path, json in [("GET", f"/contacts/{contact['id']}", None),
                               ("PATCH", f"/contacts/{contact['id']}", {"first_name": "Hacked"}),
                               ("DELETE", f"/contacts/{contact['id']}", None),
                               ("GET", f"/contacts/{contact['id']}/companies", None),
                               ("POST", f"/contacts/{contact['id']}/tags", {"add": ["x"]}),
                               ("POST", f"/contacts/{own['id']}/merge", {"merge_id": contact["id"]}),
                               ("GET", f"/contacts/duplicates?contact_id={mine['id']}", None)]:
        assert other(method, path, json).status_code == 404, (method, path)
    # The address is free in the other workspace: e-mails are unique per workspace only.
    assert other("POST", "/contacts", {"emails": ["private@a.example"]}).status_code == 201
    assert other("POST", "/match", {"email": "PRIVATE@a.example"}).json["contact_created"] is False
    assert api("GET", f"/contacts/{contact['id']}").json["first_name"] == "Private"
    # The token of one workspace does not work on another's address.
    assert api("GET", f"/contacts/{contact['id']}", token_=other_token).status_code == 404


def test_the_crm_api_keeps_the_promises_of_its_document(app, make_workspace, api_token):
    """Generated requests, valid and invalid, for every contacts, companies, match and
    property operation: no 5xx, and every answer matches the documented status and schema.

    A schema-valid request may still be refused with 422 here: custom property values
    depend on the workspace's own definitions, and rules such as "consent is not given
    in the future" or "an e-mail looks like one" are beyond what the document can say.
    """
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import positive_data_acceptance

    root = "http://kundo.test"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, base_url=root).include(
        tag=["api_crm_contacts", "api_crm_companies", "api_crm_properties"])
    workspace = make_workspace(name="Fuzz CRM GmbH")
    headers = {"Authorization": f"Bearer {api_token(workspace)}"}
    failures, operations_run = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=st.one_of(operation.as_strategy(mode) for mode in GenerationMode))
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(base_url=root, headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            exercise()
        except Exception as failure:  # noqa: BLE001 - collected and reported for every operation below
            failures[operation.label] = failure
        operations_run += 1
    assert operations_run == 25
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
