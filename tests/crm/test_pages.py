"""The CRM's pages through real HTTP: lists, record pages, tasks, import wizard, properties.

Every page renders for a member with data and without; forms create and update,
refusing bad input field by field (HTTP 400); bulk deletes ask first; another
workspace's ids are 404.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import any_, func, literal, select

from kundo.crm.companies.models import Company
from kundo.crm.companies.service import create_company
from kundo.crm.contacts.models import Contact
from kundo.crm.contacts.service import create_contact
from kundo.crm.properties.service import create_definition
from kundo.crm.tasks.models import Task
from kundo.crm.tasks.service import create_task
from kundo.crm.timeline.service import log_activity
from kundo.platform.db import db, utcnow
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.fixtures import TEST_PASSWORD
from kundo.testing.web import HostClient


@pytest.fixture
def tenant_db(app):
    """tenant_db(workspace) → a context manager with the workspace's tenant session (commits on exit)."""

    def _open(workspace):
        with app.app_context():
            tenant = db.session.get(Tenant, workspace.tenant_id)
        return tenant_session(tenant)

    return _open


@pytest.fixture
def crm(app, make_workspace, add_member, sign_in, tenant_db):
    """A workspace with a signed-in member, two companies, three contacts, a call and a task."""
    workspace = make_workspace(name="Acme GmbH")
    member_id, member_email = add_member(workspace, "member")
    with app.app_context(), tenant_db(workspace) as session:
        create_definition(session, "contact", key="budget", label="Budget", type="number")
        create_definition(session, "contact", key="region", label="Region", type="enum",
                          options=["north", "south"])
        acme = create_company(session, name="Acme GmbH", domain="acme.de", industry="Software", city="Berlin")
        create_company(session, name="Beta AG", domain="beta.example", city="München")
        ada = create_contact(session, first_name="Ada", last_name="Lovelace", emails=["ada@acme.de"],
                             company_id=acme.id, lifecycle_stage="lead", owner_id=member_id, tags=["vip"],
                             custom={"budget": 5000, "region": "north"}, actor_id=member_id)
        create_contact(session, first_name="Grace", last_name="Hopper", emails=["grace@navy.example"],
                       lifecycle_stage="customer", custom={"region": "south"})
        create_contact(session, first_name="Alan", last_name="Turing", emails=["alan@acme.de"], company_id=acme.id,
                       custom={"region": "north"})
        log_activity(session, "call", links=[("contact", ada.id)], actor_id=member_id, body="Talked about pricing",
                     payload={"direction": "out", "duration_seconds": 300, "outcome": "connected"})
        create_task(session, title="Send the quote", owner_id=member_id, due_at=utcnow() - timedelta(hours=2),
                    links=[("contact", ada.id)], created_by=member_id)
        create_task(session, title="Plan the workshop", owner_id=member_id, due_at=utcnow() + timedelta(days=3),
                    links=[("company", acme.id)], created_by=member_id)
        ids = {"ada": ada.id, "acme": acme.id}
    page = sign_in(workspace, member_email)
    return workspace, page, ids, member_id


