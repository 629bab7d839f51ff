"""The companies service against real PostgreSQL: domains, fields, contact links, delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kundo.crm.companies import service
from kundo.crm.companies.domains import company_name_from_domain, normalise_domain
from kundo.crm.companies.errors import CompanyError, CompanyNotFound, DuplicateDomainError
from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.errors import ContactNotFound
from kundo.crm.contacts.models import Contact
from kundo.crm.contacts.service import create_contact
from kundo.crm.timeline.models import Activity, ActivityLink
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, open_tenant_session


@pytest.fixture
def tdb(app_ctx, make_workspace):
    workspace = make_workspace()
    session = open_tenant_session(TenantScope.of(db.session.get(Tenant, workspace.tenant_id)))
    yield session
    session.rollback()
    session.close()


def events(session, event_type):
    return session.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id)).all()


def links(session, contact_id):
    return session.execute(select(ContactCompany.company_id, ContactCompany.is_primary)
                           .where(ContactCompany.contact_id == contact_id)
                           .order_by(ContactCompany.company_id)).all()


@pytest.mark.parametrize(("typed", "stored"), [
    ("acme.de", "acme.de"),
    ("ACME.DE.", "acme.de"),
    ("https://www.Acme.de/impressum?x=1", "acme.de"),
    ("www.acme.de", "acme.de"),
    ("http://shop.acme.de:8080/", "shop.acme.de"),
    ("max.mustermann@Acme.de", "acme.de"),
    ("müller-bau.de", "müller-bau.de"),
    ("  ", None),
])
def test_domains_are_stored_in_one_spelling(typed, stored):
    assert normalise_domain(typed) == stored


@pytest.mark.parametrize("typed", ["acme", "not a domain", "https://", "-acme.de", "192.168.0.1", "acme_.de"])
def test_things_that_are_no_domain_are_refused(typed):
    with pytest.raises(CompanyError) as refused:
        normalise_domain(typed)
    assert refused.value.field == "domain"


@pytest.mark.parametrize(("domain", "name"), [
    ("acme.de", "Acme"), ("acme-gmbh.co.uk", "Acme-Gmbh"), ("mail.acme.com", "Acme"), ("kundo.com.au", "Kundo"),
])
def test_a_company_known_only_by_its_domain_gets_a_readable_name(domain, name):
    assert company_name_from_domain(domain) == name


def test_create_company_normalises_and_announces(tdb):
    company = service.create_company(tdb, domain="https://www.beispiel-werke.de/kontakt", industry="Maschinenbau",
                                     size=120, country="de", city="Ulm", owner_id=4, actor_id=4)
    tdb.commit()
    tdb.expire_all()
    stored = tdb.get(Company, company.id)
    assert (stored.name, stored.domain, stored.country, stored.size) == ("Beispiel-Werke", "beispiel-werke.de",
                                                                         "DE", 120)
    [created] = events(tdb, "company.created")
    assert created.object_id == company.id and created.payload["domain"] == "beispiel-werke.de"
    with pytest.raises(CompanyError) as refused:
        service.create_company(tdb)
    assert refused.value.field == "name"


@pytest.mark.parametrize(("field", "value"), [("size", -1), ("size", "many"), ("country", "Deutschland"),
                                              ("name", "x" * 301)])
def test_bad_company_fields_are_refused_naming_the_field(tdb, field, value):
    with pytest.raises(CompanyError) as refused:
        service.create_company(tdb, **{"name": "Valid", field: value})
    assert refused.value.field == field


def test_a_domain_belongs_to_one_company(tdb):
    first = service.create_company(tdb, name="Acme", domain="acme.de")
    with pytest.raises(DuplicateDomainError) as refused:
        service.create_company(tdb, name="Acme again", domain="https://WWW.ACME.DE")
    assert refused.value.company_id == first.id and "acme.de" in str(refused.value) and "Acme" in str(refused.value)
    second = service.create_company(tdb, name="Other", domain="other.de")
    with pytest.raises(DuplicateDomainError):
        service.update_company(tdb, second, domain="Acme.de")
    service.update_company(tdb, second, domain="other.com", name="Other Ltd", actor_id=2)
    [updated] = events(tdb, "company.updated")
    assert updated.payload["changes"] == {"domain": {"from": "other.de", "to": "other.com"},
                                          "name": {"from": "Other", "to": "Other Ltd"}}
    with pytest.raises(CompanyNotFound):
        service.update_company(tdb, 424242, name="Ghost")


def test_first_link_is_primary_and_primary_moves_when_asked(tdb):
    acme = service.create_company(tdb, name="Acme")
    beta = service.create_company(tdb, name="Beta")
    contact = create_contact(tdb, first_name="Kim")
    service.link_contact(tdb, contact, acme, role="Buyer")
    service.link_contact(tdb, contact.id, beta.id)
    assert contact.primary_company_id == acme.id
    assert links(tdb, contact.id) == [(acme.id, True), (beta.id, False)]
    service.link_contact(tdb, contact, acme)  # again: harmless, the role stays
    assert tdb.get(ContactCompany, (contact.id, acme.id)).role == "Buyer"
    service.link_contact(tdb, contact, beta, primary=True, role="CEO")
    assert contact.primary_company_id == beta.id
    assert links(tdb, contact.id) == [(acme.id, False), (beta.id, True)]
    assert [company.name for company, _link in service.companies_of_contact(tdb, contact.id)] == ["Beta", "Acme"]
    service.unlink_contact(tdb, contact, beta)
    assert contact.primary_company_id == acme.id
    assert links(tdb, contact.id) == [(acme.id, True)]
    with pytest.raises(CompanyError):
        service.unlink_contact(tdb, contact, beta)
    with pytest.raises(ContactNotFound):
        service.link_contact(tdb, 987654, acme)
    changes = [event.payload["changes"]["primary_company_id"] for event in events(tdb, "contact.updated")]
    assert changes == [{"from": None, "to": acme.id}, {"from": acme.id, "to": beta.id},
                       {"from": beta.id, "to": acme.id}]


def test_deleting_a_company_keeps_its_contacts_and_moves_their_primary(tdb):
    doomed = service.create_company(tdb, name="Doomed", domain="doomed.example")
    other = service.create_company(tdb, name="Other")
    only_doomed = create_contact(tdb, first_name="Only", company_id=doomed.id)
    both = create_contact(tdb, first_name="Both", company_id=doomed.id)
    service.link_contact(tdb, both, other)
    note = Activity(type="note", links=[ActivityLink(object_type="company", object_id=doomed.id)])
    tdb.add(note)
    tdb.flush()
    note_id, doomed_id = note.id, doomed.id
    service.delete_company(tdb, doomed)
    tdb.commit()
    tdb.expire_all()
    assert tdb.get(Company, doomed_id) is None and tdb.get(Activity, note_id) is None
    assert tdb.get(Contact, only_doomed.id).primary_company_id is None
    assert tdb.get(Contact, both.id).primary_company_id == other.id
    assert links(tdb, both.id) == [(other.id, True)]
    assert events(tdb, "company.deleted")[0].payload == {"name": "Doomed", "domain": "doomed.example"}
    assert service.create_company(tdb, domain="doomed.example").name == "Doomed"


# --- API ---------------------------------------------------------------------------------------------------

@pytest.fixture
def api(client, make_workspace, api_token):
    """call(method, path, json=None) on a fresh workspace with its owner's token."""
    from kundo.testing.web import HostClient

    workspace = make_workspace()
    host = HostClient(client, workspace.host)
    token = api_token(workspace)

    def call(method, path, json=None):
        return host.api(method, f"/api/v1{path}", token, json=json)

    call.workspace = workspace
    return call


