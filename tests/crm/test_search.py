"""Search: typo-tolerant over names, e-mails, domains and phone numbers, ranked, one tenant only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.search import search
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.web import HostClient

PEOPLE = [
    # key, first, last, e-mail, phones
    ("anna", "Anna", "Schmidt", "anna.schmidt@example.de", ["+49 30 12345678"]),
    ("juergen", "Jürgen", "Müller", "j.mueller@mueller-bau.de", ["0171 9988776"]),
    ("meier", "Hans", "Meier", "hans@meier.example", []),
    ("maier", "Hans", "Maier", "hm@maier.example", []),
    ("katharina", "Katharina", "Schneider", "k.schneider@example.com", ["+49 89 5550101"]),
    ("peter", "Peter", "Schmitt", "peter@schmitt-it.de", []),
]


def seed(session) -> tuple[dict[str, int], dict[str, int]]:
    contacts = {}
    for key, first, last, email, phones in PEOPLE:
        contact = Contact(first_name=first, last_name=last, phones=phones,
                          phone_digits=" ".join("".join(ch for ch in phone if ch.isdigit()) for phone in phones))
        contact.emails = [ContactEmail(email=email, is_primary=True)]
        session.add(contact)
        session.flush()
        contacts[key] = contact.id
    erased = Contact(first_name="Anna", last_name="Schmidt", erased_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(erased)
    companies = {}
    for key, name, domain in (("siemens", "Siemens AG", "siemens.com"),
                              ("baeckerei", "Bäckerei Schmidt", "baeckerei-schmidt.de"),
                              ("acme", "Acme Corp", "acme.com")):
        company = Company(name=name, domain=domain)
        session.add(company)
        session.flush()
        companies[key] = company.id
    session.flush()
    contacts["erased"] = erased.id
    return contacts, companies


@pytest.fixture
def people(app_ctx, make_workspace):
    workspace = make_workspace()
    tenant = db.session.get(Tenant, workspace.tenant_id)
    with tenant_session(tenant) as session:
        contacts, companies = seed(session)
    return workspace, tenant, contacts, companies


def found(tenant, query, kind="contacts"):
    with tenant_session(tenant) as session:
        results = search(session, query)
    return getattr(results, kind)


def ids(hits):
    return [hit["id"] for hit in hits]


@pytest.mark.parametrize(("query", "expected"), [
    ("Schmiddt", "anna"),            # a doubled letter
    ("anna schmit", "anna"),
    ("Katarina Schnieder", "katharina"),
    ("jürgen müler", "juergen"),
    ("Mueller", "juergen"),          # via the e-mail address
])
def test_names_with_typos_find_the_contact_first(people, query, expected):
    _workspace, tenant, contacts, _companies = people
    hits = found(tenant, query)
    assert hits, f"nothing found for {query!r}"
    assert hits[0]["id"] == contacts[expected]


def test_a_typo_between_two_spellings_finds_both(people):
    _workspace, tenant, contacts, _companies = people
    assert set(ids(found(tenant, "Schmitd"))[:2]) == {contacts["anna"], contacts["peter"]}


def test_the_closer_spelling_ranks_first(people):
    _workspace, tenant, contacts, _companies = people
    hits = found(tenant, "Hans Meir")
    assert ids(hits)[:2] == [contacts["meier"], contacts["maier"]]
    assert hits[0]["score"] > hits[1]["score"]
    hits = found(tenant, "Hans Mair")
    assert ids(hits)[:2] == [contacts["maier"], contacts["meier"]]


def test_exact_matches_are_not_buried_under_guesses(people):
    _workspace, tenant, contacts, _companies = people
    assert ids(found(tenant, "Hans Meier")) == [contacts["meier"]]
    assert ids(found(tenant, "hans")) == [contacts["meier"], contacts["maier"]]


def test_partial_email_finds_the_contact(people):
    _workspace, tenant, contacts, _companies = people
    hits = found(tenant, "k.schneider@exa")
    assert hits[0]["id"] == contacts["katharina"]
    assert hits[0]["matched"] == "email"
    assert hits[0]["email"] == "k.schneider@example.com"


@pytest.mark.parametrize(("query", "expected"), [
    ("12345678", "anna"),
    ("030 1234 5678", "anna"),       # national spelling of +49 30 …
    ("0171/998877", "juergen"),
    ("5550101", "katharina"),
])
def test_phone_fragments_find_the_contact(people, query, expected):
    _workspace, tenant, contacts, _companies = people
    hits = found(tenant, query)
    assert ids(hits) == [contacts[expected]]
    assert hits[0]["matched"] == "phone"


def test_companies_by_name_and_domain_with_typos(people):
    _workspace, tenant, _contacts, companies = people
    assert ids(found(tenant, "Simens", "companies"))[0] == companies["siemens"]
    by_domain = found(tenant, "siemens.com", "companies")
    assert by_domain[0]["id"] == companies["siemens"]
    assert by_domain[0]["domain"] == "siemens.com"
    assert ids(found(tenant, "bäckerei schmit", "companies")) == [companies["baeckerei"]]


def test_unrelated_words_find_nothing(people):
    _workspace, tenant, _contacts, _companies = people
    assert found(tenant, "Zylinderkopfdichtung") == []
    assert found(tenant, "Zylinderkopfdichtung", "companies") == []


def test_erased_contacts_are_not_found(people):
    _workspace, tenant, contacts, _companies = people
    assert contacts["erased"] not in ids(found(tenant, "Anna Schmidt"))


def test_search_api_returns_both_kinds(people, client, api_token):
    workspace, _tenant, contacts, companies = people
    host = HostClient(client, workspace.host)
    response = host.api("GET", "/api/v1/search", api_token(workspace), query_string={"q": "schmidt"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["contacts"][0]["id"] == contacts["anna"]
    assert body["contacts"][0]["email"] == "anna.schmidt@example.de"
    assert ids(body["companies"]) == [companies["baeckerei"]]


def test_search_api_needs_two_characters(people, client, api_token):
    workspace = people[0]
    host = HostClient(client, workspace.host)
    response = host.api("GET", "/api/v1/search", api_token(workspace), query_string={"q": "a"})
    assert response.status_code == 422
    assert "q" in response.get_json()["errors"]


def test_another_workspace_finds_none_of_it(people, client, api_token, make_workspace):
    other = make_workspace()
    host = HostClient(client, other.host)
    response = host.api("GET", "/api/v1/search", api_token(other), query_string={"q": "Schmidt"})
    assert response.status_code == 200
    assert response.get_json() == {"contacts": [], "companies": []}


def test_search_puts_the_planner_settings_back_for_the_rest_of_the_transaction(people):
    from sqlalchemy import text

    _workspace, tenant, _contacts, _companies = people
    with tenant_session(tenant) as session:
        search(session, "Schmidt")
        assert session.scalar(text("SHOW enable_seqscan")) == "on"


# --- names one typo away (kundo.crm.lists.spelling) ------------------------------------------

def test_one_edit_away_lists_every_single_typo_and_nothing_further():
    from kundo.crm.lists.spelling import one_edit_away

    spellings = one_edit_away("weber")
    assert {"weber", "wber", "ewber", "weeber", "wexer", "lweber"} <= spellings  # itself, drop, swap, double, …
    assert "wbr" not in spellings and "rebew" not in spellings
    assert "lópez" in one_edit_away("lopez")


@pytest.mark.parametrize(("query", "expected"), [
    ("Mier", "meier"),               # a dropped letter in a short name (trigram word similarity 0.4)
    ("Schnieder", "katharina"),      # swapped letters
    ("Hans Maeir", "maier"),
    ("HansMeier", "meier"),          # the space lost
    ("Jürgen Müler", "juergen"),
])
def test_names_one_typo_away_are_found(people, query, expected):
    _workspace, tenant, contacts, _companies = people
    hits = found(tenant, query)
    assert hits and hits[0]["id"] == contacts[expected], hits
    assert hits[0]["matched"] == "name"


def test_a_word_two_typos_away_is_still_found_by_trigrams(people):
    _workspace, tenant, contacts, _companies = people
    from kundo.crm.lists.spelling import one_edit_away

    assert "schneider" not in one_edit_away("schnaidr")
    assert ids(found(tenant, "Katharina Schnaidr"))[0] == contacts["katharina"]


def test_accented_names_are_found_without_the_accent(people):
    _workspace, tenant, _contacts, _companies = people
    with tenant_session(tenant) as session:
        session.add(Contact(first_name="Carlos", last_name="López"))
    assert [hit["name"] for hit in found(tenant, "Lopez")] == ["Carlos López"]
