"""Lists: every filter operator on a known data set, sorting, cursor pages, saved views, the list API.

The data set is small and hand-made so each expectation can be checked by reading
it: five listed contacts, one erased contact that no list may show, three companies.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.filters import FilterContext
from kundo.crm.lists.service import ListQuery, ListQueryError, list_records
from kundo.crm.properties.models import PropertyDefinition
from kundo.platform.api_pagination import CursorError
from kundo.platform.auth.models import User
from kundo.platform.db import db
from kundo.tenants.models import Membership, Role, Tenant
from kundo.tenants.service import create_workspace
from kundo.tenants.session import tenant_session
from kundo.testing.fixtures import TEST_PASSWORD, unique_slug
from kundo.testing.web import HostClient

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@dataclass
class CrmData:
    tenant_id: int
    slug: str
    owner_id: int
    member_id: int
    contacts: dict[str, int]
    companies: dict[str, int]

    def ids(self, *names: str) -> list[int]:
        return sorted(self.contacts[name] for name in names)

    @property
    def host(self) -> str:
        return f"{self.slug}.kundo.test"

    @property
    def tenant(self) -> Tenant:
        return db.session.get(Tenant, self.tenant_id)


def _user(name: str) -> User:
    from kundo.platform.auth.service import create_user
    from kundo.platform.db import utcnow

    user = create_user(email=f"{uuid.uuid4().hex[:10]}@example.com", name=name, password=TEST_PASSWORD)
    user.email_verified_at = utcnow()
    return user


def seed(session, owner_id: int, member_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """The data set every expectation below refers to."""
    session.add_all([
        PropertyDefinition(object_type="contact", key="score", label="Score", type="number"),
        PropertyDefinition(object_type="contact", key="renewal", label="Renewal", type="date"),
        PropertyDefinition(object_type="contact", key="tier", label="Tier", type="enum",
                           options=[{"value": v, "label": v.title()} for v in ("gold", "silver", "bronze")]),
        PropertyDefinition(object_type="contact", key="newsletter", label="Newsletter", type="boolean"),
        PropertyDefinition(object_type="contact", key="note", label="Note", type="text"),
        PropertyDefinition(object_type="company", key="revenue", label="Revenue", type="number"),
    ])
    mueller = Company(name="Müller GmbH", domain="mueller.de", industry="Manufacturing", size=50, city="Berlin",
                      country="DE", owner_id=owner_id, custom={"revenue": 1_000_000},
                      created_at=datetime(2024, 5, 1, tzinfo=UTC))
    acme = Company(name="Acme Corp", domain="acme.com", industry="Software", size=500, city="Boston", country="US",
                   owner_id=member_id, custom={"revenue": 25_000_000}, created_at=datetime(2024, 6, 1, tzinfo=UTC))
    beta = Company(name="Beta AG", created_at=datetime(2024, 7, 1, tzinfo=UTC))
    session.add_all([mueller, acme, beta])
    session.flush()

    def contact(first, last, emails, **values):
        row = Contact(first_name=first, last_name=last, **values)
        row.emails = [ContactEmail(email=email, is_primary=index == 0) for index, email in enumerate(emails)]
        session.add(row)
        return row

    anna = contact("Anna", "Schmidt", ["anna.schmidt@mueller.de", "anna@privat.de"], phones=["+49 30 1234567"],
                   phone_digits="49301234567", job_title="CEO", owner_id=owner_id, lifecycle_stage="lead",
                   lead_status="new", source="web", tags=["vip", "newsletter"], consent_status="granted",
                   primary_company_id=mueller.id,
                   custom={"score": 80, "renewal": "2026-03-15", "tier": "gold", "newsletter": True,
                           "note": "Met at CeBIT"},
                   created_at=datetime(2025, 1, 10, 10, 0, tzinfo=UTC), updated_at=datetime(2026, 6, 1, tzinfo=UTC))
    bernd = contact("Bernd", "Weber", ["bernd@acme.com"], phones=["+1 617 555 0100"], phone_digits="16175550100",
                    job_title="CTO", owner_id=member_id, lifecycle_stage="customer", lead_status="open",
                    source="event", tags=["vip"], consent_status="unknown", primary_company_id=acme.id,
                    custom={"score": 45, "renewal": "2025-12-01", "tier": "silver", "newsletter": False},
                    created_at=datetime(2025, 2, 20, 9, 0, tzinfo=UTC), updated_at=datetime(2026, 5, 1, tzinfo=UTC))
    # 23:30 UTC on 5 March is 00:30 on 6 March in Berlin, the workspace's time zone.
    clara = contact("Clara", "Müller", ["clara@beta.de"], phones=[], phone_digits="", owner_id=None,
                    lifecycle_stage="lead", tags=[], consent_status="withdrawn", primary_company_id=beta.id,
                    custom={"score": 45.5, "tier": "bronze"},
                    created_at=datetime(2025, 3, 5, 23, 30, tzinfo=UTC), updated_at=datetime(2026, 4, 1, tzinfo=UTC))
    dieter = contact("Dieter", None, [], phones=["030 9876543", "0171 5550199"], phone_digits="0309876543 01715550199",
                     owner_id=owner_id, lifecycle_stage=None, tags=["newsletter"], consent_status="unknown",
                     custom={}, created_at=datetime(2025, 3, 6, 12, 0, tzinfo=UTC),
                     updated_at=datetime(2026, 3, 1, tzinfo=UTC))
    erika = contact("Erika", "Mustermann", ["erika.mustermann@example.org"], phones=["+49 89 1234"],
                    phone_digits="49891234", owner_id=member_id, lifecycle_stage="opportunity", source="import",
                    tags=["partner", "vip"], consent_status="unknown", primary_company_id=mueller.id,
                    custom={"score": 100, "renewal": "2026-06-10", "newsletter": True},
                    created_at=NOW - timedelta(days=2), updated_at=NOW - timedelta(days=1))
    erased = contact("Zed", "Erased", ["zed@erased.example"], owner_id=owner_id, lifecycle_stage="lead",
                     tags=["vip"], custom={"score": 99}, erased_at=datetime(2026, 1, 1, tzinfo=UTC),
                     created_at=datetime(2025, 1, 1, tzinfo=UTC))
    session.flush()
    contacts = {"anna": anna.id, "bernd": bernd.id, "clara": clara.id, "dieter": dieter.id, "erika": erika.id,
                "erased": erased.id}
    return contacts, {"mueller": mueller.id, "acme": acme.id, "beta": beta.id}


@pytest.fixture(scope="module")
def crm(app) -> CrmData:
    with app.app_context():
        owner, member = _user("Olivia Owner"), _user("Max Member")
        db.session.flush()
        tenant = create_workspace(slug=unique_slug("lists"), name="Lists GmbH", owner=owner)
        db.session.add(Membership(tenant_id=tenant.id, user_id=member.id, role=Role.MEMBER))
        db.session.commit()
        with tenant_session(tenant) as session:
            contacts, companies = seed(session, owner.id, member.id)
        return CrmData(tenant.id, tenant.slug, owner.id, member.id, contacts, companies)


def listed_ids(crm: CrmData, filters, object_type="contact", sort=None, user_id=None) -> list[int]:
    context = FilterContext(user_id=user_id or crm.owner_id, timezone="Europe/Berlin", now=NOW)
    with tenant_session(crm.tenant) as session:
        page = list_records(session, ListQuery(object_type, filters, sort), context=context, limit=1000)
    return [item["id"] for item in page.items]


def cond(field, op, value=None):
    condition = {"field": field, "op": op}
    if value is not None:
        condition["value"] = value
    return condition


ALL = ("anna", "bernd", "clara", "dieter", "erika")

CONTACT_CASES = [
    # text, on plain columns, the name expression, e-mails, the primary company and phone digits
    (cond("name", "eq", "anna schmidt"), ["anna"]),
    (cond("name", "eq", "DIETER"), ["dieter"]),
    (cond("name", "neq", "Anna Schmidt"), ["bernd", "clara", "dieter", "erika"]),
    (cond("name", "contains", "müll"), ["clara"]),
    (cond("name", "starts_with", "er"), ["erika"]),
    (cond("last_name", "is_empty"), ["dieter"]),
    (cond("last_name", "is_not_empty"), ["anna", "bernd", "clara", "erika"]),
    (cond("first_name", "contains", "%"), []),
    (cond("job_title", "eq", "cto"), ["bernd"]),
    (cond("job_title", "neq", "CEO"), ["bernd", "clara", "dieter", "erika"]),
    (cond("job_title", "is_empty"), ["clara", "dieter", "erika"]),
    (cond("lead_status", "starts_with", "op"), ["bernd"]),
    (cond("source", "contains", "e"), ["anna", "bernd"]),
    (cond("email", "eq", "ANNA@privat.de"), ["anna"]),
    (cond("email", "contains", "@acme"), ["bernd"]),
    (cond("email", "starts_with", "clara@"), ["clara"]),
    (cond("email", "neq", "bernd@acme.com"), ["anna", "clara", "dieter", "erika"]),
    (cond("email", "is_empty"), ["dieter"]),
    (cond("email", "is_not_empty"), ["anna", "bernd", "clara", "erika"]),
    (cond("company", "eq", "müller gmbh"), ["anna", "erika"]),
    (cond("company", "contains", "corp"), ["bernd"]),
    (cond("company", "neq", "Müller GmbH"), ["bernd", "clara", "dieter"]),
    (cond("company", "is_empty"), ["dieter"]),
    (cond("phone", "contains", "555 01"), ["bernd", "dieter"]),
    (cond("phone", "starts_with", "0171"), ["dieter"]),
    (cond("phone", "eq", "+49 (89) 1234"), ["erika"]),
    (cond("phone", "eq", "4989"), []),
    (cond("phone", "neq", "030 9876543"), ["anna", "bernd", "clara", "erika"]),
    (cond("phone", "is_empty"), ["clara"]),
    # enums
    (cond("lifecycle_stage", "eq", "lead"), ["anna", "clara"]),
    (cond("lifecycle_stage", "neq", "lead"), ["bernd", "dieter", "erika"]),
    (cond("lifecycle_stage", "in", ["customer", "opportunity"]), ["bernd", "erika"]),
    (cond("lifecycle_stage", "not_in", ["lead", "customer"]), ["dieter", "erika"]),
    (cond("lifecycle_stage", "is_empty"), ["dieter"]),
    (cond("lifecycle_stage", "is_not_empty"), ["anna", "bernd", "clara", "erika"]),
    (cond("consent_status", "in", ["granted", "withdrawn"]), ["anna", "clara"]),
    # tags
    (cond("tags", "has", "vip"), ["anna", "bernd", "erika"]),
    (cond("tags", "has_any", ["partner", "newsletter"]), ["anna", "dieter", "erika"]),
    (cond("tags", "has_none", ["vip"]), ["clara", "dieter"]),
    (cond("tags", "has_none", ["vip", "newsletter"]), ["clara"]),
    # owner
    (cond("owner_id", "is_none"), ["clara"]),
    (cond("owner_id", "me"), ["anna", "dieter"]),
    # timestamps, with days in the workspace's time zone (Europe/Berlin)
    (cond("created_at", "on", "2025-03-06"), ["clara", "dieter"]),
    (cond("created_at", "on", "2025-03-05"), []),
    (cond("created_at", "on", "10.01.2025"), ["anna"]),
    (cond("created_at", "before", "2025-03-06"), ["anna", "bernd"]),
    (cond("created_at", "after", "2025-03-05"), ["clara", "dieter", "erika"]),
    (cond("created_at", "between", ["2025-02-01", "2025-03-06"]), ["bernd", "clara", "dieter"]),
    (cond("created_at", "in_last_days", 7), ["erika"]),
    (cond("updated_at", "in_last_days", "60"), ["anna", "bernd", "erika"]),
    # custom number (45.5 and 45 compare as numbers, not as text)
    (cond("custom.score", "eq", 45), ["bernd"]),
    (cond("custom.score", "eq", "45,5"), ["clara"]),
    (cond("custom.score", "neq", 45), ["anna", "clara", "dieter", "erika"]),
    (cond("custom.score", "lt", 80), ["bernd", "clara"]),
    (cond("custom.score", "lte", 80), ["anna", "bernd", "clara"]),
    (cond("custom.score", "gt", 45), ["anna", "clara", "erika"]),
    (cond("custom.score", "gte", 100), ["erika"]),
    (cond("custom.score", "between", [45.2, 80]), ["anna", "clara"]),
    (cond("custom.score", "is_empty"), ["dieter"]),
    (cond("custom.score", "is_not_empty"), ["anna", "bernd", "clara", "erika"]),
    # custom date
    (cond("custom.renewal", "on", "2026-03-15"), ["anna"]),
    (cond("custom.renewal", "before", "2026-01-01"), ["bernd"]),
    (cond("custom.renewal", "after", "2026-01-01"), ["anna", "erika"]),
    (cond("custom.renewal", "between", ["2025-12-01", "2026-03-15"]), ["anna", "bernd"]),
    (cond("custom.renewal", "in_last_days", 10), ["erika"]),
    (cond("custom.renewal", "is_empty"), ["clara", "dieter"]),
    # custom enum
    (cond("custom.tier", "eq", "gold"), ["anna"]),
    (cond("custom.tier", "neq", "gold"), ["bernd", "clara", "dieter", "erika"]),
    (cond("custom.tier", "in", ["silver", "bronze"]), ["bernd", "clara"]),
    (cond("custom.tier", "not_in", ["silver", "bronze"]), ["anna", "dieter", "erika"]),
    (cond("custom.tier", "is_empty"), ["dieter", "erika"]),
    # custom boolean: unset counts as no
    (cond("custom.newsletter", "is", True), ["anna", "erika"]),
    (cond("custom.newsletter", "is", "false"), ["bernd", "clara", "dieter"]),
    # custom text
    (cond("custom.note", "contains", "cebit"), ["anna"]),
    (cond("custom.note", "is_empty"), ["bernd", "clara", "dieter", "erika"]),
]


@pytest.mark.parametrize(("condition", "expected"), CONTACT_CASES,
                         ids=[f"{c['field']}-{c['op']}-{i}" for i, (c, _) in enumerate(CONTACT_CASES)])
def test_each_contact_operator_finds_exactly_the_expected_contacts(app_ctx, crm, condition, expected):
    assert sorted(listed_ids(crm, [condition])) == crm.ids(*expected)


def test_owner_is_takes_one_id_or_several(app_ctx, crm):
    assert sorted(listed_ids(crm, [cond("owner_id", "is", crm.member_id)])) == crm.ids("bernd", "erika")
    both = [cond("owner_id", "is", [crm.member_id, crm.owner_id])]
    assert sorted(listed_ids(crm, both)) == crm.ids("anna", "bernd", "dieter", "erika")
    assert sorted(listed_ids(crm, [cond("owner_id", "me")], user_id=crm.member_id)) == crm.ids("bernd", "erika")


def test_conditions_combine_with_and_and_any_groups_with_or(app_ctx, crm):
    filters = [cond("tags", "has", "vip"),
               {"any": [cond("lifecycle_stage", "eq", "customer"), cond("custom.score", "gte", 100)]}]
    assert sorted(listed_ids(crm, filters)) == crm.ids("bernd", "erika")
    assert sorted(listed_ids(crm, [cond("tags", "has", "vip"), cond("lifecycle_stage", "eq", "lead"),
                                   cond("custom.score", "gt", 50)])) == crm.ids("anna")


def test_erased_contacts_are_never_listed(app_ctx, crm):
    assert sorted(listed_ids(crm, [])) == crm.ids(*ALL)
    assert crm.contacts["erased"] not in listed_ids(crm, [cond("custom.score", "gte", 99)])


COMPANY_CASES = [
    (cond("name", "contains", "MÜLLER"), ["mueller"]),
    (cond("domain", "eq", "acme.com"), ["acme"]),
    (cond("domain", "is_empty"), ["beta"]),
    (cond("industry", "neq", "software"), ["mueller", "beta"]),
    (cond("size", "gt", 49), ["mueller", "acme"]),
    (cond("size", "between", [100, 1000]), ["acme"]),
    (cond("size", "is_empty"), ["beta"]),
    (cond("city", "starts_with", "bo"), ["acme"]),
    (cond("country", "eq", "de"), ["mueller"]),
    (cond("owner_id", "me"), ["mueller"]),
    (cond("created_at", "after", "2024-05-31"), ["acme", "beta"]),
    (cond("custom.revenue", "gte", 2_000_000), ["acme"]),
]


@pytest.mark.parametrize(("condition", "expected"), COMPANY_CASES,
                         ids=[f"{c['field']}-{c['op']}" for c, _ in COMPANY_CASES])
def test_company_filters(app_ctx, crm, condition, expected):
    wanted = sorted(crm.companies[name] for name in expected)
    assert sorted(listed_ids(crm, [condition], object_type="company")) == wanted


BAD_FILTERS = [
    ([cond("shoe_size", "eq", "42")], "shoe_size"),
    ([cond("custom.nope", "eq", "1")], "custom.nope"),
    ([cond("name", "gt", "a")], "gt"),
    ([cond("lifecycle_stage", "eq", "king")], "king"),
    ([cond("custom.score", "gt", "many")], "many"),
    ([cond("custom.tier", "in", ["platinum"])], "platinum"),
    ([cond("created_at", "on", "yesterday")], "yesterday"),
    ([cond("created_at", "between", ["2025-02-01"])], "between"),
    ([cond("custom.score", "between", [9, 1])], "smaller value first"),
    ([cond("custom.newsletter", "is", "maybe")], "true or false"),
    ([cond("owner_id", "is", "bob")], "bob"),
    ([cond("owner_id", "is_none", 3)], "takes no value"),
    ([cond("name", "contains", "")], "is_empty"),
    ([cond("phone", "contains", "abc")], "digits"),
    ([{"field": "name", "op": "eq", "value": "x", "extra": 1}], "extra"),
    ([{"any": []}], "any"),
    ({"field": "name"}, "JSON list"),
]


@pytest.mark.parametrize(("filters", "named"), BAD_FILTERS, ids=[named for _, named in BAD_FILTERS])
def test_a_bad_filter_is_refused_with_a_message_naming_the_problem(app_ctx, crm, filters, named):
    with pytest.raises(ListQueryError) as refusal:
        listed_ids(crm, filters)
    assert refusal.value.field == "filter"
    assert named in str(refusal.value)


def test_an_unknown_sort_names_the_sortable_fields(app_ctx, crm):
    with pytest.raises(ListQueryError) as refusal:
        listed_ids(crm, [], sort="tags")
    assert refusal.value.field == "sort"
    assert "custom.score" in str(refusal.value) and "created_at" in str(refusal.value)


# --- sorting and cursor pages ---------------------------------------------------------------

def expected_order(crm: CrmData, session, key, descending: bool) -> list[int]:
    """The order a person expects: by value (empty values last), then by id."""
    contacts = session.scalars(select(Contact).where(Contact.erased_at.is_(None))).all()
    companies = {company.id: company.name.lower() for company in session.scalars(select(Company))}
    for contact in contacts:
        contact.company_name = companies.get(contact.primary_company_id)
    with_value = [c for c in contacts if key(c) is not None]
    empty = [c for c in contacts if key(c) is None]
    with_value.sort(key=lambda c: (key(c), c.id), reverse=descending)
    empty.sort(key=lambda c: c.id, reverse=descending)
    return [c.id for c in with_value + empty]


SORTS = {
    "created_at": lambda c: c.created_at,
    "name": lambda c: f"{c.first_name or ''} {c.last_name or ''}".lower(),
    "last_name": lambda c: c.last_name.lower() if c.last_name else None,
    "owner_id": lambda c: c.owner_id,
    "lifecycle_stage": lambda c: c.lifecycle_stage,
    "custom.score": lambda c: c.custom.get("score"),
    "custom.renewal": lambda c: c.custom.get("renewal"),
    "custom.tier": lambda c: c.custom.get("tier"),
    "email": lambda c: c.emails[0].email.lower() if c.emails else None,
    "company": lambda c: c.company_name,
    "updated_at": lambda c: c.updated_at,
    "phone": lambda c: c.phones[0] if c.phones else None,
    "first_name": lambda c: c.first_name.lower() if c.first_name else None,
    "job_title": lambda c: c.job_title.lower() if c.job_title else None,
    "lead_status": lambda c: c.lead_status,
    "source": lambda c: c.source,
}


def walk(crm: CrmData, sort: str, limit: int, filters=None) -> list[list[int]]:
    context = FilterContext(user_id=crm.owner_id, timezone="Europe/Berlin", now=NOW)
    pages, cursor = [], None
    with tenant_session(crm.tenant) as session:
        while True:
            page = list_records(session, ListQuery("contact", filters, sort), context=context, limit=limit,
                                cursor=cursor)
            pages.append([item["id"] for item in page.items])
            cursor = page.next_cursor
            if cursor is None:
                return pages
            assert len(pages) < 20, "pagination does not end"


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
@pytest.mark.parametrize("sort", ["created_at", "name", "last_name", "owner_id", "lifecycle_stage", "custom.score",
                                  "custom.renewal", "custom.tier", "email", "company", "updated_at", "phone",
                                  "first_name", "job_title", "lead_status", "source"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_cursor_pages_cover_every_row_once_in_sort_order(app_ctx, crm, sort, limit, descending):
    pages = walk(crm, f"-{sort}" if descending else sort, limit)
    flat = [contact_id for page in pages for contact_id in page]
    with tenant_session(crm.tenant) as session:
        assert flat == expected_order(crm, session, SORTS[sort], descending)
    assert all(len(page) == limit for page in pages[:-1])
    assert len(pages[-1]) <= limit


#: Sorts by a contacts column (e-mail and company walk the joined table's index, which
#: the planner only prefers over a hash join once the tables are large).
STANDARD_CONTACT_SORTS = ["created_at", "updated_at", "name", "first_name", "last_name", "phone", "job_title",
                          "owner_id", "lifecycle_stage", "lead_status", "source"]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", STANDARD_CONTACT_SORTS)
def test_the_first_page_of_every_standard_sort_walks_an_index(app_ctx, crm, sort, descending):
    """No standard sort reads and sorts the whole table (0.5–0.8 s at a million contacts).

    With sorting and sequential scans priced out, a plan still sorts only when no
    index matches the sort expression, i.e. when model, migration and list field drift apart.
    """
    context = FilterContext(user_id=crm.owner_id, timezone="Europe/Berlin", now=NOW)
    with tenant_session(crm.tenant) as session:
        connection = session.connection()
        executed = []

        def remember(_conn, _cursor, statement, parameters, _context, _many):
            executed.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", remember)
        try:
            list_records(session, ListQuery("contact", None, f"-{sort}" if descending else sort), context=context,
                         limit=2)
        finally:
            event.remove(connection, "before_cursor_execute", remember)
        statement, parameters = next(entry for entry in executed if "ORDER BY" in entry[0] and "contacts" in entry[0])
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        plan = [line for (line,) in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
    # The select list's subplans (primary e-mail, company name) may sort their own few rows; the page may not.
    page = plan[:next((at for at, line in enumerate(plan) if "SubPlan" in line), len(plan))]
    assert not [line for line in page if "Sort" in line], "\n".join(plan)


def test_sort_by_primary_company_name_puts_contacts_without_company_last(app_ctx, crm):
    flat = [contact_id for page in walk(crm, "company", 2) for contact_id in page]
    assert flat == [crm.contacts["bernd"], crm.contacts["clara"], crm.contacts["anna"], crm.contacts["erika"],
                    crm.contacts["dieter"]]


def test_filters_on_email_and_company_combine_with_sorting_by_them(app_ctx, crm):
    """The sort joins the primary address and company under aliases; the filters' own subqueries still work."""
    by_email = walk(crm, "-email", 2, filters=[cond("email", "contains", "e"), cond("company", "is_not_empty")])
    assert [i for page in by_email for i in page] == [crm.contacts[n] for n in ("erika", "clara", "bernd", "anna")]
    by_company = walk(crm, "company", 1, filters=[cond("company", "neq", "acme corp"), cond("email", "is_not_empty")])
    assert [i for page in by_company for i in page] == [crm.contacts[n] for n in ("clara", "anna", "erika")]


