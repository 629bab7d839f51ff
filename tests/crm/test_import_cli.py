"""`kundo crm import` and `kundo crm import-resume`: progress, summary, report file, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kundo.crm.contacts.models import Contact
from kundo.crm.imports import service
from kundo.crm.imports.runner import execute_import
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import TenantScope, tenant_session

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["crm", *args])

    return invoke


@pytest.fixture
def workspace(app_ctx, make_workspace):
    return make_workspace()


def copy_fixture(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    return target


def contacts(workspace) -> int:
    with tenant_session(db.session.get(Tenant, workspace.tenant_id)) as session:
        return session.scalar(select(func.count()).select_from(Contact))


def test_a_clean_file_imports_with_auto_mapping_and_exits_0(cli, workspace, tmp_path):
    file = copy_fixture(tmp_path, "contacts_excel_de.csv")
    result = cli("import", "--workspace", workspace.slug, "--type", "contacts", str(file), "--auto")
    assert result.exit_code == 0, result.output
    assert "3 of 3 rows — 3 were created, 0 were updated, 0 were skipped, 0 failed." in result.output
    assert contacts(workspace) == 3
    assert not (tmp_path / "contacts_excel_de.csv.errors.csv").exists()


def test_failed_rows_are_written_next_to_the_file_and_exit_1(cli, workspace, tmp_path):
    file = copy_fixture(tmp_path, "contacts_broken.csv")
    result = cli("import", "--workspace", workspace.slug, "--type", "contacts", str(file), "--auto",
                 "--on-duplicate", "update")
    assert result.exit_code == 1
    report = tmp_path / "contacts_broken.csv.errors.csv"
    assert f"5 rows failed; the rows and reasons are in {report}" in result.output
    lines = report.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",Error") and len(lines) == 6
    assert contacts(workspace) == 3


def test_a_dry_run_writes_no_contacts_but_reports_the_same_failures(cli, workspace, tmp_path):
    file = copy_fixture(tmp_path, "contacts_broken.csv")
    result = cli("import", "--workspace", workspace.slug, "--type", "contacts", str(file), "--auto", "--dry-run")
    assert result.exit_code == 1
    assert "Dry run" in result.output and "3 would be created" in result.output
    assert contacts(workspace) == 0
    assert (tmp_path / "contacts_broken.csv.errors.csv").exists()


def test_an_explicit_mapping_as_json_or_file(cli, workspace, tmp_path):
    file = copy_fixture(tmp_path, "contacts_utf8_bom.csv")
    mapping = {"Email": "email", "Last name": "last_name"}
    result = cli("import", "--workspace", workspace.slug, "--type", "contacts", str(file), "--mapping",
                 json.dumps(mapping))
    assert result.exit_code == 0, result.output
    with tenant_session(db.session.get(Tenant, workspace.tenant_id)) as session:
        assert session.scalars(select(Contact.first_name)).all() == [None, None, None]  # first names not mapped

    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({"Email": "email", "Vorname": "first_name"}), encoding="utf-8")
    refused = cli("import", "--workspace", workspace.slug, "--type", "contacts", str(file), "--mapping",
                  str(mapping_file))
    assert refused.exit_code == 1 and "Vorname: The file has no column “Vorname”" in refused.output


def test_without_a_mapping_the_suggestion_is_shown_and_nothing_imported(cli, workspace, tmp_path):
    file = copy_fixture(tmp_path, "contacts_excel_de.csv")
    result = cli("import", "--workspace", workspace.slug, "--type", "contacts", str(file))
    assert result.exit_code == 2
    assert '"Nachname": "last_name"' in result.output and "--auto" in result.output
    assert contacts(workspace) == 0


@pytest.mark.parametrize(("args", "message", "code"), [
    (("--workspace", "no-such-workspace", "--type", "contacts", "{file}", "--auto"), "No workspace", 1),
    (("--workspace", "{slug}", "--type", "contacts", "{empty}", "--auto"), "The file is empty", 1),
    (("--workspace", "{slug}", "--type", "contacts", "{file}", "--auto", "--mapping", "{{}}"), "not both", 2),
    (("--workspace", "{slug}", "--type", "contacts", "{file}", "--mapping", "[1]"), "must be a JSON object", 2),
    (("--workspace", "{slug}", "--type", "deals", "{file}", "--auto"), "Invalid value for '--type'", 2),
])
def test_mistakes_are_explained(cli, workspace, tmp_path, args, message, code):
    file = copy_fixture(tmp_path, "contacts_utf8_bom.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("import", *(arg.format(file=file, empty=empty, slug=workspace.slug) for arg in args))
    assert result.exit_code == code
    assert message in result.output
    assert contacts(workspace) == 0


def test_import_resume_finishes_a_stopped_run(cli, workspace, tmp_path, monkeypatch):
    scope = TenantScope.of(db.session.get(Tenant, workspace.tenant_id))
    with tenant_session(scope) as session:
        run = service.create_import(session, object_type="contact", filename="broken.csv",
                                    content=(FIXTURES / "contacts_broken.csv").read_bytes())
        service.start_import(session, run, mapping=run.mapping)
    execute_import(scope, run.id, batch_size=3, max_batches=1, members={})
    assert contacts(workspace) == 1  # rows 2–4: one good, two broken

    monkeypatch.chdir(tmp_path)
    result = cli("import-resume", "--workspace", workspace.slug, str(run.id))
    assert result.exit_code == 1, result.output
    assert "8 of 8 rows — 3 were created" in result.output
    assert (tmp_path / "broken.csv.errors.csv").exists()
    assert contacts(workspace) == 3

    again = cli("import-resume", "--workspace", workspace.slug, str(run.id))
    assert again.exit_code == 1 and "Only a run that stopped part-way can be resumed" in again.output
