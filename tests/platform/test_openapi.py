"""The OpenAPI document: valid, complete, honest about errors and security, served with
Swagger UI from Kundo's own static files — and the live API keeps its promises."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode

from kundo.platform.api_pagination import encode_cursor
from kundo.testing.fixtures import TEST_DOMAIN

ROOT = f"http://{TEST_DOMAIN}"
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json", base_url=ROOT)
    assert response.status_code == 200
    return response.get_json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Kundo API"


def test_every_operation_has_a_one_line_summary_and_says_what_token_it_needs(spec):
    for path, method, operation in operations(spec):
        summary = operation.get("summary", "")
        assert summary and "\n" not in summary, f"{method.upper()} {path} has no summary (a route docstring)"
        assert "`" in operation.get("description", "") and "scope" in operation["description"], (
            f"{method.upper()} {path} does not say which scope it needs")


def test_the_platform_routes_are_all_documented(spec):
    documented = {(path, method) for path, method, _op in operations(spec)}
    assert documented >= {
        ("/api/v1/me", "get"), ("/api/v1/workspace", "get"), ("/api/v1/workspace", "patch"),
        ("/api/v1/members", "get"), ("/api/v1/members/{user_id}", "get"), ("/api/v1/members/{user_id}", "patch"),
        ("/api/v1/members/{user_id}", "delete"), ("/api/v1/invitations", "get"), ("/api/v1/invitations", "post"),
        ("/api/v1/tokens", "get"), ("/api/v1/tokens", "post"), ("/api/v1/tokens/{token_id}", "delete"),
    }


def test_bearer_tokens_are_the_documented_security(spec):
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearer": []}]


def test_errors_are_documented_as_problem_json(spec):
    for path, method, operation in operations(spec):
        assert operation["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]
    assert default["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert set(spec["components"]["schemas"]["Problem"]["properties"]) >= {"type", "title", "status", "detail",
                                                                           "errors"}
    assert "Error" not in spec["components"]["schemas"], "flask-smorest's own error schema is still documented"


def test_schemas_are_named_by_use(spec):
    names = set(spec["components"]["schemas"])
    assert names >= {"Me", "Workspace", "WorkspacePatch", "Member", "MemberPage", "MemberPatch", "Invitation",
                     "InvitationCreate", "ApiToken", "ApiTokenCreate", "NewApiToken", "Problem"}
    # apispec appends digits when two differently configured schemas share a name.
    assert not [name for name in names if re.search(r"\d$", name)]
    members = spec["paths"]["/api/v1/members"]["get"]
    assert {p["name"] for p in members["parameters"] if p["in"] == "query"} == {"limit", "cursor"}


def test_swagger_ui_is_served_from_kundos_own_static_files(app):
    client = app.test_client()
    page = client.get("/api/v1/docs", base_url=ROOT)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    swagger = [a for a in assets if "swagger-ui" in a]
    assert len(swagger) == 3 and all(a.startswith("/static/vendor/swagger-ui/") for a in swagger), assets
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "the docs page loads something from elsewhere"
    assert "/api/v1/openapi.json" in html
    for asset in swagger:
        response = client.get(asset, base_url=ROOT)
        assert response.status_code == 200, f"{asset} missing: run `make assets`"
        assert len(response.data) > 1000


# ---- the live API against its own document ------------------------------------------------------


@pytest.fixture(scope="module")
def api_schema(app):
    """The platform's own operations; hubs fuzz theirs in their own suites."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, base_url=ROOT)
    return schema.include(tag=["api_auth", "api_workspace"])


def with_a_real_cursor(case):
    """A cursor is opaque: a schema cannot describe which strings Kundo made, so a
    generated one stands for "some cursor" and is swapped for a real one. Forged cursors
    have their own test in test_api.py."""
    if isinstance(case.query, dict) and case.query.get("cursor"):
        case.query["cursor"] = encode_cursor([len(case.query["cursor"])])
    return case


def fuzz(operation, headers: dict) -> None:
    """Valid and invalid requests for one operation, the same ones on every run."""

    @given(case=st.one_of(operation.as_strategy(mode).map(with_a_real_cursor) for mode in GenerationMode))
    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def exercise(case):
        case.call_and_validate(base_url=ROOT, headers=headers)

    exercise()


def test_the_live_api_keeps_the_promises_of_its_document(api_schema, make_workspace, add_member, api_token):
    """Generated requests, valid and invalid, with and without the token, for every
    operation: no 5xx, and every answer matches the documented status, type and schema.

    (schemathesis' own pytest loader fails on pytest 9, so the cases are drawn here.)
    """
    ws = make_workspace(name="Fuzz GmbH")
    add_member(ws, role="admin")
    failures = {}
    operations_run = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        # A fresh token per operation: a generated DELETE /tokens/{id} may revoke the
        # one in use, which must not turn the next operation into a run of 401s.
        headers = {"Authorization": f"Bearer {api_token(ws)}"}

        try:
            fuzz(operation, headers)
        except Exception as failure:  # noqa: BLE001 - collected and reported for every operation below
            failures[operation.label] = failure
        operations_run += 1
    assert operations_run == 12
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