def test_pages_of_a_filtered_list(app_ctx, crm):
    pages = walk(crm, "-custom.score", 1, filters=[cond("tags", "has", "vip")])
    assert pages == [[crm.contacts["erika"]], [crm.contacts["anna"]], [crm.contacts["bernd"]]]


def test_the_default_sort_is_newest_first(app_ctx, crm):
    assert listed_ids(crm, []) == [crm.contacts[name] for name in ("erika", "dieter", "clara", "bernd", "anna")]


def test_a_cursor_is_tied_to_its_sort_and_filter(app_ctx, crm):
    context = FilterContext(user_id=crm.owner_id)
    with tenant_session(crm.tenant) as session:
        page = list_records(session, ListQuery("contact", None, "name"), context=context, limit=2)
        with pytest.raises(CursorError):
            list_records(session, ListQuery("contact", None, "-name"), context=context, limit=2,
                         cursor=page.next_cursor)
        with pytest.raises(CursorError):
            list_records(session, ListQuery("contact", [cond("tags", "has", "vip")], "name"), context=context,
                         limit=2, cursor=page.next_cursor)
        with pytest.raises(CursorError):
            list_records(session, ListQuery("contact", None, "name"), context=context, limit=2, cursor="bm9wZQ")


def test_items_carry_the_primary_email_and_company_name(app_ctx, crm):
    context = FilterContext(user_id=crm.owner_id)
    with tenant_session(crm.tenant) as session:
        page = list_records(session, ListQuery("contact", [cond("name", "eq", "anna schmidt")]), context=context)
    (item,) = page.items
    assert item["email"] == "anna.schmidt@mueller.de"
    assert item["company_name"] == "Müller GmbH"
    assert item["phone"] == "+49 30 1234567"
    assert item["custom"]["score"] == 80