def test_api_creates_reads_changes_and_deletes_a_company(api):
    created = api("POST", "/companies", {"domain": "https://www.Nordwind-Logistik.de/", "city": "Bremen",
                                         "country": "de", "owner_id": api.workspace.owner_id})
    assert created.status_code == 201, created.json
    company = created.json
    assert (company["name"], company["domain"], company["country"]) == ("Nordwind-Logistik", "nordwind-logistik.de",
                                                                        "DE")
    assert api("GET", f"/companies/{company['id']}").json["city"] == "Bremen"
    patched = api("PATCH", f"/companies/{company['id']}", {"name": "Nordwind Logistik GmbH", "size": 80})
    assert (patched.json["name"], patched.json["size"], patched.json["city"]) == ("Nordwind Logistik GmbH", 80,
                                                                                  "Bremen")
    assert api("PATCH", f"/companies/{company['id']}", {"name": ""}).status_code == 422
    assert api("DELETE", f"/companies/{company['id']}").status_code == 204
    assert api("GET", f"/companies/{company['id']}").status_code == 404


def test_api_company_refusals_name_the_field(api, make_workspace):
    first = api("POST", "/companies", {"name": "Acme", "domain": "acme.example"}).json
    taken = api("POST", "/companies", {"name": "Acme 2", "domain": "ACME.example"})
    assert taken.status_code == 409 and f"id {first['id']}" in taken.json["detail"]
    assert "acme.example" in taken.json["errors"]["domain"][0]
    for payload, field in [({"domain": "nonsense"}, "domain"), ({}, "name"), ({"name": "X", "country": "DEU"},
                           "country"), ({"name": "X", "size": -3}, "size"),
                           ({"name": "X", "owner_id": make_workspace().owner_id}, "owner_id")]:
        response = api("POST", "/companies", payload)
        assert response.status_code == 422 and field in response.json["errors"], (payload, response.json)


