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
