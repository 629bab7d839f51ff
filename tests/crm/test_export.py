"""CSV export: the list's filter, sort and columns; UTF-8 with BOM for Excel; `;` for German Excel."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from kundo.crm.companies.models import Company
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.lists.export import BATCH
from kundo.crm.properties.models import PropertyDefinition
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.web import HostClient


@pytest.fixture
def crm(app_ctx, make_workspace):
    workspace = make_workspace()
    tenant = db.session.get(Tenant, workspace.tenant_id)
    with tenant_session(tenant) as session:
        session.add_all([
            PropertyDefinition(object_type="contact", key="score", label="Score", type="number"),
            PropertyDefinition(object_type="contact", key="newsletter", label="Newsletter", type="boolean"),
        ])
        company = Company(name="Müller & Söhne GmbH", domain="mueller-soehne.de", size=12, city="Köln",
                          created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
        session.add(company)
        session.flush()
        people = [
            Contact(first_name="Jürgen", last_name="Weiß", phones=["+49 221 555"], tags=["vip", "köln"],
                    owner_id=workspace.owner_id, primary_company_id=company.id, lifecycle_stage="lead",
                    custom={"score": 45.5, "newsletter": True}, job_title="Geschäftsführer",
                    created_at=datetime(2025, 3, 5, 23, 30, tzinfo=UTC), updated_at=datetime(2025, 3, 5, tzinfo=UTC)),
            Contact(first_name="Ada", last_name="Lovelace", tags=["vip"], custom={"score": 99},
                    job_title='=HYPERLINK("http://evil.example","click")',
                    created_at=datetime(2025, 1, 1, tzinfo=UTC), updated_at=datetime(2025, 1, 1, tzinfo=UTC)),
            Contact(first_name="Zoë", last_name="Ünal", tags=[], custom={},
                    created_at=datetime(2025, 2, 1, tzinfo=UTC), updated_at=datetime(2025, 2, 1, tzinfo=UTC)),
        ]
        people[0].emails = [ContactEmail(email="j.weiss@mueller-soehne.de", is_primary=True)]
        people[1].emails = [ContactEmail(email="ada@example.org", is_primary=True)]
        session.add_all(people)
        session.flush()
        ids = {"juergen": people[0].id, "ada": people[1].id, "zoe": people[2].id, "company": company.id}
    return workspace, tenant, ids


def export(client, workspace, token, path="/api/v1/contacts/export.csv", **params):
    return HostClient(client, workspace.host).api("GET", path, token, query_string=params)


def rows_of(response, delimiter=","):
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def test_default_export_has_every_standard_column_and_keeps_umlauts(crm, client, api_token):
    workspace, _tenant, ids = crm
    response = export(client, workspace, api_token(workspace))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="contacts-')
    header, *rows = rows_of(response)
    assert header == ["ID", "First name", "Last name", "E-mail", "Phone", "Job title", "Company", "Owner",
                      "Lifecycle stage", "Lead status", "Source", "Tags", "Consent", "Created", "Updated"]
    # Newest first, like the list; times in the workspace's zone (Europe/Berlin).
    assert [row[0] for row in rows] == [str(ids["juergen"]), str(ids["zoe"]), str(ids["ada"])]
    assert rows[0] == [str(ids["juergen"]), "Jürgen", "Weiß", "j.weiss@mueller-soehne.de", "+49 221 555",
                       "Geschäftsführer", "Müller & Söhne GmbH", "Olivia Owner", "lead", "", "", "vip, köln",
                       "unknown", "2025-03-06 00:30:00", "2025-03-05 01:00:00"]


def test_filter_sort_and_columns_are_honoured(crm, client, api_token):
    workspace, _tenant, _ids = crm
    response = export(client, workspace, api_token(workspace), filter=json.dumps([
        {"field": "tags", "op": "has", "value": "vip"}]), sort="name", columns="name,email,custom.score,"
                                                                                 "custom.newsletter")
    assert rows_of(response) == [
        ["Name", "E-mail", "Score", "Newsletter"],
        ["Ada Lovelace", "ada@example.org", "99", ""],
        ["Jürgen Weiß", "j.weiss@mueller-soehne.de", "45.5", "yes"],
    ]


def test_semicolons_and_decimal_commas_for_german_excel(crm, client, api_token):
    workspace, _tenant, _ids = crm
    response = export(client, workspace, api_token(workspace), delimiter="semicolon", sort="-custom.score",
                      columns="last_name,custom.score,tags")
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == "Last name;Score;Tags"
    assert rows_of(response, ";")[1:] == [["Lovelace", "99", "vip"], ["Weiß", "45,5", "vip, köln"], ["Ünal", "", ""]]


def test_formulas_are_defused_but_phone_numbers_are_not(crm, client, api_token):
    workspace, _tenant, _ids = crm
    rows = rows_of(export(client, workspace, api_token(workspace), columns="job_title,phone", sort="name"))
    assert rows[1] == ["'=HYPERLINK(\"http://evil.example\",\"click\")", ""]
    assert rows[2] == ["Geschäftsführer", "+49 221 555"]


def test_a_saved_view_brings_its_filter_and_columns(crm, client, api_token):
    workspace, _tenant, _ids = crm
    token = api_token(workspace)
    view = HostClient(client, workspace.host).api("POST", "/api/v1/views", token, json={
        "object_type": "contact", "name": "Scores", "filters": [{"field": "custom.score", "op": "gt", "value": 50}],
        "columns": ["first_name", "custom.score"]}).get_json()
    assert rows_of(export(client, workspace, token, view=view["id"])) == [["First name", "Score"], ["Ada", "99"]]


def test_companies_export(crm, client, api_token):
    workspace, _tenant, ids = crm
    rows = rows_of(export(client, workspace, api_token(workspace), path="/api/v1/companies/export.csv"))
    assert rows == [
        ["ID", "Name", "Domain", "Industry", "Size", "City", "Country", "Phone", "Owner", "Created", "Updated"],
        [str(ids["company"]), "Müller & Söhne GmbH", "mueller-soehne.de", "", "12", "Köln", "", "", "",
         "2024-01-02 04:04:05", rows[1][10]],
    ]


@pytest.mark.parametrize(("params", "field", "named"), [
    ({"columns": "name,salary"}, "columns", "salary"),
    ({"filter": json.dumps([{"field": "salary", "op": "gt", "value": 1}])}, "filter", "salary"),
    ({"delimiter": "tab"}, "delimiter", "comma"),
])
def test_bad_export_requests_answer_422(crm, client, api_token, params, field, named):
    workspace = crm[0]
    response = export(client, workspace, api_token(workspace), **params)
    assert response.status_code == 422
    assert named in " ".join(response.get_json()["errors"][field])


def test_a_long_list_is_exported_completely_across_pages(crm, client, api_token):
    workspace, tenant, _ids = crm
    with tenant_session(tenant) as session:
        session.execute(Contact.__table__.insert(),
                        [{"first_name": f"Person {n:05d}", "tags": ["bulk"]} for n in range(BATCH + 234)])
    rows = rows_of(export(client, workspace, api_token(workspace), columns="first_name", sort="first_name",
                          filter=json.dumps([{"field": "tags", "op": "has", "value": "bulk"}])))
    assert rows[1:] == [[f"Person {n:05d}"] for n in range(BATCH + 234)]


def test_another_workspace_exports_only_a_header(crm, client, api_token, make_workspace):
    other = make_workspace()
    assert rows_of(export(client, other, api_token(other), columns="name,email")) == [["Name", "E-mail"]]
    assert rows_of(export(client, other, api_token(other), path="/api/v1/companies/export.csv",
                          columns="name")) == [["Name"]]
