"""The one matcher: e-mail → contact and company, against real PostgreSQL, also under concurrency."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError

from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.companies.service import create_company
from kundo.crm.contacts.errors import ContactError
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.contacts.service import create_contact
from kundo.crm.matching.freemail import is_free_mail_domain
from kundo.crm.matching.service import match_contact_by_email
from kundo.crm.properties.models import PropertyDefinition
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, open_tenant_session


@pytest.fixture
def scope(app_ctx, make_workspace) -> TenantScope:
    return TenantScope.of(db.session.get(Tenant, make_workspace().tenant_id))


@pytest.fixture
def tdb(scope):
    session = open_tenant_session(scope)
    yield session
    session.rollback()
    session.close()


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def event_count(session, event_type):
    return count(session, OutboxEvent, OutboxEvent.type == event_type)


@pytest.mark.parametrize(("domain", "free"), [
    ("gmail.com", True), ("GoogleMail.com", True), ("web.de", True), ("gmx.net", True), ("t-online.de", True),
    ("yahoo.de", True), ("yahoo.co.uk", True), ("hotmail.com", True), ("outlook.de", True), ("live.com", True),
    ("icloud.com", True), ("posteo.de", True), ("proton.me", True), ("1und1.de", True),
    ("acme.de", False), ("live.acme.com", False), ("yahoo-fans.de", False), ("outlook.acme.de", False),
])
def test_free_mail_domains_are_recognised(domain, free):
    assert is_free_mail_domain(domain) is free


def test_a_new_address_creates_the_contact_and_its_company_linked_as_primary(tdb):
    result = match_contact_by_email(tdb, " Jana.Schulz@Nordlicht-Solar.de ", source="form:7", actor_id=3,
                                    defaults={"first_name": "Jana", "last_name": "Schulz", "lifecycle_stage": "lead"})
    assert result.contact_created and result.company_created
    contact, company = result.contact, result.company
    assert (contact.first_name, contact.source, contact.lifecycle_stage) == ("Jana", "form:7", "lead")
    assert contact.primary_email == "Jana.Schulz@nordlicht-solar.de"
    assert (company.name, company.domain) == ("Nordlicht-Solar", "nordlicht-solar.de")
    assert contact.primary_company_id == company.id
    assert tdb.get(ContactCompany, (contact.id, company.id)).is_primary
    created = tdb.scalar(select(OutboxEvent).where(OutboxEvent.type == "contact.created"))
    assert created.payload["primary_company_id"] == company.id and created.actor_id == 3


def test_a_known_address_in_any_case_finds_the_same_contact_and_keeps_its_data(tdb):
    first = match_contact_by_email(tdb, "ben@acme.example", defaults={"first_name": "Ben"})
    again = match_contact_by_email(tdb, "BEN@ACME.EXAMPLE", defaults={"first_name": "Benjamin"})
    assert again.contact.id == first.contact.id and again.company.id == first.company.id
    assert not again.contact_created and not again.company_created
    assert again.contact.first_name == "Ben"
    assert count(tdb, Contact) == 1 and count(tdb, Company) == 1
    assert event_count(tdb, "contact.created") == 1 and event_count(tdb, "contact.updated") == 0


def test_colleagues_share_the_existing_company(tdb):
    acme = create_company(tdb, name="ACME Corporation", domain="acme.example")
    first = match_contact_by_email(tdb, "one@acme.example")
    second = match_contact_by_email(tdb, "two@Acme.Example")
    assert first.company.id == second.company.id == acme.id
    assert not first.company_created and not second.company_created
    assert count(tdb, ContactCompany, ContactCompany.company_id == acme.id) == 2


def test_an_existing_contact_gets_linked_to_the_company_of_its_domain(tdb):
    contact = create_contact(tdb, emails=["lena@kunde.example"])
    other = create_company(tdb, name="Previous employer")
    create_company(tdb, name="Kunde", domain="kunde.example")
    from kundo.crm.companies.service import link_contact

    link_contact(tdb, contact, other)
    result = match_contact_by_email(tdb, "lena@kunde.example")
    assert result.company.name == "Kunde" and not result.contact_created
    assert contact.primary_company_id == other.id  # a second company does not take over the primary mark
    assert count(tdb, ContactCompany, ContactCompany.contact_id == contact.id) == 2


@pytest.mark.parametrize("address", ["max@gmail.com", "max@Yahoo.de", "max@hotmail.co.uk", "max@web.de"])
def test_free_mail_addresses_never_make_a_company(tdb, address):
    result = match_contact_by_email(tdb, address)
    assert result.contact_created and result.company is None and not result.company_created
    assert count(tdb, Company) == 0 and result.contact.primary_company_id is None


def test_a_free_mail_contact_answers_with_its_primary_company(tdb):
    company = create_company(tdb, name="Handwerk Huber")
    create_contact(tdb, emails=["huber@web.de"], company_id=company.id)
    result = match_contact_by_email(tdb, "HUBER@web.de")
    assert result.company.id == company.id and not result.contact_created


def test_create_company_false_links_existing_companies_but_makes_none(tdb):
    result = match_contact_by_email(tdb, "solo@new-domain.example", create_company=False)
    assert result.contact_created and result.company is None and count(tdb, Company) == 0
    existing = create_company(tdb, name="Known", domain="known.example")
    linked = match_contact_by_email(tdb, "someone@known.example", create_company=False)
    assert linked.company.id == existing.id and linked.contact.primary_company_id == existing.id


def test_create_false_only_looks_up(tdb):
    create_company(tdb, name="Looked Up", domain="looked-up.example")
    result = match_contact_by_email(tdb, "nobody@looked-up.example", create=False)
    assert result.contact is None and result.company.name == "Looked Up"
    assert not result.contact_created and count(tdb, Contact) == 0
    create_contact(tdb, emails=["somebody@elsewhere.example"])
    found = match_contact_by_email(tdb, "SOMEBODY@elsewhere.example", create=False)
    assert found.contact.primary_email == "somebody@elsewhere.example" and count(tdb, Company) == 1


def test_a_subdomain_is_another_domain(tdb):
    """Documented choice: mail.acme.com does not match acme.com (see the matcher's docstring)."""
    acme = create_company(tdb, name="Acme", domain="acme.com")
    result = match_contact_by_email(tdb, "it@mail.acme.com")
    assert result.company.id != acme.id and result.company.domain == "mail.acme.com" and result.company_created


def test_required_properties_do_not_stop_machine_made_contacts(tdb):
    tdb.add(PropertyDefinition(object_type="contact", key="region", label="Region", type="text", required=True))
    tdb.add(PropertyDefinition(object_type="company", key="tier", label="Tier", type="text", required=True))
    result = match_contact_by_email(tdb, "inbound@new.example")
    assert result.contact_created and result.company_created


def test_invalid_addresses_and_unknown_defaults_are_refused(tdb):
    with pytest.raises(ContactError):
        match_contact_by_email(tdb, "not an address")
    with pytest.raises(TypeError):
        match_contact_by_email(tdb, "ok@example.com", defaults={"emails": ["other@example.com"]})


def _wait_for_lock_waiters(expected: int, timeout: float = 10.0) -> None:
    """Block until `expected` backends of this database wait on a lock (the race is on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.engine.connect() as connection:
            waiting = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))
        if waiting >= expected:
            return
        time.sleep(0.02)
    raise AssertionError("the second match never waited for the first one's insert")


@pytest.mark.parametrize("address", ["new@race.example", "racer@gmail.com"])
def test_two_simultaneous_matches_for_a_new_address_make_one_contact(scope, address):
    """The second transaction inserts while the first holds the same e-mail (and domain) uncommitted."""
    engine = db.engine
    first, second = open_tenant_session(scope, engine), open_tenant_session(scope, engine)
    outcome: dict = {}

    def match_in_second_connection():
        try:
            outcome["result"] = match_contact_by_email(second, address.upper(), defaults={"first_name": "Second"})
            second.commit()
        except Exception as error:  # noqa: BLE001 - reported in the main thread
            outcome["error"] = error

    try:
        winner = match_contact_by_email(first, address, defaults={"first_name": "First"})
        racer = threading.Thread(target=match_in_second_connection)
        racer.start()
        _wait_for_lock_waiters(1)
        first.commit()
        racer.join(timeout=15)
        assert "error" not in outcome, outcome.get("error")
        loser = outcome["result"]
        assert winner.contact_created and not loser.contact_created
        assert loser.contact.id == winner.contact.id and loser.contact.first_name == "First"
        assert not loser.company_created
        assert (loser.company and loser.company.id) == (winner.company and winner.company.id)
    finally:
        first.close()
        second.close()
    with open_tenant_session(scope, engine) as check:
        assert count(check, Contact) == 1 and count(check, ContactEmail) == 1
        assert event_count(check, "contact.created") == 1
        assert count(check, Company) == event_count(check, "company.created") == (0 if "gmail" in address else 1)
        assert count(check, ContactCompany) == count(check, Company)


def test_many_threads_matching_the_same_new_address_make_one_contact(scope):
    engine = db.engine
    threads, start = 6, threading.Barrier(6)
    results, errors = [], []

    def match_once():
        session = open_tenant_session(scope, engine)
        try:
            start.wait()
            result = match_contact_by_email(session, "crowd@stampede.example")
            session.commit()
            results.append((result.contact.id, result.contact_created, result.company.id, result.company_created))
        except Exception as error:  # noqa: BLE001 - reported in the main thread
            errors.append(error)
        finally:
            session.close()

    workers = [threading.Thread(target=match_once) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=20)
    assert errors == []
    assert len({contact_id for contact_id, *_ in results}) == 1 and len(results) == threads
    assert sum(created for _id, created, _c, _cc in results) == 1
    assert len({company_id for *_, company_id, _cc in results}) == 1
    assert sum(company_created for *_, company_created in results) == 1
    with open_tenant_session(scope, engine) as check:
        assert count(check, Contact) == 1 and count(check, Company) == 1 and count(check, ContactCompany) == 1


def test_a_savepoint_as_the_first_statement_still_runs_as_the_tenant(scope):
    """The matcher's savepoints must not lose the tenant's role and search path."""
    with open_tenant_session(scope) as session:
        with session.begin_nested():
            assert session.scalar(text("SELECT current_user")) == scope.role_name
            assert session.scalar(text("SELECT current_schema()")) == scope.schema_name
        assert session.scalar(text("SELECT current_user")) == scope.role_name
        with pytest.raises(ProgrammingError, match="permission denied"), session.begin_nested():
            session.execute(text("SELECT count(*) FROM control.users"))
        assert session.scalar(text("SELECT current_user")) == scope.role_name