# --- the list API ---------------------------------------------------------------------------

@pytest.fixture
def token(app, crm):
    from kundo.platform.auth.service import create_api_token

    def _token(user_id=None, scopes=("read", "write")):
        with app.app_context():
            user = db.session.get(User, user_id or crm.owner_id)
            _row, plain = create_api_token(tenant_id=crm.tenant_id, user=user, name="lists", scopes=list(scopes))
            db.session.commit()
            return plain

    return _token


def api_get(client, crm, token, path, **params):
    host = HostClient(client, crm.host)
    return host.api("GET", path, token, query_string=params)


def test_list_api_filters_sorts_and_pages(client, crm, token):
    plain = token()
    filters = json.dumps([cond("tags", "has", "vip")])
    first = api_get(client, crm, plain, "/api/v1/contacts", filter=filters, sort="-custom.score", limit=2)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert [item["id"] for item in body["items"]] == [crm.contacts["erika"], crm.contacts["anna"]]
    assert body["items"][1]["email"] == "anna.schmidt@mueller.de"
    assert body["items"][1]["company_name"] == "Müller GmbH"
    second = api_get(client, crm, plain, "/api/v1/contacts", filter=filters, sort="-custom.score", limit=2,
                     cursor=body["next_cursor"]).get_json()
    assert [item["id"] for item in second["items"]] == [crm.contacts["bernd"]]
    assert second["next_cursor"] is None


