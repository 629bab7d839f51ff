"""CSV import against real PostgreSQL: file detection, mapping, broken rows, de-duplication, dry run, resume."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kundo.crm.companies.models import Company, ContactCompany
from kundo.crm.contacts.models import Contact, ContactEmail
from kundo.crm.contacts.service import create_contact
from kundo.crm.imports import service
from kundo.crm.imports.csvfile import CsvFileError, detect_layout
from kundo.crm.imports.mapping import MappingError, suggest_mapping, validate_mapping
from kundo.crm.imports.models import ImportRun
from kundo.crm.imports.report import report_download
from kundo.crm.imports.runner import execute_import, resume_import, run_import
from kundo.crm.properties.models import PropertyDefinition
from kundo.crm.properties.service import definitions_for
from kundo.platform.db import db
from kundo.platform.events import OutboxEvent
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, tenant_session

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def scope(app_ctx, make_workspace) -> TenantScope:
    return TenantScope.of(db.session.get(Tenant, make_workspace().tenant_id))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def count(scope, model, *where) -> int:
    with tenant_session(scope) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def event_types(scope) -> dict[str, int]:
    with tenant_session(scope) as session:
        return dict(session.execute(select(OutboxEvent.type, func.count()).group_by(OutboxEvent.type)).all())


def contact_by_email(session, email: str) -> Contact:
    return session.scalar(select(Contact).join(ContactEmail).where(func.lower(ContactEmail.email) == email.lower()))


def report_rows(run: ImportRun) -> list[list[str]]:
    text = report_download(run.error_report).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=run.delimiter))


def define(scope, object_type: str, key: str, label: str, type_: str, **extra) -> None:
    with tenant_session(scope) as session:
        session.add(PropertyDefinition(object_type=object_type, key=key, label=label, type=type_, **extra))


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


# ---- reading files ------------------------------------------------------------------------------


def test_utf8_with_bom_and_commas_is_detected_and_imported_with_companies(scope):
    layout = detect_layout(fixture("contacts_utf8_bom.csv"))
    assert (layout.encoding, layout.delimiter, layout.row_count) == ("utf-8-sig", ",", 3)
    assert layout.headers[0] == "First name"  # the BOM is not part of the first header

    run = run_import(scope, fixture("contacts_utf8_bom.csv"), members={})

    assert (run.status, run.created_count, run.failed_count, run.processed_rows) == ("completed", 3, 0, 3)
    assert run.content is None  # a finished real run drops the file
    with tenant_session(scope) as session:
        chloe = contact_by_email(session, "CHLOE@example.fr")
        assert (chloe.first_name, chloe.last_name, chloe.lifecycle_stage, chloe.tags) == (
            "Chloé", "Dubois", "lead", ["design"])
        anna = contact_by_email(session, "anna.schmidt@example.com")
        assert anna.tags == ["vip", "newsletter"] and anna.phone_digits == "49301234567"
        acme = session.get(Company, anna.primary_company_id)
        assert (acme.name, acme.domain) == ("Acme GmbH", "acme.de")  # https://www.acme.de/kontakt → acme.de
        ben = contact_by_email(session, "ben.jaeger@example.com")
        assert ben.primary_company_id == acme.id  # matched by name/domain, not created twice
        assert session.scalar(select(func.count()).select_from(Company)) == 2
    assert event_types(scope) == {"contact.created": 3, "company.created": 2, "lifecycle_stage.changed": 3}


def test_german_excel_file_in_cp1252_with_semicolons_and_umlauts(scope):
    content = fixture("contacts_excel_de.csv")
    assert "Müller".encode("cp1252") in content and "Straße".encode("cp1252") in content
    layout = detect_layout(content)
    assert (layout.encoding, layout.delimiter) == ("cp1252", ";")
    assert layout.headers == ["Vorname", "Nachname", "E-Mail", "Telefon", "Mobil", "Firma", "Straße", "PLZ", "Ort",
                              "Land", "Lebenszyklusphase", "Quelle"]
    assert suggest_mapping(layout.headers, "contact") == {
        "Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email", "Telefon": "phone", "Mobil": "phone",
        "Firma": "company", "Straße": "company_street", "PLZ": "company_postal_code", "Ort": "company_city",
        "Land": "company_country", "Lebenszyklusphase": "lifecycle_stage", "Quelle": "source",
    }

    run = run_import(scope, content, members={})

    assert (run.created_count, run.failed_count) == (3, 0)
    with tenant_session(scope) as session:
        juergen = contact_by_email(session, "juergen.mueller@beispiel.de")
        assert (juergen.first_name, juergen.last_name, juergen.lifecycle_stage, juergen.source) == (
            "Jürgen", "Müller", "customer", "Messe")  # “Kunde” is the customer stage
        assert juergen.phones == ["0221 123456", "0171 1234567"]  # Telefon and Mobil, in column order
        company = session.get(Company, juergen.primary_company_id)
        assert (company.name, company.street, company.postal_code, company.city, company.country) == (
            "Müller & Söhne KG", "Hauptstraße 5", "50667", "Köln", "DE")
        created = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.created",
                                                            OutboxEvent.object_id == juergen.id)).one()
        assert created.payload == {"email": "juergen.mueller@beispiel.de", "first_name": "Jürgen",
                                   "last_name": "Müller", "lifecycle_stage": "customer", "source": "Messe",
                                   "owner_id": None, "primary_company_id": company.id,
                                   "import_run_id": run.id}
        oezlem = contact_by_email(session, "oezlem@beispiel.at")
        assert session.get(Company, oezlem.primary_company_id).name == "Wien; Partner GmbH"  # quoted separator
        assert session.get(Company, oezlem.primary_company_id).country == "AT"  # “Österreich”


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty"),
    (b"\r\n;;;\r\n", "The file is empty"),
    (b"Vorname;Nachname;E-Mail\r\n", "no data rows"),
    (b"anna@example.com;Anna\r\nben@example.com;Ben\r\n", "looks like data, not column names"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "Excel workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a CSV text file"),
])
def test_unreadable_files_are_refused_with_what_to_do(content, message):
    with pytest.raises(CsvFileError, match=message):
        detect_layout(content)


def test_a_file_over_the_limit_is_refused_before_it_is_read():
    with pytest.raises(CsvFileError, match=r"the limit is 0\.1 MB\. Split it"):
        detect_layout(b"Name\r\n" + b"x\r\n" * 60_000, max_bytes=100 * 1024)


def test_tab_separated_and_latin1_fallback_are_read():
    tabbed = csv_bytes("Vorname\tNachname\tE-Mail", "Anna\tMüller, Dr.\tanna@example.com")
    assert detect_layout(tabbed).delimiter == "\t"
    # 0x81 is undefined in Windows-1252, so only Latin-1 reads this file
    latin = b"Name,Ort\r\nM\xfcller\x81,K\xf6ln\r\n"
    assert detect_layout(latin).encoding == "latin-1"


# ---- mapping -----------------------------------------------------------------------------------------


def test_suggestions_understand_english_and_german_and_custom_properties(scope):
    define(scope, "contact", "region", "Vertriebsgebiet", "text")
    with tenant_session(scope) as session:
        definitions = definitions_for(session, "contact")
    headers = ["First Name", "Last name", "Email Address", "Mobile Phone Number", "Company Name", "Job Title",
               "Lifecycle Stage", "Source", "Schlagwörter", "Vertriebsgebiet", "region", "Telefon 2", "Notes"]
    assert suggest_mapping(headers, "contact", definitions) == {
        "First Name": "first_name", "Last name": "last_name", "Email Address": "email",
        "Mobile Phone Number": "phone", "Company Name": "company", "Job Title": "job_title",
        "Lifecycle Stage": "lifecycle_stage", "Source": "source", "Schlagwörter": "tags",
        "Vertriebsgebiet": "custom.region", "region": None,  # the property is already filled from its label
        "Telefon 2": "phone", "Notes": None,
    }
    assert suggest_mapping(["Firma", "Website", "Branche", "Mitarbeiter", "Name"], "company") == {
        "Firma": "name", "Website": "domain", "Branche": "industry", "Mitarbeiter": "size", "Name": None}


def test_a_mapping_with_unknown_targets_is_refused_naming_each_column(scope):
    headers = ["E-Mail", "Vorname", "Telefon", "Firma"]
    with pytest.raises(MappingError) as refused:
        validate_mapping({"E-Mail": "email", "Vorname": "given_name", "Telefon": "custom.nope", "Spalte": "email",
                          "Firma": "email"}, headers, "contact", {})
    assert set(refused.value.errors) == {"Vorname", "Telefon", "Spalte", "Firma"}
    assert "Unknown field “given_name”" in refused.value.errors["Vorname"]
    assert "no custom property “nope”" in refused.value.errors["Telefon"]
    assert "no column “Spalte”" in refused.value.errors["Spalte"]
    assert "already filled from column “E-Mail”" in refused.value.errors["Firma"]
    with pytest.raises(MappingError, match="at least one column to e-mail, first name or last name"):
        validate_mapping({"Telefon": "phone", "Firma": None}, headers, "contact", {})
    assert validate_mapping({"E-Mail": "email", "Vorname": "", "Firma": None}, headers, "contact", {}) == {
        "E-Mail": "email"}


# ---- broken rows and the report ---------------------------------------------------------------------


def test_broken_rows_go_to_the_report_and_good_rows_are_imported(scope):
    define(scope, "contact", "budget", "Budget", "number")

    run = run_import(scope, fixture("contacts_broken.csv"), members={})

    assert run.mapping["Budget"] == "custom.budget"  # suggested by the property's label
    assert (run.total_rows, run.created_count, run.failed_count) == (8, 2, 6)
    rows = report_rows(run)
    assert rows[0] == ["Row", "First name", "Last name", "Email", "Lifecycle stage", "Budget", "Phone", "Error"]
    reasons = {int(row[0]): (row[1:-1], row[-1]) for row in rows[1:]}
    assert reasons[3] == (["Bad", "Mail", "not-an-email", "lead", "1000", ""],
                          "Email: “not-an-email” is not an e-mail address. Enter it like name@example.com.")
    assert reasons[4][1].startswith("Lifecycle stage: “almost customer” is not a lifecycle stage.")
    assert reasons[5][1].startswith("Budget: Expected a number, got “1,2,3”")
    assert reasons[6][1] == "The row has neither an e-mail address nor a name. Fill in at least one of them."
    assert reasons[7][1] == ("The e-mail GOOD@example.com is already in row 2 of this file; only that row is "
                             "imported.")
    assert reasons[8][1] == "Phone: “call me maybe” is not a phone number. Use digits, spaces and + ( ) - / only."
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    with tenant_session(scope) as session:
        assert contact_by_email(session, "last@example.com").custom == {"budget": 2500.5}
        assert contact_by_email(session, "good@example.com").custom == {"budget": 1000}
        assert contact_by_email(session, "number@example.com") is None
        assert contact_by_email(session, "stage@example.com") is None
    assert count(scope, OutboxEvent, OutboxEvent.type == "contact.created") == 2


def test_report_keeps_the_original_cells_and_opens_in_excel(scope):
    content = csv_bytes("Vorname;Nachname;E-Mail;Lebenszyklusphase", "Jörg;Weiß;joerg@example.de;Kundin",
                        "Ärger;Öl;kaputt;Lead", encoding="cp1252")
    run = run_import(scope, content, members={})
    download = report_download(run.error_report)
    assert download.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows the umlauts
    assert report_rows(run) == [
        ["Row", "Vorname", "Nachname", "E-Mail", "Lebenszyklusphase", "Error"],
        ["3", "Ärger", "Öl", "kaputt", "Lead",
         "E-Mail: “kaputt” is not an e-mail address. Enter it like name@example.com."],
    ]


def test_required_custom_properties_are_enforced_for_new_records_only(scope):
    define(scope, "contact", "region", "Region", "enum", required=True,
           options=[{"value": "nord", "label": "Nord"}, {"value": "sued", "label": "Süd"}])
    with tenant_session(scope) as session:
        create_contact(session, emails=["known@example.com"], first_name="Known", custom={"region": "nord"})
    content = csv_bytes("E-Mail,Vorname,Region", "known@example.com,Knut,", "new@example.com,Neu,",
                        "other@example.com,Otto,west", "fine@example.com,Fine,sued")
    run = run_import(scope, content, on_duplicate="update", members={})
    assert (run.created_count, run.updated_count, run.failed_count) == (1, 1, 2)
    reasons = {row[0]: row[-1] for row in report_rows(run)[1:]}
    assert reasons == {"3": "Region: This property is required.",
                       "4": "Region: “west” is not one of: nord, sued."}


def test_an_extra_value_in_a_row_is_reported_not_shifted(scope):
    content = csv_bytes("Vorname;Nachname;E-Mail", "Anna;Schmidt;anna@example.de", "Ben;Müller; Jr.;ben@example.de")
    run = run_import(scope, content, members={})
    assert (run.created_count, run.failed_count) == (1, 1)
    assert "This row has 4 values but the header has 3 columns" in report_rows(run)[1][-1]


# ---- de-duplication: update or skip -------------------------------------------------------------------


def _existing_contact(scope) -> int:
    define(scope, "contact", "budget", "Budget", "number")
    with tenant_session(scope) as session:
        contact = create_contact(session, emails=["Ada@Example.com"], first_name="Ada", last_name="Lovelace",
                                 job_title="CTO", phones=["+49 30 111"], tags=["vip"], lifecycle_stage="lead",
                                 custom={"budget": 10})
        return contact.id


_UPDATE_FILE = csv_bytes("E-Mail,Vorname,Nachname,Position,Telefon,Tags,Lebenszyklusphase,Budget,Firma",
                         "ada@EXAMPLE.com,,King,,+49 30 222,VIP;berlin,Kunde,,Acme GmbH",
                         "neu@example.com,Neu,Person,,,,,5,")


def test_skip_leaves_matching_contacts_alone(scope):
    contact_id = _existing_contact(scope)
    run = run_import(scope, _UPDATE_FILE, on_duplicate="skip", members={})
    assert (run.created_count, run.updated_count, run.skipped_count) == (1, 0, 1)
    with tenant_session(scope) as session:
        ada = session.get(Contact, contact_id)
        assert (ada.last_name, ada.lifecycle_stage, ada.primary_company_id) == ("Lovelace", "lead", None)
    assert count(scope, OutboxEvent, OutboxEvent.type == "contact.updated") == 0
    assert count(scope, Contact) == 2


def test_update_fills_matching_contacts_and_announces_the_changes(scope):
    contact_id = _existing_contact(scope)
    run = run_import(scope, _UPDATE_FILE, on_duplicate="update", members={})
    assert (run.created_count, run.updated_count, run.skipped_count) == (1, 1, 0)
    with tenant_session(scope) as session:
        ada = session.get(Contact, contact_id)
        assert (ada.first_name, ada.last_name, ada.job_title) == ("Ada", "King", "CTO")  # empty cells keep values
        assert ada.phones == ["+49 30 111", "+49 30 222"] and ada.phone_digits == "4930111 4930222"
        assert ada.tags == ["vip", "berlin"]  # “VIP” is the tag she has
        assert ada.custom == {"budget": 10}
        assert ada.lifecycle_stage == "customer" and set(ada.lifecycle_dates) == {"lead", "customer"}
        company = session.get(Company, ada.primary_company_id)
        assert company.name == "Acme GmbH"
        assert session.get(ContactCompany, (ada.id, company.id)).is_primary
        updated = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.updated")).one()
        assert updated.object_id == contact_id and updated.payload["import_run_id"] == run.id
        assert updated.payload["changes"]["last_name"] == {"from": "Lovelace", "to": "King"}
        assert updated.payload["changes"]["lifecycle_stage"] == {"from": "lead", "to": "customer"}
        assert set(updated.payload["changes"]) == {"last_name", "phones", "tags", "lifecycle_stage",
                                                   "primary_company_id"}
        stage = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "lifecycle_stage.changed",
                                                          OutboxEvent.object_id == contact_id)
                               .order_by(OutboxEvent.id)).all()
        assert [event.payload["to"] for event in stage] == ["lead", "customer"]

    again = run_import(scope, _UPDATE_FILE, on_duplicate="update", members={})
    assert (again.created_count, again.updated_count) == (0, 2)
    # the same file twice changes nothing the second time, so nothing more is announced
    assert count(scope, OutboxEvent, OutboxEvent.type == "contact.updated") == 1


def test_companies_are_deduplicated_by_domain_and_updated(scope):
    run = run_import(scope, fixture("companies_de.csv"), object_type="companies", members={})
    assert (run.created_count, run.updated_count, run.failed_count) == (2, 0, 3)
    reasons = {row[0]: row[-1] for row in report_rows(run)[1:]}
    assert reasons == {
        "4": "Mitarbeiter: “zwölf” is not a whole number. Write it like 1200 or 1.200.",
        "5": "Land: “Mars” is not a country Kundo knows. Use a two-letter code like DE, AT or CH.",
        "6": "The domain acme.de is already in row 2 of this file; only that row is imported.",
    }
    update = csv_bytes("Firma;Website;Mitarbeiter;Ort", "ACME;https://www.acme.de;1.500;", "Neu AG;neu.de;7;Berlin")
    again = run_import(scope, update, object_type="company", on_duplicate="update", members={})
    assert (again.created_count, again.updated_count) == (1, 1)
    with tenant_session(scope) as session:
        acme = session.scalar(select(Company).where(Company.domain == "acme.de"))
        assert (acme.name, acme.size, acme.city, acme.industry) == ("ACME", 1500, "Stuttgart", "Maschinenbau")
        changes = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "company.updated")).one()
        assert changes.payload["changes"] == {"name": {"from": "Acme GmbH", "to": "ACME"},
                                              "size": {"from": 1200, "to": 1500}}


# ---- preview and dry run --------------------------------------------------------------------------------


def test_preview_shows_rows_as_they_would_be_imported_and_writes_nothing(scope):
    _existing_contact(scope)
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contacts", filename="update.csv", content=_UPDATE_FILE)
        outcomes = service.preview_import(session, run, on_duplicate="update", limit=5)
        session.rollback()
    assert [(outcome.row, outcome.action) for outcome in outcomes] == [(2, "updated"), (3, "created")]
    assert outcomes[0].values["lifecycle_stage"] == "customer" and outcomes[0].values["company"] == {
        "name": "Acme GmbH"}
    assert outcomes[1].values["custom"] == {"budget": 5}
    assert count(scope, Contact) == 1 and count(scope, ImportRun) == 0


def test_a_dry_run_counts_what_the_real_run_does_and_writes_nothing(scope):
    _existing_contact(scope)
    content = _UPDATE_FILE + csv_bytes("kaputt,X,,,,,,,", "NEU@example.com,Doppelt,,,,,,,")
    before = (count(scope, Contact), count(scope, Company), count(scope, ContactEmail), event_types(scope))

    dry = run_import(scope, content, on_duplicate="update", dry_run=True, members={})

    assert (dry.status, dry.dry_run, dry.created_count, dry.updated_count, dry.failed_count) == (
        "completed", True, 1, 1, 2)
    assert (count(scope, Contact), count(scope, Company), count(scope, ContactEmail), event_types(scope)) == before
    assert dry.content is not None  # kept for the real run
    with tenant_session(scope) as session:
        run = session.get(ImportRun, dry.id)
        service.start_import(session, run, mapping=run.mapping, on_duplicate="update", dry_run=False)
    real = execute_import(scope, dry.id, members={})
    assert (real.dry_run, real.created_count, real.updated_count, real.failed_count) == (False, 1, 1, 2)
    assert report_rows(real) == report_rows(dry)
    assert count(scope, Contact) == 2


# ---- batches, crash and resume ------------------------------------------------------------------------------


def _numbered_contacts(rows: int, duplicate_of: dict[int, int]) -> bytes:
    lines = ["E-Mail;Vorname;Nachname"]
    for index in range(rows):
        number = duplicate_of.get(index, index)
        lines.append(f"person{number}@example.com;Person;Nr {index}" if index != 17 else "kaputt;X;Y")
    return csv_bytes(*lines)


def test_a_run_stopped_after_some_batches_resumes_where_it_stopped(scope):
    content = _numbered_contacts(25, duplicate_of={14: 3, 22: 16})  # rows 16 and 24 repeat e-mails
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contact", filename="many.csv", content=content)
        service.start_import(session, run, mapping=run.mapping)
        run_id = run.id

    stopped = execute_import(scope, run_id, batch_size=10, max_batches=1, members={})

    assert (stopped.status, stopped.processed_rows, stopped.created_count) == ("running", 10, 10)
    assert count(scope, Contact) == 10 and count(scope, OutboxEvent) == 10
    with pytest.raises(service.ImportRunError):  # a stopped run is not started a second time
        execute_import(scope, run_id, members={})

    progress = []
    done = resume_import(scope, run_id, batch_size=10, members={}, on_progress=lambda *p: progress.append(p))

    assert progress == [(20, 25), (25, 25)]
    assert (done.status, done.processed_rows, done.created_count, done.failed_count) == ("completed", 25, 22, 3)
    assert count(scope, Contact) == 22 and count(scope, OutboxEvent) == 22
    reasons = {row[0]: row[-1] for row in report_rows(done)[1:]}
    assert reasons["16"].startswith("The e-mail person3@example.com is already in row 5")  # claimed before the stop
    assert reasons["24"].startswith("The e-mail person16@example.com is already in row 18")
    assert reasons["19"].startswith("E-Mail: “kaputt” is not an e-mail address")
    with pytest.raises(service.ImportRunError, match="Only a run that stopped part-way can be resumed"):
        resume_import(scope, run_id, members={})


def test_a_failed_batch_marks_the_run_failed_and_keeps_the_committed_batches(scope):
    content = _numbered_contacts(12, duplicate_of={})
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contact", filename="x.csv", content=content)
        service.start_import(session, run, mapping=run.mapping)
        run_id = run.id
    execute_import(scope, run_id, batch_size=5, max_batches=1, members={})
    with tenant_session(scope) as session:  # the stored file can no longer be read: the run fails
        stopped = session.get(ImportRun, run_id)
        stopped.encoding, stopped.status = "no-such-encoding", "queued"
    with pytest.raises(CsvFileError):
        execute_import(scope, run_id, batch_size=5, members={})
    with tenant_session(scope) as session:
        failed = session.get(ImportRun, run_id)
        assert (failed.status, failed.processed_rows) == ("failed", 5)
        assert "cannot be read as no-such-encoding" in failed.error
        failed.encoding = "utf-8"
    done = resume_import(scope, run_id, batch_size=5, members={})
    assert (done.status, done.processed_rows, done.created_count, done.failed_count) == ("completed", 12, 12, 0)
    assert count(scope, Contact) == 12


def test_owner_column_takes_workspace_members_by_email(scope):
    content = csv_bytes("E-Mail,Besitzer", "a@example.com,Olivia@Example.com", "b@example.com,stranger@example.com")
    run = run_import(scope, content, members={"olivia@example.com": 42})
    assert (run.created_count, run.failed_count) == (1, 1)
    assert "No workspace member has the e-mail “stranger@example.com”" in report_rows(run)[1][-1]
    with tenant_session(scope) as session:
        assert contact_by_email(session, "a@example.com").owner_id == 42


def test_quotes_backslashes_and_line_breaks_survive_the_bulk_copy(scope):
    content = csv_bytes('E-Mail,Vorname,Tags', 'q@example.com,"Anna ""Nan"" \\ B.","say ""hi"";C:\\temp;{x,y}"',
                        'n@example.com,"Zeile 1', 'Zeile 2",')
    run = run_import(scope, content, members={})
    assert (run.created_count, run.failed_count) == (2, 0)
    with tenant_session(scope) as session:
        quoted = contact_by_email(session, "q@example.com")
        assert quoted.first_name == 'Anna "Nan" \\ B.'
        assert quoted.tags == ['say "hi"', "C:\\temp", "{x", "y}"]
        assert contact_by_email(session, "n@example.com").first_name == "Zeile 1\r\nZeile 2"


def test_updates_merge_custom_values_and_announce_each_one(scope):
    define(scope, "contact", "note", "Notiz", "text")
    define(scope, "contact", "budget", "Budget", "number")
    with tenant_session(scope) as session:
        contact_id = create_contact(session, emails=["ada@example.com"], custom={"note": "alt", "budget": 1}).id
    content = csv_bytes("E-Mail;Notiz;Budget", 'ada@example.com;"sagt ""hallo"" \\ tschüss";1')
    run = run_import(scope, content, on_duplicate="update", members={})
    assert run.updated_count == 1
    with tenant_session(scope) as session:
        assert session.get(Contact, contact_id).custom == {"note": 'sagt "hallo" \\ tschüss', "budget": 1}
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.updated")).one()
        assert event.payload["changes"] == {"custom.note": {"from": "alt", "to": 'sagt "hallo" \\ tschüss'}}


def test_a_run_is_started_once_and_a_failed_real_run_is_resumed_not_restarted(scope):
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contact", filename="a.csv",
                                    content=csv_bytes("E-Mail", "a@example.com"))
        service.start_import(session, run, mapping=run.mapping)
        with pytest.raises(service.ImportRunError, match="already queued"):
            service.start_import(session, run, mapping=run.mapping)
        run.status = "failed"
        with pytest.raises(service.ImportRunError, match="has failed. Resume it"):
            service.start_import(session, run, mapping=run.mapping)
        with pytest.raises(service.ImportRunError, match="on_duplicate must be"):
            service.preview_import(session, run, on_duplicate="merge")


def test_a_row_the_database_refuses_is_reported_and_its_batch_still_imports(scope):
    with tenant_session(scope) as session:  # a rule the importer does not know about
        session.execute(text("ALTER TABLE contacts ADD CONSTRAINT no_verboten CHECK (last_name <> 'Verboten')"))
    lines = ["E-Mail;Nachname"] + [f"p{index}@example.com;{'Verboten' if index == 6 else 'Erlaubt'}"
                                   for index in range(12)]
    run = run_import(scope, csv_bytes(*lines), batch_size=5, members={})
    assert (run.status, run.created_count, run.failed_count) == ("completed", 11, 1)
    assert report_rows(run)[1][:3] == ["8", "p6@example.com", "Verboten"]
    assert report_rows(run)[1][-1].startswith('The database refused this row: new row for relation "contacts"')
    assert "no_verboten" in report_rows(run)[1][-1]
    assert count(scope, Contact) == 11 and count(scope, ContactEmail) == 11
    assert count(scope, OutboxEvent, OutboxEvent.type == "contact.created") == 11


def test_long_phone_numbers_with_extensions_are_refused_before_the_database(scope):
    content = csv_bytes("E-Mail;Telefon", "a@example.com;+49 30 1234 5678 9012 3456 7890 1234 5678 ext. 123456",
                        "b@example.com;+49 30 1234 x 12")
    run = run_import(scope, content, members={})
    assert (run.created_count, run.failed_count) == (1, 1)
    assert "too long for a phone number (at most 50 characters)" in report_rows(run)[1][-1]


def test_a_second_worker_on_the_same_run_takes_over_and_the_first_one_stops(app, scope):
    import threading

    from kundo.crm.imports.runner import RunTakenOver

    content = _numbered_contacts(30, duplicate_of={})
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contact", filename="x.csv", content=content)
        service.start_import(session, run, mapping=run.mapping)
        run_id = run.id
    paused, resumed, outcome = threading.Event(), threading.Event(), {}

    def first_worker():
        def pause_after_first_batch(processed, _total):
            if processed == 10:
                paused.set()
                resumed.wait(30)

        with app.app_context():
            try:
                execute_import(scope, run_id, batch_size=10, members={}, on_progress=pause_after_first_batch)
            except RunTakenOver as error:
                outcome["stopped"] = str(error)

    worker = threading.Thread(target=first_worker)
    worker.start()
    assert paused.wait(30)
    second = resume_import(scope, run_id, batch_size=10, members={})  # the first worker looks dead
    resumed.set()
    worker.join(30)

    assert (second.status, second.processed_rows, second.created_count) == ("completed", 30, 29)
    assert "moved on by another worker" in outcome["stopped"]
    with tenant_session(scope) as session:
        assert session.get(ImportRun, run_id).status == "completed"  # the first worker did not mark it failed
    assert count(scope, Contact) == 29 and count(scope, OutboxEvent) == 29
