"""Duplicate suggestions and merging contacts and companies, against real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from kundo.crm.companies.errors import CompanyNotFound
from kundo.crm.companies.merge import merge_companies
from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.companies.service import create_company, link_contact
from kundo.crm.contacts.duplicates import find_duplicate_contacts
from kundo.crm.contacts.errors import ContactNotFound, MergeError
from kundo.crm.contacts.merge import merge_contacts
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.contacts.service import create_contact, set_consent
from kundo.crm.properties.models import PropertyDefinition
from kundo.crm.tasks.models import Task, TaskLink
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


def linked(session, model, object_type, object_id):
    link = ActivityLink if model is Activity else TaskLink
    key = link.activity_id if model is Activity else link.task_id
    return set(session.scalars(select(key).where(link.object_type == object_type, link.object_id == object_id)))


def backdate(session, model, object_id, days):
    session.execute(update(model).where(model.id == object_id)
                    .values(created_at=func.now() - timedelta(days=days)))
    session.expire_all()


# --- duplicate suggestions -------------------------------------------------------------------------------

def pairs(suggestions):
    return {suggestion.contact_ids: suggestion.reasons for suggestion in suggestions}


def test_same_name_at_the_same_company_is_a_duplicate(tdb):
    acme = create_company(tdb, name="Acme")
    a = create_contact(tdb, first_name="Maria", last_name="Schmidt", company_id=acme.id)
    b = create_contact(tdb, first_name="maria", last_name="SCHMIDT", company_id=acme.id)
    create_contact(tdb, first_name="Maria", last_name="Schmidt")  # same name, no shared company or domain
    create_contact(tdb, first_name="Olaf", last_name="Krause", company_id=acme.id)  # same company, other name
    assert pairs(find_duplicate_contacts(tdb)) == {(a.id, b.id): ("same_name_same_company",)}


def test_similar_names_at_the_same_company_or_domain_are_suggested(tdb):
    acme = create_company(tdb, name="Acme")
    jon = create_contact(tdb, first_name="Jon", last_name="Smith", company_id=acme.id)
    john = create_contact(tdb, first_name="John", last_name="Smith", company_id=acme.id)
    anna = create_contact(tdb, first_name="Anna", last_name="Meier", emails=["a.meier@beta.example"])
    anna_y = create_contact(tdb, first_name="Anna", last_name="Meyer", emails=["anna@BETA.example"])
    create_contact(tdb, first_name="Anna", last_name="Meyer", emails=["anna.meyer@gmail.com"])
    create_contact(tdb, first_name="Anna", last_name="Meyer", emails=["am@gmail.com"])  # free-mail: no hint
    create_contact(tdb, first_name="Kai", last_name="Berg", emails=["kai@yahoo.de"])
    create_contact(tdb, first_name="Kai", last_name="Berg", emails=["berg@Yahoo.de"])
    found = pairs(find_duplicate_contacts(tdb))
    assert found == {(jon.id, john.id): ("similar_name_same_company",),
                     (anna.id, anna_y.id): ("similar_name_same_email_domain",)}


def test_the_same_phone_number_in_another_spelling_is_a_duplicate(tdb):
    a = create_contact(tdb, first_name="Tom", phones=["+49 30 1234567"])
    b = create_contact(tdb, first_name="Thomas", phones=["030 / 123 45 67", "0171 999"])
    create_contact(tdb, first_name="Other", phones=["+49 30 7654321"])
    suggestions = find_duplicate_contacts(tdb)
    assert pairs(suggestions) == {(a.id, b.id): ("same_phone",)}
    assert pairs(find_duplicate_contacts(tdb, contact_id=b.id)) == {(a.id, b.id): ("same_phone",)}


def test_suggestions_for_one_contact_and_ranking(tdb):
    acme = create_company(tdb, name="Acme", domain="acme.example")
    a = create_contact(tdb, first_name="Eva", last_name="Lang", emails=["eva@acme.example"], phones=["0221 123456"],
                       company_id=acme.id)
    b = create_contact(tdb, first_name="Eva", last_name="Lang", emails=["e.lang@acme.example"],
                       phones=["+49 221 123456"], company_id=acme.id)
    c = create_contact(tdb, first_name="Evi", last_name="Lang", emails=["evi@acme.example"])
    d = create_contact(tdb, first_name="Jo", last_name="Weiss", phones=["0221 123456"])
    everything = find_duplicate_contacts(tdb)
    assert everything[0].contact_ids == (a.id, b.id) and everything[0].score == 1.0
    assert set(everything[0].reasons) == {"same_name_same_company", "similar_name_same_email_domain", "same_phone"}
    for_c = pairs(find_duplicate_contacts(tdb, contact_id=c.id))
    assert for_c == {(a.id, c.id): ("similar_name_same_email_domain",),
                     (b.id, c.id): ("similar_name_same_email_domain",)}
    for_d = pairs(find_duplicate_contacts(tdb, contact_id=d.id))
    assert for_d == {(a.id, d.id): ("same_phone",), (b.id, d.id): ("same_phone",)}
    assert len(find_duplicate_contacts(tdb, limit=2)) == 2


# --- merging contacts ------------------------------------------------------------------------------------

def test_merge_contacts_moves_everything_and_keeps_the_older_history(tdb):
    tdb.add(PropertyDefinition(object_type="contact", key="tier", label="Tier", type="text"))
    tdb.add(PropertyDefinition(object_type="contact", key="shoe", label="Shoe", type="number"))
    acme = create_company(tdb, name="Acme")
    beta = create_company(tdb, name="Beta")
    keep = create_contact(tdb, first_name="Ada", emails=["ada@acme.example"], phones=["030 1234567"], tags=["vip"],
                          lifecycle_stage="lead", custom={"tier": "gold"}, company_id=acme.id)
    gone = create_contact(tdb, first_name="Adelaide", last_name="Lovelace", emails=["ADA@private.example",
                          "ada2@private.example"], phones=["030/1234567", "0171 2222222"], tags=["VIP", "newsletter"],
                          job_title="CTO", lifecycle_stage="customer", custom={"tier": "silver", "shoe": 38},
                          company_id=beta.id)
    link_contact(tdb, gone, acme)  # both work for Acme
    backdate(tdb, Contact, gone.id, 30)
    tdb.execute(update(Contact).where(Contact.id == gone.id).values(
        lifecycle_dates={"lead": "2020-01-01T00:00:00+00:00", "customer": "2021-01-01T00:00:00+00:00"}))
    note = Activity(type="note", links=[ActivityLink(object_type="contact", object_id=gone.id)])
    both = Activity(type="note", links=[ActivityLink(object_type="contact", object_id=gone.id),
                                        ActivityLink(object_type="contact", object_id=keep.id)])
    task = Task(title="Follow up", links=[TaskLink(object_type="contact", object_id=gone.id)])
    tdb.add_all([note, both, task])
    tdb.flush()
    gone_id, gone_created = gone.id, tdb.get(Contact, gone.id).created_at

    merged = merge_contacts(tdb, keep.id, gone_id, actor_id=9)
    tdb.commit()
    tdb.expire_all()
    kept = tdb.get(Contact, merged.id)
    assert tdb.get(Contact, gone_id) is None
    assert [(row.email, row.is_primary) for row in kept.emails] == [
        ("ada@acme.example", True), ("ADA@private.example", False), ("ada2@private.example", False)]
    assert kept.phones == ["030 1234567", "0171 2222222"] and kept.phone_digits == "0301234567 01712222222"
    assert kept.tags == ["vip", "newsletter"]
    assert (kept.first_name, kept.last_name, kept.job_title) == ("Ada", "Lovelace", "CTO")
    assert kept.custom == {"tier": "gold", "shoe": 38}
    assert kept.lifecycle_stage == "customer"
    assert kept.lifecycle_dates["lead"] == "2020-01-01T00:00:00+00:00"
    assert kept.lifecycle_dates["customer"] == "2021-01-01T00:00:00+00:00"
    assert kept.created_at == gone_created
    assert kept.primary_company_id == acme.id
    assert set(tdb.execute(select(ContactCompany.company_id, ContactCompany.is_primary)
                           .where(ContactCompany.contact_id == kept.id)).all()) == {(acme.id, True), (beta.id, False)}
    assert {note.id, both.id} <= linked(tdb, Activity, "contact", kept.id)
    assert linked(tdb, Activity, "contact", gone_id) == set() and linked(tdb, Task, "contact", gone_id) == set()
    assert linked(tdb, Task, "contact", kept.id) == {task.id}
    trail = tdb.scalars(select(Activity).join(ActivityLink).where(
        ActivityLink.object_id == kept.id, ActivityLink.object_type == "contact", Activity.source == "merge")).one()
    assert trail.payload["merged_emails"] == ["ADA@private.example", "ada2@private.example"]
    [event] = tdb.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.merged")).all()
    assert event.payload["kept_id"] == kept.id and event.payload["merged_id"] == gone_id and event.actor_id == 9


def test_merge_takes_the_latest_consent_decision(tdb):
    keep = create_contact(tdb, consent={"status": "granted", "source": "form",
                                        "at": datetime(2025, 1, 1, tzinfo=UTC)})
    gone = create_contact(tdb)
    set_consent(tdb, gone, "withdrawn", source="unsubscribe link", at=datetime(2025, 6, 1, tzinfo=UTC))
    merge_contacts(tdb, keep.id, gone.id)
    assert (keep.consent_status, keep.consent_source) == ("withdrawn", "unsubscribe link")
    assert len(linked(tdb, Activity, "contact", keep.id)) == 3  # two consent records and the merge


def test_merge_edge_cases_are_refused(tdb):
    contact = create_contact(tdb, emails=["self@example.com"])
    with pytest.raises(MergeError):
        merge_contacts(tdb, contact.id, contact.id)
    with pytest.raises(ContactNotFound) as missing:
        merge_contacts(tdb, contact.id, 777_777)
    assert missing.value.contact_id == 777_777
    with pytest.raises(ContactNotFound):
        merge_contacts(tdb, 777_777, contact.id)
    erased = create_contact(tdb)
    erased.erased_at = datetime.now(UTC)
    with pytest.raises(MergeError):
        merge_contacts(tdb, contact.id, erased.id)
    assert tdb.scalar(select(func.count()).select_from(ContactEmail)) == 1


def test_merging_contacts_of_the_same_single_company_keeps_one_link(tdb):
    acme = create_company(tdb, name="Acme")
    keep = create_contact(tdb, company_id=acme.id)
    gone = create_contact(tdb, company_id=acme.id)
    merge_contacts(tdb, keep.id, gone.id)
    assert tdb.execute(select(ContactCompany.contact_id, ContactCompany.is_primary)
                       .where(ContactCompany.company_id == acme.id)).all() == [(keep.id, True)]


# --- merging companies -----------------------------------------------------------------------------------

def test_merge_companies_moves_contacts_primary_marks_and_timeline(tdb):
    keep = create_company(tdb, name="Acme AG", city="Köln", notes="Key account")
    gone = create_company(tdb, name="ACME", domain="acme.example", industry="Chemie", size=50, notes="Met at fair")
    backdate(tdb, Company, gone.id, 10)
    shared = create_contact(tdb, company_id=keep.id)
    link_contact(tdb, shared, gone)
    moved = create_contact(tdb, company_id=gone.id)
    note = Activity(type="note", links=[ActivityLink(object_type="company", object_id=gone.id)])
    tdb.add(note)
    tdb.flush()
    gone_id, gone_created = gone.id, gone.created_at

    merge_companies(tdb, keep.id, gone_id, actor_id=4)
    tdb.commit()
    tdb.expire_all()
    kept = tdb.get(Company, keep.id)
    assert tdb.get(Company, gone_id) is None
    assert (kept.name, kept.domain, kept.industry, kept.size, kept.city) == ("Acme AG", "acme.example", "Chemie",
                                                                             50, "Köln")
    assert kept.notes == "Key account\n\nMet at fair" and kept.created_at == gone_created
    assert tdb.get(Contact, moved.id).primary_company_id == keep.id
    assert set(tdb.execute(select(ContactCompany.contact_id, ContactCompany.is_primary)
                           .where(ContactCompany.company_id == keep.id)).all()) == {(shared.id, True),
                                                                                    (moved.id, True)}
    assert note.id in linked(tdb, Activity, "company", keep.id)
    assert tdb.scalar(select(OutboxEvent.payload).where(OutboxEvent.type == "company.merged"))["merged_domain"] \
        == "acme.example"
    with pytest.raises(MergeError):
        merge_companies(tdb, keep.id, keep.id)
    with pytest.raises(CompanyNotFound):
        merge_companies(tdb, keep.id, gone_id)