def test_api_links_lists_and_unlinks_contacts(api):
    company = api("POST", "/companies", {"name": "Acme"}).json
    other = api("POST", "/companies", {"name": "Other"}).json
    ids = [api("POST", "/contacts", {"first_name": f"P{n}"}).json["id"] for n in range(3)]
    for contact_id in ids:
        linked = api("POST", f"/companies/{company['id']}/contacts", {"contact_id": contact_id, "role": "Buyer"})
        assert linked.status_code == 200 and linked.json["primary"] and linked.json["role"] == "Buyer"
    api("POST", f"/companies/{other['id']}/contacts", {"contact_id": ids[0], "primary": True})
    page = api("GET", f"/companies/{company['id']}/contacts?limit=2").json
    assert [item["contact"]["id"] for item in page["items"]] == ids[:2]
    assert [item["primary"] for item in page["items"]] == [False, True]
    rest = api("GET", f"/companies/{company['id']}/contacts?limit=2&cursor={page['next_cursor']}").json
    assert [item["contact"]["id"] for item in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    assert api("POST", f"/companies/{company['id']}/contacts", {"contact_id": 999999}).status_code == 422
    assert api("DELETE", f"/companies/{other['id']}/contacts/{ids[0]}").status_code == 204
    assert api("GET", f"/contacts/{ids[0]}").json["primary_company_id"] == company["id"]
    assert api("DELETE", f"/companies/{other['id']}/contacts/{ids[0]}").status_code == 404
    assert api("GET", "/companies/999999/contacts").status_code == 404


def test_api_merges_companies(api):
    keep = api("POST", "/companies", {"name": "Acme AG"}).json
    gone = api("POST", "/companies", {"name": "ACME", "domain": "acme.example", "city": "Köln"}).json
    contact = api("POST", "/contacts", {"company_id": gone["id"]}).json
    merged = api("POST", f"/companies/{keep['id']}/merge", {"merge_id": gone["id"]})
    assert merged.status_code == 200
    assert (merged.json["name"], merged.json["domain"], merged.json["city"]) == ("Acme AG", "acme.example", "Köln")
    assert api("GET", f"/contacts/{contact['id']}").json["primary_company_id"] == keep["id"]
    assert api("POST", f"/companies/{keep['id']}/merge", {"merge_id": keep["id"]}).status_code == 422
    assert api("POST", f"/companies/{keep['id']}/merge", {"merge_id": gone["id"]}).status_code == 404


def test_another_workspace_sees_none_of_the_companies(api, client, make_workspace, api_token):
    from kundo.testing.web import HostClient

    api("POST", "/companies", {"name": "Padding"})
    company = api("POST", "/companies", {"name": "Secret AG", "domain": "secret.example"}).json
    contact = api("POST", "/contacts", {"first_name": "Linked", "company_id": company["id"]}).json
    theirs = make_workspace()
    host, token = HostClient(client, theirs.host), api_token(theirs)

    def other(method, path, json=None):
        return host.api(method, f"/api/v1{path}", token, json=json)

    own = other("POST", "/companies", {"name": "Theirs"}).json
    for method, path, json in [("GET", f"/companies/{company['id']}", None),
                               ("PATCH", f"/companies/{company['id']}", {"name": "Hacked"}),
                               ("DELETE", f"/companies/{company['id']}", None),
                               ("GET", f"/companies/{company['id']}/contacts", None),
                               ("POST", f"/companies/{company['id']}/contacts", {"contact_id": own["id"]}),
                               ("POST", f"/companies/{own['id']}/merge", {"merge_id": company["id"]})]:
        assert other(method, path, json).status_code == 404, (method, path)
    assert other("POST", f"/companies/{own['id']}/contacts", {"contact_id": contact["id"]}).status_code == 422
    # Domains are unique per workspace only; the other workspace's matcher never sees ours.
    assert other("POST", "/match", {"email": "x@secret.example"}).json["company"]["name"] == "Secret"
    assert api("GET", f"/companies/{company['id']}").json["name"] == "Secret AG"