def test_list_api_me_means_the_tokens_user(client, crm, token):
    plain = token(crm.member_id)
    body = api_get(client, crm, plain, "/api/v1/contacts", filter=json.dumps([cond("owner_id", "me")])).get_json()
    assert sorted(item["id"] for item in body["items"]) == crm.ids("bernd", "erika")


def test_list_api_lists_companies(client, crm, token):
    body = api_get(client, crm, token(), "/api/v1/companies", sort="-size").get_json()
    assert [item["id"] for item in body["items"]] == [crm.companies[n] for n in ("acme", "mueller", "beta")]
    assert body["items"][0]["domain"] == "acme.com"


@pytest.mark.parametrize(("params", "field", "named"), [
    ({"filter": "not json"}, "filter", "JSON"),
    ({"filter": json.dumps([cond("shoe_size", "eq", "1")])}, "filter", "shoe_size"),
    ({"filter": json.dumps([cond("name", "between", "a")])}, "filter", "between"),
    ({"sort": "-tags"}, "sort", "tags"),
])
def test_list_api_answers_422_naming_the_problem(client, crm, token, params, field, named):
    response = api_get(client, crm, token(), "/api/v1/contacts", **params)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert named in " ".join(body["errors"][field])


def test_list_api_refuses_a_forged_cursor(client, crm, token):
    response = api_get(client, crm, token(), "/api/v1/contacts", cursor="Zm9yZ2Vk")
    assert response.status_code == 400
    assert "cursor" in response.get_json()["errors"]


