"""NUL characters are refused at the door with a 422 naming the field (PostgreSQL cannot store them)."""

from __future__ import annotations

from kundo.testing.web import HostClient


def test_a_json_body_with_nul_is_refused_with_the_field_named(client, make_workspace, api_token):
    workspace = make_workspace()
    api = HostClient(client, workspace.host)
    response = api.api("POST", "/api/v1/contacts", api_token(workspace),
                       json={"first_name": "Ada", "emails": ["ada@example.org"], "source": "web\u0000form"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert "NUL" in body["detail"] and list(body["errors"]) == ["source"]
    nested = api.api("POST", "/api/v1/contacts", api_token(workspace),
                     json={"first_name": "Ada", "emails": ["ok@example.org", "x\u0000@example.org"]})
    assert nested.status_code == 422 and list(nested.get_json()["errors"]) == ["emails.1"]
    # Nothing was stored by either request.
    listed = api.api("GET", "/api/v1/contacts", api_token(workspace)).get_json()
    assert listed["items"] == []


def test_forms_and_query_strings_with_nul_are_refused(client, make_workspace, sign_in):
    workspace = make_workspace()
    page = sign_in(workspace)
    refused = page.submit("/contacts/new", {"first_name": "Ada\x00", "emails": "ada@example.org"})
    assert refused.status_code == 422
    assert "NUL" in refused.get_data(as_text=True)
    assert page.get("/contacts?q=%00").status_code == 422
    assert page.get("/contacts?q=ada").status_code == 200