def second_browser(app, workspace, email):
    """Another person signed in with a cookie jar of their own (the `sign_in` client has the member's)."""
    browser = HostClient(app.test_client(), workspace.host)
    response = browser.submit("/login", {"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return browser


def html(response) -> str:
    return response.get_data(as_text=True)


def count(app, tenant_db, workspace, model, *where) -> int:
    with app.app_context(), tenant_db(workspace) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# ---- every page renders ------------------------------------------------------------------------


def test_every_page_renders_with_data(crm):
    _workspace, page, ids, _member = crm
    for path, expected in (
        ("/contacts", "Ada Lovelace"), ("/companies", "Acme GmbH"), ("/contacts/new", "Budget"),
        ("/companies/new", "Domain"), (f"/contacts/{ids['ada']}", "Talked about pricing"),
        (f"/companies/{ids['acme']}", "Alan Turing"), ("/tasks", "Send the quote"), ("/import", "Upload a CSV file"),
        ("/settings/properties", "Region"), (f"/contacts/{ids['ada']}/merge", "Likely duplicates"),
        ("/settings/properties?object=company", "No custom properties yet"),
    ):
        response = page.get(path)
        assert response.status_code == 200, (path, html(response)[:500])
        assert expected in html(response), path


def test_empty_workspace_shows_empty_states(make_workspace, sign_in):
    workspace = make_workspace()
    page = sign_in(workspace)
    contacts = html(page.get("/contacts"))
    assert "No contacts yet" in contacts and "Import a CSV" in contacts
    assert "No companies yet" in html(page.get("/companies"))
    assert "All done" in html(page.get("/tasks"))
    assert "No imports yet" in html(page.get("/import"))


def test_contact_list_shows_columns_and_filters_by_stage_owner_tag_and_property(crm):
    _workspace, page, _ids, member_id = crm
    listed = html(page.get("/contacts"))
    for text in ("ada@acme.de", "Acme GmbH", "Member Person", "Lead", "Customer"):
        assert text in listed
    assert_names(page.get("/contacts?stage=customer"), {"Grace Hopper"})
    assert_names(page.get(f"/contacts?owner={member_id}"), {"Ada Lovelace"})
    assert_names(page.get("/contacts?owner=none"), {"Grace Hopper", "Alan Turing"})
    assert_names(page.get("/contacts?tag=vip"), {"Ada Lovelace"})
    assert_names(page.get("/contacts?prop=region&prop_value=north"), {"Ada Lovelace", "Alan Turing"})
    # Date filters work in the workspace's time zone (Europe/Berlin by default), not in UTC.
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert_names(page.get(f"/contacts?created_from={today}&created_to={today}"),
                 {"Ada Lovelace", "Grace Hopper", "Alan Turing"})
    assert_names(page.get("/contacts?created_to=2000-01-01"), set())


def listed_names(response) -> list[str]:
    return re.findall(r'<a class="record-link" href="/contacts/\d+">.*?<strong>([^<]+)</strong>', html(response))


def assert_names(response, expected: set[str]) -> None:
    assert response.status_code == 200
    assert set(listed_names(response)) == expected


def test_search_tolerates_a_typo_and_sorting_follows_the_header(crm):
    _workspace, page, _ids, _member = crm
    assert_names(page.get("/contacts?q=Lovelase"), {"Ada Lovelace"})
    ascending = listed_names(page.get("/contacts?sort=name"))
    assert ascending[:3] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    descending = listed_names(page.get("/contacts?sort=-name"))
    assert descending[:3] == ["Grace Hopper", "Alan Turing", "Ada Lovelace"]
    assert page.get("/contacts?sort=nonsense").status_code == 400


def test_next_and_previous_pages_walk_the_list(crm, app, tenant_db):
    workspace, page, _ids, _member = crm
    with app.app_context(), tenant_db(workspace) as session:
        for number in range(55):
            create_contact(session, first_name="Bulk", last_name=f"Person {number:02d}")
    first = html(page.get("/contacts?sort=name"))
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = html(page.get(next_link))
    assert "Person 51" in second and "Person 46" not in second
    previous = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert html(page.get(previous)).count("Bulk Person") == html(page.get("/contacts?sort=name")).count("Bulk Person")


def test_companies_list_counts_contacts(crm):
    _workspace, page, _ids, _member = crm
    listed = html(page.get("/companies"))
    row = re.search(r'data-company-id="\d+">.*?Acme GmbH.*?</tr>', listed, re.S).group(0)
    assert '<td class="num">2</td>' in row
    assert "Beta AG" not in html(page.get("/companies?q=acme"))


def test_saved_view_keeps_filters_and_export_follows_the_view(crm):
    _workspace, page, _ids, _member = crm
    saved = page.submit("/contacts/views?stage=lead", {"name": "My leads"}, page="/contacts")
    assert saved.status_code == 302
    view_url = saved.headers["Location"]
    assert_names(page.get(view_url), {"Ada Lovelace"})
    assert "My leads" in html(page.get("/contacts"))
    exported = page.get("/contacts/export.csv?stage=customer")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert "grace@navy.example" in text and "ada@acme.de" not in text


# ---- forms -------------------------------------------------------------------------------------


def test_new_contact_form_creates_and_reports_each_field(crm, app, tenant_db):
    workspace, page, _ids, member_id = crm
    refused = page.submit("/contacts/new", {"first_name": "Edsger", "email": "not-an-address",
                                            "owner_id": str(member_id)})
    assert refused.status_code == 400
    body = html(refused)
    assert 'data-error-for="emails"' in body and "is not an e-mail address" in body
    assert 'value="Edsger"' in body
    wrong_type = page.submit("/contacts/new", {"first_name": "Edsger", "email": "edsger@example.org",
                                               "custom.budget": "lots", "custom.region": "east"})
    assert wrong_type.status_code == 400
    body = html(wrong_type)
    assert 'data-error-for="custom.budget"' in body and "Expected a number" in body
    assert 'data-error-for="custom.region"' in body and "is not one of" in body
    assert count(app, tenant_db, workspace, Contact, Contact.first_name == "Edsger") == 0
    created = page.submit("/contacts/new", {"first_name": "Edsger", "last_name": "Dijkstra",
                                            "email": "edsger@example.org", "custom.budget": "1200,50",
                                            "custom.region": "south", "owner_id": str(member_id)})
    assert created.status_code == 302
    record = page.get(created.headers["Location"])
    assert "Edsger Dijkstra" in html(record) and "edsger@example.org" in html(record)
    with app.app_context(), tenant_db(workspace) as session:
        contact = session.scalar(select(Contact).where(Contact.last_name == "Dijkstra"))
        assert contact.custom == {"budget": 1200.5, "region": "south"} and contact.owner_id == member_id


def test_duplicate_email_is_refused_on_the_email_field(crm):
    _workspace, page, _ids, _member = crm
    refused = page.submit("/contacts/new", {"first_name": "Ada", "email": "ADA@acme.de"})
    assert refused.status_code == 400
    assert 'data-error-for="emails"' in html(refused) and "already belongs" in html(refused)


def test_properties_panel_updates_and_refuses_wrong_custom_value(crm, app, tenant_db):
    workspace, page, ids, member_id = crm
    path = f"/contacts/{ids['ada']}"
    fields = {"first_name": "Ada", "last_name": "King", "job_title": "Analyst", "phones": "+49 30 1234567",
              "lifecycle_stage": "opportunity", "lead_status": "", "owner_id": "", "tags": "vip, math",
              "source": "", "custom.budget": "9000", "custom.region": "north"}
    assert page.submit(path, fields).status_code == 302
    with app.app_context(), tenant_db(workspace) as session:
        ada = session.get(Contact, ids["ada"])
        assert (ada.last_name, ada.lifecycle_stage, ada.owner_id, ada.tags) == ("King", "opportunity", None,
                                                                                 ["vip", "math"])
        assert ada.custom["budget"] == 9000 and ada.phones == ["+49 30 1234567"]
    refused = page.submit(path, {**fields, "custom.budget": "a lot", "owner_id": str(member_id)})
    assert refused.status_code == 400
    assert 'data-error-for="custom.budget"' in html(refused)
    with app.app_context(), tenant_db(workspace) as session:
        assert session.get(Contact, ids["ada"]).custom["budget"] == 9000


def test_new_company_form_validates_and_creates(crm):
    _workspace, page, _ids, _member = crm
    refused = page.submit("/companies/new", {"name": "Gamma", "country": "Germany", "size": "many"})
    assert refused.status_code == 400
    assert 'data-error-for="country"' in html(refused) or 'data-error-for="size"' in html(refused)
    taken = page.submit("/companies/new", {"name": "Acme Copy", "domain": "acme.de"})
    assert taken.status_code == 400 and 'data-error-for="domain"' in html(taken)
    created = page.submit("/companies/new", {"name": "Gamma KG", "domain": "gamma.example", "country": "de"})
    assert created.status_code == 302
    assert "Gamma KG" in html(page.get(created.headers["Location"]))


def test_log_a_call_and_a_note_and_see_them_on_the_timeline(crm):
    _workspace, page, ids, _member = crm
    path = f"/contacts/{ids['ada']}"
    logged = page.submit(f"{path}/activities", {"kind": "call", "direction": "in", "duration": "4:30",
                                                "outcome": "left_voicemail", "body": "Asked for a callback"},
                         page=path)
    assert logged.status_code == 302
    record = html(page.get(path))
    assert "Asked for a callback" in record and "Incoming call" in record and "4 min 30 s" in record
    refused = page.submit(f"{path}/activities", {"kind": "call", "direction": "out", "duration": "soon",
                                                 "outcome": "connected"}, page=path)
    assert refused.status_code == 400 and 'data-error-for="duration"' in html(refused)
    empty_note = page.submit(f"{path}/activities", {"kind": "note", "body": " "}, page=path)
    assert empty_note.status_code == 400 and 'data-error-for="body"' in html(empty_note)
    assert page.submit(f"{path}/activities", {"kind": "note", "body": "Prefers e-mail"}, page=path).status_code == 302
    calls_only = page.get(f"/contacts/{ids['ada']}/timeline?type=call", headers={"HX-Request": "true"})
    assert "Asked for a callback" in html(calls_only) and "Prefers e-mail" not in html(calls_only)


def test_timeline_loads_more(crm, app, tenant_db):
    workspace, page, ids, _member = crm
    with app.app_context(), tenant_db(workspace) as session:
        for number in range(30):
            log_activity(session, "note", links=[("contact", ids["ada"])], body=f"Note number {number}")
    record = html(page.get(f"/contacts/{ids['ada']}"))
    assert "Note number 29" in record and "Note number 0<" not in record
    more = re.search(r'class="load-more">\s*<a class="btn btn-ghost btn-sm" href="([^"]+)"', record).group(1)
    rest = html(page.get(more.replace("&amp;", "&"), headers={"HX-Request": "true"}))
    assert "Note number 0<" in rest and "Note number 29" not in rest


def test_task_created_on_record_and_completed_with_one_click(crm, app, tenant_db):
    workspace, page, ids, member_id = crm
    path = f"/contacts/{ids['ada']}"
    refused = page.submit(f"{path}/tasks", {"title": "", "task_type": "call", "owner_id": str(member_id)}, page=path)
    assert refused.status_code == 400 and 'data-error-for="title"' in html(refused)
    created = page.submit(f"{path}/tasks", {"title": "Call back", "task_type": "call", "due_at": "2030-01-02T09:30",
                                            "owner_id": str(member_id)}, page=path)
    assert created.status_code == 302
    mine = html(page.get("/tasks"))
    assert "Call back" in mine and "Ada Lovelace" in mine and "Send the quote" in mine
    with app.app_context(), tenant_db(workspace) as session:
        task_id = session.scalar(select(Task.id).where(Task.title == "Send the quote"))
    done = page.submit(f"/tasks/{task_id}/complete", {"next": "/tasks"}, page="/tasks")
    assert done.status_code == 302
    assert count(app, tenant_db, workspace, Task, Task.id == task_id, Task.done_at.is_not(None)) == 1
    assert 'data-task="Send the quote"' not in html(page.get("/tasks"))


def test_consent_needs_a_source(crm):
    _workspace, page, ids, _member = crm
    path = f"/contacts/{ids['ada']}"
    refused = page.submit(f"{path}/consent", {"consent_status": "granted", "consent_source": ""}, page=path)
    assert refused.status_code == 400 and 'data-error-for="consent.source"' in html(refused)
    assert page.submit(f"{path}/consent", {"consent_status": "granted", "consent_source": "Newsletter form"},
                       page=path).status_code == 302
    assert "Newsletter form" in html(page.get(path))


def test_link_and_unlink_a_company(crm, app, tenant_db):
    workspace, page, ids, _member = crm
    path = f"/contacts/{ids['ada']}"
    with app.app_context(), tenant_db(workspace) as session:
        beta = session.scalar(select(Company.id).where(Company.name == "Beta AG"))
    assert page.submit(f"{path}/companies", {"company_id": str(beta), "role": "Advisor"}, page=path).status_code == 302
    record = html(page.get(path))
    assert "Beta AG" in record and "Advisor" in record
    assert page.submit(f"{path}/companies/{beta}/unlink", {}, page=path).status_code == 302
    assert "Advisor" not in html(page.get(path))


# ---- bulk, merge, GDPR ---------------------------------------------------------------------------


def test_bulk_delete_asks_for_confirmation_with_the_count(crm, app, tenant_db):
    workspace, page, _ids, _member = crm
    with app.app_context(), tenant_db(workspace) as session:
        ids = [str(i) for i in session.scalars(select(Contact.id).where(Contact.first_name.in_(["Grace", "Alan"])))]
    asked = page.submit("/contacts/bulk", {"action": "delete", "ids": ids}, page="/contacts")
    assert asked.status_code == 409
    assert "Delete 2 contacts for good?" in html(asked)
    assert count(app, tenant_db, workspace, Contact) == 3
    wrong = page.submit("/contacts/bulk", {"action": "delete", "ids": ids, "confirm": "1"}, page="/contacts")
    assert wrong.status_code == 409 and count(app, tenant_db, workspace, Contact) == 3
    done = page.submit("/contacts/bulk", {"action": "delete", "ids": ids, "confirm": "2"}, page="/contacts")
    assert done.status_code == 302
    assert count(app, tenant_db, workspace, Contact) == 1


def test_bulk_assign_owner_and_add_tag(crm, app, tenant_db):
    workspace, page, _ids, member_id = crm
    with app.app_context(), tenant_db(workspace) as session:
        ids = [str(i) for i in session.scalars(select(Contact.id))]
    assert page.submit("/contacts/bulk", {"action": "assign_owner", "owner_id": str(member_id), "ids": ids},
                       page="/contacts").status_code == 302
    assert page.submit("/contacts/bulk", {"action": "add_tag", "tag": "fair-2026", "ids": ids},
                       page="/contacts").status_code == 302
    assert count(app, tenant_db, workspace, Contact, Contact.owner_id == member_id) == 3
    assert count(app, tenant_db, workspace, Contact, literal("fair-2026") == any_(Contact.tags)) == 3


def test_merge_a_suggested_duplicate(crm, app, tenant_db):
    workspace, page, ids, _member = crm
    with app.app_context(), tenant_db(workspace) as session:
        twin = create_contact(session, first_name="Ada", last_name="Lovelace", emails=["ada.l@acme.de"],
                              company_id=ids["acme"])
        twin_id = twin.id
    path = f"/contacts/{ids['ada']}/merge"
    suggestions = html(page.get(path))
    assert f'data-candidate="{twin_id}"' in suggestions and "Same name, same company" in suggestions
    assert page.submit(path, {"merge_id": str(twin_id)}).status_code == 302
    assert "ada.l@acme.de" in html(page.get(f"/contacts/{ids['ada']}"))
    assert page.get(f"/contacts/{twin_id}").status_code == 404


def test_gdpr_export_downloads_json_and_erase_is_for_admins_who_type_the_name(crm, app, tenant_db, add_member):
    workspace, page, ids, _member = crm
    exported = page.get(f"/contacts/{ids['ada']}/gdpr-export")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    assert exported.get_json()["emails"][0]["email"] == "ada@acme.de"
    path = f"/contacts/{ids['ada']}"
    assert page.submit(f"{path}/erase", {"confirm_name": "Ada Lovelace"}, page=path).status_code == 403
    _admin_id, admin_email = add_member(workspace, "admin")
    admin = second_browser(app, workspace, admin_email)
    wrong = admin.submit(f"{path}/erase", {"confirm_name": "Ada"}, page=path)
    assert wrong.status_code == 400 and 'data-error-for="confirm_name"' in html(wrong)
    assert admin.submit(f"{path}/erase", {"confirm_name": "ada lovelace"}, page=path).status_code == 302
    with app.app_context(), tenant_db(workspace) as session:
        ada = session.get(Contact, ids["ada"])
        assert ada.erased_at is not None and ada.first_name is None


# ---- import wizard -----------------------------------------------------------------------------


def test_import_wizard_maps_previews_runs_and_reports(crm, app, tenant_db, run_jobs):
    workspace, page, _ids, _member = crm
    csv = (b"Vorname;Nachname;E-Mail;Firma\n"
           b"Max;Muster;max@muster.de;Muster GmbH\n"
           b"Erika;Beispiel;keine-adresse;\n"
           b"Ada;Lovelace;ada@acme.de;Acme GmbH\n")


    uploaded = page.submit("/import", {"object_type": "contact", "file": (BytesIO(csv), "kontakte.csv")},
                           page="/import", content_type="multipart/form-data")
    assert uploaded.status_code == 302
    mapping_page = page.get(uploaded.headers["Location"])
    body = html(mapping_page)
    assert mapping_page.status_code == 200 and "Map columns" in body
    assert re.search(r'data-column="E-Mail">.*?<option value="email" selected', body, re.S)
    assert "keine-adresse" in body  # the preview names the bad cell
    run_path = uploaded.headers["Location"]
    form = {"map-0": "first_name", "map-1": "last_name", "map-2": "email", "map-3": "company",
            "on_duplicate": "skip", "step": "start"}
    started = page.submit(run_path, form, page=run_path)
    assert started.status_code == 302
    run_jobs()  # the import job
    result = html(page.get(run_path))
    assert "Import finished" in result and 'data-testid="error-report"' in result
    progress = page.get(f"{run_path}/progress", headers={"HX-Request": "true"})
    assert progress.status_code == 200 and "hx-trigger" not in html(progress)
    report = page.get(f"{run_path}/errors.csv")
    assert report.status_code == 200 and "keine-adresse" in report.get_data(as_text=True)
    assert count(app, tenant_db, workspace, Contact, Contact.first_name == "Max") == 1


def test_import_upload_refuses_a_file_that_is_not_csv(crm):
    _workspace, page, _ids, _member = crm


    refused = page.submit("/import", {"object_type": "contact", "file": (BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00"),
                                                                         "logo.png")},
                          page="/import", content_type="multipart/form-data")
    assert refused.status_code == 400 and 'data-testid="upload-error"' in html(refused)


# ---- property settings ---------------------------------------------------------------------------


def test_admins_manage_properties_members_only_read(crm, add_member, app, tenant_db):
    workspace, page, _ids, _member = crm
    assert page.submit("/settings/properties/contact", {"label": "Score", "key": "score", "type": "number"},
                       page="/settings/properties").status_code == 403
    _admin_id, admin_email = add_member(workspace, "admin")
    admin = second_browser(app, workspace, admin_email)
    refused = admin.submit("/settings/properties/contact", {"label": "", "key": "9bad", "type": "enum"},
                           page="/settings/properties")
    assert refused.status_code == 400
    assert 'data-error-for="key"' in html(refused) and 'data-error-for="label"' in html(refused)
    created = admin.submit("/settings/properties/company", {"label": "Tier", "key": "tier", "type": "enum",
                                                             "options": "gold | Gold\nsilver"},
                           page="/settings/properties")
    assert created.status_code == 302
    assert "Gold, silver" in html(admin.get("/settings/properties?object=company"))
    edit = "/settings/properties/contact/region"
    in_use = admin.submit(edit, {"label": "Region", "options": "north"}, page=edit)
    assert in_use.status_code == 400 and "still set on 1 records" in html(in_use)
    assert admin.submit(edit, {"label": "Sales region", "options": "north\nsouth\nwest"}, page=edit).status_code == 302
    asked = admin.submit(f"{edit}/delete", {}, page="/settings/properties")
    assert asked.status_code == 409 and "Its values on 3 records are deleted too." in html(asked)
    assert admin.submit(f"{edit}/delete", {"confirm": "yes"}, page="/settings/properties").status_code == 302
    assert count(app, tenant_db, workspace, Contact, Contact.custom.has_key("region")) == 0


# ---- isolation -----------------------------------------------------------------------------------


def test_another_workspaces_ids_are_not_found(crm, make_workspace, app, tenant_db):
    workspace, page, _ids, _member = crm
    other = make_workspace()
    with app.app_context(), tenant_db(other) as session:
        # Each workspace numbers its own records: B's ids go past A's so they cannot point at A's rows.
        for number in range(5):
            create_company(session, name=f"Filler {number}")
            create_contact(session, first_name="Filler", last_name=str(number))
            create_task(session, title=f"Filler {number}")
        company = create_company(session, name="Secret Corp", domain="secret.example")
        contact = create_contact(session, first_name="Secret", last_name="Agent", emails=["agent@secret.example"],
                                 company_id=company.id)
        task = create_task(session, title="Secret task", links=[("contact", contact.id)])
        ids = (contact.id, company.id, task.id)
    contact_id, company_id, task_id = ids
    assert contact_id not in _local_ids(app, tenant_db, workspace, Contact)
    assert company_id not in _local_ids(app, tenant_db, workspace, Company)
    assert task_id not in _local_ids(app, tenant_db, workspace, Task)
    for path in (f"/contacts/{contact_id}", f"/companies/{company_id}", f"/contacts/{contact_id}/merge",
                 f"/contacts/{contact_id}/gdpr-export", f"/contacts/{contact_id}/timeline"):
        assert page.get(path).status_code == 404, path
    assert page.submit(f"/tasks/{task_id}/complete", {}, page="/tasks").status_code == 404
    assert page.submit(f"/contacts/{contact_id}/activities", {"kind": "note", "body": "x"},
                       page="/contacts").status_code == 404
    assert listed_names(page.get("/contacts?q=Secret")) == []
    assert "Secret Corp" not in html(page.get("/companies?q=Secret"))


def _local_ids(app, tenant_db, workspace, model) -> set[int]:
    with app.app_context(), tenant_db(workspace) as session:
        return set(session.scalars(select(model.id)))


def test_dashboard_counts_records_and_my_open_tasks(crm):
    _workspace, page, _ids, _member = crm
    summary = re.search(r'data-testid="crm-summary">(.*?)</div>\s*\n', html(page.get("/")), re.S).group(1)
    values = re.findall(r'<span class="stat-value">([^<]+)</span>', summary)
    assert values == ["3", "2", "2"]
    assert "1 overdue" in summary