def test_list_api_is_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json", base_url="http://kundo.test").get_json()
    operation = spec["paths"]["/api/v1/contacts"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"filter", "sort", "limit", "cursor", "view"} <= names
    described = next(p for p in operation["parameters"] if p["name"] == "filter")["description"]
    assert "JSON" in described and "any" in described


# --- saved views ----------------------------------------------------------------------------

def api(client, crm, token, method, path, **kwargs):
    return HostClient(client, crm.host).api(method, path, token, **kwargs)


def test_saved_view_round_trip_and_use_in_the_list(client, crm, token):
    plain = token()
    definition = {"object_type": "contact", "name": "  VIP leads ", "filters": [cond("tags", "has", "vip")],
                  "sort": "-custom.score", "columns": ["name", "email", "custom.score"]}
    created = api(client, crm, plain, "POST", "/api/v1/views", json=definition)
    assert created.status_code == 201, created.get_json()
    view = created.get_json()
    assert (view["name"], view["shared"], view["owner_id"]) == ("VIP leads", False, crm.owner_id)
    assert view["filters"] == definition["filters"]
    assert (view["sort"], view["columns"]) == ("-custom.score", ["name", "email", "custom.score"])

    assert api(client, crm, plain, "GET", f"/api/v1/views/{view['id']}").get_json() == view
    listed = api(client, crm, plain, "GET", "/api/v1/views", query_string={"object_type": "contact"}).get_json()
    assert view in listed
    assert view not in api(client, crm, plain, "GET", "/api/v1/views",
                           query_string={"object_type": "company"}).get_json()

    page = api_get(client, crm, plain, "/api/v1/contacts", view=view["id"]).get_json()
    assert [item["id"] for item in page["items"]] == [crm.contacts[n] for n in ("erika", "anna", "bernd")]
    narrowed = api_get(client, crm, plain, "/api/v1/contacts", view=view["id"], sort="name",
                       filter=json.dumps([cond("lifecycle_stage", "in", ["lead", "customer"])])).get_json()
    assert [item["id"] for item in narrowed["items"]] == [crm.contacts["anna"], crm.contacts["bernd"]]

    patched = api(client, crm, plain, "PATCH", f"/api/v1/views/{view['id']}",
                  json={"name": "VIPs", "shared": True, "filters": [cond("tags", "has", "partner")]})
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["name"], patched.get_json()["shared"]) == ("VIPs", True)
    assert patched.get_json()["sort"] == "-custom.score"
    page = api_get(client, crm, plain, "/api/v1/contacts", view=view["id"]).get_json()
    assert [item["id"] for item in page["items"]] == [crm.contacts["erika"]]

    assert api(client, crm, plain, "DELETE", f"/api/v1/views/{view['id']}").status_code == 204
    assert api(client, crm, plain, "GET", f"/api/v1/views/{view['id']}").status_code == 404
    gone = api_get(client, crm, plain, "/api/v1/contacts", view=view["id"])
    assert gone.status_code == 422 and "view" in gone.get_json()["errors"]


