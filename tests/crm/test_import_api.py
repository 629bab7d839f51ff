"""The import API over real HTTP: upload → preview → start (dry run, then real) → progress → error report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kundo.crm.contacts.models import Contact
from kundo.platform.db import db
from kundo.tenants.models import Tenant
from kundo.tenants.session import tenant_session
from kundo.testing.web import HostClient

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def api(client, make_workspace, api_token, run_jobs):
    """api(method, path, workspace=None, **kwargs) on a fresh workspace (or the one given)."""
    default = make_workspace()
    tokens = {}

    def call(method: str, path: str, workspace=None, **kwargs):
        workspace = workspace or default
        if workspace.slug not in tokens:
            tokens[workspace.slug] = api_token(workspace)
        return HostClient(client, workspace.host).api(method, f"/api/v1{path}", tokens[workspace.slug], **kwargs)

    call.workspace = default
    call.run_jobs = run_jobs
    return call


def upload(api, content: bytes, filename: str = "kontakte.csv", object_type: str = "contacts", **kwargs):
    return api("POST", "/imports", data={"file": (io.BytesIO(content), filename), "object_type": object_type},
               content_type="multipart/form-data", **kwargs)


def finished(api, run_id: int, workspace=None) -> dict:
    """Let the worker run the import job, then read the import like a polling client does."""
    api.run_jobs()
    body = api("GET", f"/imports/{run_id}", workspace).get_json()
    assert body["status"] in ("completed", "failed"), body
    return body


def contacts_in(app, workspace) -> int:
    with app.app_context(), tenant_session(db.session.get(Tenant, workspace.tenant_id)) as session:
        return session.scalar(select(func.count()).select_from(Contact))


def test_upload_preview_dry_run_then_real_run_and_the_error_report(app, api):
    content = (FIXTURES / "contacts_broken.csv").read_bytes()

    created = upload(api, content, filename="../../etc/kontakte.csv")
    assert created.status_code == 201, created.get_json()
    run = created.get_json()
    assert (run["status"], run["encoding"], run["delimiter"], run["total_rows"]) == ("pending", "utf-8", ",", 8)
    assert run["filename"] == "kontakte.csv"
    assert run["headers"] == ["First name", "Last name", "Email", "Lifecycle stage", "Budget", "Phone"]
    assert run["mapping"] == {"First name": "first_name", "Last name": "last_name", "Email": "email",
                              "Lifecycle stage": "lifecycle_stage", "Budget": None, "Phone": "phone"}

    preview = api("POST", f"/imports/{run['id']}/preview", json={"limit": 3})
    assert preview.status_code == 200
    assert [(row["row"], row["action"]) for row in preview.get_json()["rows"]] == [
        (2, "created"), (3, "failed"), (4, "failed")]
    assert preview.get_json()["rows"][0]["values"]["email"] == "good@example.com"
    assert "not an e-mail address" in preview.get_json()["rows"][1]["problems"][0]

    mapping = {**run["mapping"], "Budget": None}
    started = api("POST", f"/imports/{run['id']}/start", json={"mapping": mapping, "dry_run": True})
    assert started.status_code == 202 and started.get_json()["dry_run"] is True
    assert api("GET", f"/imports/{run['id']}").get_json()["status"] == "queued"  # until a worker takes the job
    dry = finished(api, run["id"])
    assert (dry["status"], dry["created_count"], dry["failed_count"], dry["progress"]) == ("completed", 3, 5, 1.0)
    assert dry["headers"] == run["headers"]  # read from the file's first bytes, the dry run keeps the file
    assert contacts_in(app, api.workspace) == 0

    real = api("POST", f"/imports/{run['id']}/start", json={"mapping": mapping, "on_duplicate": "update"})
    assert real.status_code == 202
    done = finished(api, run["id"])
    assert (done["dry_run"], done["created_count"], done["failed_count"], done["headers"]) == (False, 3, 5, [])
    assert contacts_in(app, api.workspace) == 3

    report = api("GET", done["error_report_url"].removeprefix("/api/v1"))
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "kontakte.errors.csv" in report.headers["Content-Disposition"]
    lines = report.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,First name,Last name,Email,Lifecycle stage,Budget,Phone,Error"
    assert len(lines) == 6 and lines[1].startswith("3,Bad,Mail,not-an-email,")

    again = api("POST", f"/imports/{run['id']}/start", json={"mapping": mapping})
    assert again.status_code == 409 and "Upload the file again" in again.get_json()["detail"]
    assert [item["id"] for item in api("GET", "/imports").get_json()] == [run["id"]]


def test_unreadable_uploads_and_bad_mappings_are_problems_naming_the_field(app, api):
    empty = upload(api, b"")
    assert empty.status_code == 422 and empty.mimetype == "application/problem+json"
    assert "The file is empty" in empty.get_json()["errors"]["file"][0]

    workbook = upload(api, b"PK\x03\x04" + b"\x00" * 100, filename="kontakte.xlsx")
    assert workbook.status_code == 422 and "CSV UTF-8" in workbook.get_json()["detail"]

    wrong_type = upload(api, b"Name\r\nAcme\r\n", object_type="deals")
    assert wrong_type.status_code == 422 and "object_type" in wrong_type.get_json()["errors"]

    missing_file = api("POST", "/imports", data={"object_type": "contact"}, content_type="multipart/form-data")
    assert missing_file.status_code == 422 and "file" in missing_file.get_json()["errors"]

    run = upload(api, b"E-Mail;Vorname\r\nanna@example.de;Anna\r\n").get_json()
    refused = api("POST", f"/imports/{run['id']}/start", json={"mapping": {"E-Mail": "email", "Vorname": "vorname"}})
    assert refused.status_code == 422
    assert "Unknown field “vorname”" in refused.get_json()["errors"]["mapping.Vorname"][0]
    assert api("GET", f"/imports/{run['id']}").get_json()["status"] == "pending"  # nothing started

    bad_option = api("POST", f"/imports/{run['id']}/start", json={"mapping": run["mapping"], "on_duplicate": "merge"})
    assert bad_option.status_code == 422 and "on_duplicate" in bad_option.get_json()["errors"]


def test_a_file_over_the_configured_limit_is_413(app, api):
    app.config["KUNDO_IMPORT_MAX_BYTES"] = 1024
    try:
        response = upload(api, b"E-Mail\r\n" + b"someone@example.com\r\n" * 100)
    finally:
        del app.config["KUNDO_IMPORT_MAX_BYTES"]
    assert response.status_code == 413 and "the limit is" in response.get_json()["detail"]


def test_another_workspace_sees_none_of_the_imports_or_their_rows(app, api, make_workspace):
    run = upload(api, (FIXTURES / "contacts_utf8_bom.csv").read_bytes()).get_json()
    assert api("POST", f"/imports/{run['id']}/start", json={"mapping": run["mapping"]}).status_code == 202
    assert finished(api, run["id"])["created_count"] == 3

    other = make_workspace()
    assert api("GET", "/imports", other).get_json() == []
    for method, path in (("GET", ""), ("GET", "/errors.csv"), ("POST", "/preview"), ("POST", "/start")):
        kwargs = {"json": {"mapping": run["mapping"]}} if method == "POST" else {}
        assert api(method, f"/imports/{run['id']}{path}", other, **kwargs).status_code == 404
    assert contacts_in(app, other) == 0 and contacts_in(app, api.workspace) == 3


def test_read_scope_may_look_but_not_import(app, client, make_workspace, api_token):
    workspace = make_workspace()
    host = HostClient(client, workspace.host)
    token = api_token(workspace, scopes=("read",))
    response = host.api("POST", "/api/v1/imports", token, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"E-Mail\r\na@example.com\r\n"), "a.csv"), "object_type": "contact"})
    assert response.status_code == 403 and "`write` scope" in response.get_json()["detail"]
    assert host.api("GET", "/api/v1/imports", token).status_code == 200