def test_personal_views_stay_personal_and_only_owners_change_views(client, crm, token):
    owner, member = token(), token(crm.member_id)
    personal = api(client, crm, owner, "POST", "/api/v1/views",
                   json={"object_type": "contact", "name": "Mine", "filters": []}).get_json()
    shared = api(client, crm, owner, "POST", "/api/v1/views",
                 json={"object_type": "company", "name": "Ours", "shared": True}).get_json()
    assert api(client, crm, member, "GET", f"/api/v1/views/{personal['id']}").status_code == 404
    assert api(client, crm, member, "PATCH", f"/api/v1/views/{personal['id']}", json={"name": "x"}).status_code == 404
    visible = [view["id"] for view in api(client, crm, member, "GET", "/api/v1/views").get_json()]
    assert shared["id"] in visible and personal["id"] not in visible
    refused = api(client, crm, member, "PATCH", f"/api/v1/views/{shared['id']}", json={"name": "Hijacked"})
    assert refused.status_code == 403
    assert api(client, crm, member, "DELETE", f"/api/v1/views/{shared['id']}").status_code == 403
    # The workspace owner is an admin: it may tidy up shared views of others, too.
    assert api(client, crm, owner, "DELETE", f"/api/v1/views/{shared['id']}").status_code == 204


@pytest.mark.parametrize(("body", "field", "named"), [
    ({"object_type": "contact", "name": "x", "filters": [cond("shoe_size", "eq", 1)]}, "filters", "shoe_size"),
    ({"object_type": "contact", "name": "x", "sort": "tags"}, "sort", "tags"),
    ({"object_type": "contact", "name": "x", "columns": ["name", "salary"]}, "columns", "salary"),
    ({"object_type": "deal", "name": "x"}, "object_type", "contact"),
    ({"object_type": "contact", "name": "   "}, "name", "name"),
])
def test_a_view_that_would_not_run_is_refused(client, crm, token, body, field, named):
    response = api(client, crm, token(), "POST", "/api/v1/views", json=body)
    assert response.status_code == 422
    assert named in " ".join(response.get_json()["errors"][field])


def test_a_view_of_companies_cannot_drive_the_contact_list(client, crm, token):
    plain = token()
    view = api(client, crm, plain, "POST", "/api/v1/views", json={"object_type": "company", "name": "C"}).get_json()
    response = api_get(client, crm, plain, "/api/v1/contacts", view=view["id"])
    assert response.status_code == 422
    assert "company" in response.get_json()["errors"]["view"][0]


def test_another_workspace_sees_none_of_the_lists(client, crm, token, make_workspace, api_token):
    other = make_workspace()
    foreign = api_token(other)
    host = HostClient(client, other.host)
    assert host.api("GET", "/api/v1/contacts", foreign).get_json() == {"items": [], "next_cursor": None}
    assert host.api("GET", "/api/v1/companies", foreign).get_json() == {"items": [], "next_cursor": None}
    view = api(client, crm, token(), "POST", "/api/v1/views",
               json={"object_type": "contact", "name": "Shared", "shared": True}).get_json()
    assert host.api("GET", f"/api/v1/views/{view['id']}", foreign).status_code == 404
    assert host.api("GET", "/api/v1/views", foreign).get_json() == []
    # A's token does not work on B's address either.
    assert host.api("GET", "/api/v1/contacts", token()).status_code == 404


def test_a_per_property_sort_index_is_what_the_sorted_list_uses(app_ctx, crm):
    """The index expression and the list's sort expression must be identical, or PostgreSQL ignores the index."""
    from sqlalchemy import event, text

    from kundo.crm.lists.sort_indexes import create_sort_index, drop_sort_index, sort_index_name
    from kundo.tenants.session import TenantScope

    scope = TenantScope.of(crm.tenant)
    db.session.rollback()  # CREATE INDEX CONCURRENTLY waits for every open transaction
    name = create_sort_index(scope, "contact", "score")
    assert name == sort_index_name("contact", "score") == "ix_contacts_sort_score"
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if "ORDER BY" in statement and "sort_key" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        pages = walk(crm, "-custom.score", 2)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert [i for page in pages for i in page][:2] == [crm.contacts["erika"], crm.contacts["anna"]]
    with tenant_session(crm.tenant) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        for statement, parameters in statements:
            plan = "\n".join(session.connection().exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
            assert name in plan, plan
    drop_sort_index(scope, "contact", "score")
    with tenant_session(crm.tenant) as session:
        assert session.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is None
    with pytest.raises(ValueError):
        create_sort_index(scope, "contact", "score'); DROP TABLE contacts; --")
