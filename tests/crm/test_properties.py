"""Custom properties through the API: definitions per object type, and values checked on every write."""

from __future__ import annotations

import pytest

from kundo.testing.web import HostClient


@pytest.fixture
def api(client, make_workspace, api_token):
    """call(method, path, json=None, token_=None) on a fresh workspace with its owner's token."""
    workspace = make_workspace()
    host = HostClient(client, workspace.host)
    token = api_token(workspace)

    def call(method, path, json=None, token_=None):
        return host.api(method, f"/api/v1{path}", token_ or token, json=json)

    call.workspace = workspace
    return call


COLLECTION = {"contact": "/contacts", "company": "/companies"}

TYPES = [  # type, options, value sent, value stored, a wrong value
    ("text", [], "  Nordost ", "  Nordost ", "x" * 10_001),
    ("number", [], "1,5", 1.5, "eins"),
    ("date", [], "31.03.2026", "2026-03-31", "2026-13-01"),
    ("enum", [{"value": "gold", "label": "Gold"}, "silver"], "silver", "silver", "bronze"),
    ("boolean", [], "ja", True, "vielleicht"),
    ("url", [], "example.com/about", "https://example.com/about", "not a url"),
]


@pytest.mark.parametrize("object_type", ["contact", "company"])
@pytest.mark.parametrize(("kind", "options", "sent", "stored", "wrong"), TYPES)
def test_each_property_type_is_checked_and_stored_in_one_form(api, object_type, kind, options, sent, stored, wrong):
    created = api("POST", f"/properties/{object_type}", {"key": "extra", "label": "Extra", "type": kind,
                                                         "options": [o if isinstance(o, dict) else {"value": o}
                                                                     for o in options]})
    assert created.status_code == 201, created.json
    base = {"name": "Acme"} if object_type == "company" else {}
    record = api("POST", COLLECTION[object_type], {**base, "custom": {"extra": sent}})
    assert record.status_code == 201, record.json
    assert record.json["custom"] == {"extra": stored}
    refused = api("PATCH", f"{COLLECTION[object_type]}/{record.json['id']}", {"custom": {"extra": wrong}})
    assert refused.status_code == 422
    [message] = refused.json["errors"]["custom"]
    assert list(refused.json["errors"]) == ["custom"] and message.startswith("extra: ")
    assert api("GET", f"{COLLECTION[object_type]}/{record.json['id']}").json["custom"] == {"extra": stored}


@pytest.mark.parametrize("object_type", ["contact", "company"])
def test_required_and_unknown_properties_are_named(api, object_type):
    api("POST", f"/properties/{object_type}", {"key": "region", "label": "Region", "type": "text", "required": True})
    base = {"name": "Acme"} if object_type == "company" else {}
    missing = api("POST", COLLECTION[object_type], {**base, "custom": {"colour": "red"}})
    assert missing.status_code == 422
    colour, region = sorted(missing.json["errors"]["custom"])
    assert list(missing.json["errors"]) == ["custom"] and region == "region: This property is required."
    assert colour.startswith("colour: Unknown property") and "Settings" in colour
    assert api("POST", COLLECTION[object_type], {**base, "custom": {"region": "Süd"}}).status_code == 201


def test_definitions_are_listed_created_changed_and_refused_with_reasons(api):
    assert api("GET", "/properties/contact").json == []
    first = api("POST", "/properties/contact", {"key": "tier", "label": "Tier", "type": "enum",
                                                "options": [{"value": "a", "label": "A"}, {"value": "b"}]})
    assert first.status_code == 201
    assert first.json["options"] == [{"value": "a", "label": "A"}, {"value": "b", "label": "b"}]
    second = api("POST", "/properties/contact", {"key": "notes_2", "label": "Notes", "type": "text"}).json
    assert [d["key"] for d in api("GET", "/properties/contact").json] == ["tier", "notes_2"]
    assert second["position"] > first.json["position"]
    refusals = [
        ({"key": "tier", "label": "Again", "type": "text"}, "key"),
        ({"key": "Bad Key", "label": "Bad", "type": "text"}, "key"),
        ({"key": "choice", "label": "Choice", "type": "enum"}, "options"),
        ({"key": "plain", "label": "Plain", "type": "text", "options": [{"value": "x"}]}, "options"),
        ({"key": "dup", "label": "Dup", "type": "enum", "options": [{"value": "x"}, {"value": "x"}]}, "options"),
        ({"key": "odd", "label": "Odd", "type": "colour"}, "type"),
        ({"key": "nolabel", "label": "   ", "type": "text"}, "label"),
    ]
    for payload, field in refusals:
        response = api("POST", "/properties/contact", payload)
        assert response.status_code == 422, payload
        assert field in response.json["errors"], (payload, response.json)
    assert api("GET", "/properties/contact").json[0]["key"] == "tier"
    assert api("GET", "/properties/deal").status_code == 404
    assert api("GET", "/properties/contact/nope").status_code == 404

    changed = api("PATCH", "/properties/contact/tier", {"label": "Customer tier", "required": True,
                                                        "options": [{"value": "a"}, {"value": "b"}, {"value": "c"}]})
    assert changed.status_code == 200
    assert (changed.json["label"], changed.json["required"], len(changed.json["options"])) == ("Customer tier",
                                                                                               True, 3)
    assert api("PATCH", "/properties/contact/tier", {"type": "text"}).status_code == 422
    assert api("PATCH", "/properties/contact/notes_2", {"options": [{"value": "x"}]}).status_code == 422


def test_an_option_in_use_cannot_be_removed(api):
    api("POST", "/properties/company", {"key": "tier", "label": "Tier", "type": "enum",
                                        "options": [{"value": "a"}, {"value": "b"}]})
    api("POST", "/companies", {"name": "Uses b", "custom": {"tier": "b"}})
    refused = api("PATCH", "/properties/company/tier", {"options": [{"value": "a"}]})
    assert refused.status_code == 409 and "“b”" in refused.json["detail"]
    assert api("PATCH", "/properties/company/tier", {"options": [{"value": "b"}, {"value": "c"}]}).status_code == 200


def test_deleting_a_definition_needs_confirmation_and_removes_its_values(api):
    api("POST", "/properties/contact", {"key": "shoe", "label": "Shoe size", "type": "number"})
    api("POST", "/properties/contact", {"key": "team", "label": "Team", "type": "text"})
    with_value = api("POST", "/contacts", {"custom": {"shoe": 42, "team": "Blue"}}).json
    api("POST", "/contacts", {"custom": {"team": "Red"}})
    asked = api("DELETE", "/properties/contact/shoe")
    assert asked.status_code == 400 and "on 1 records" in asked.json["detail"] and "confirm" in asked.json["errors"]
    assert api("GET", f"/contacts/{with_value['id']}").json["custom"] == {"shoe": 42, "team": "Blue"}
    assert api("DELETE", "/properties/contact/shoe?confirm=true").status_code == 204
    assert api("GET", f"/contacts/{with_value['id']}").json["custom"] == {"team": "Blue"}
    assert [d["key"] for d in api("GET", "/properties/contact").json] == ["team"]
    assert api("DELETE", "/properties/contact/shoe?confirm=true").status_code == 404


def test_only_admins_define_properties(api, add_member, api_token):
    member_id, _email = add_member(api.workspace, role="member")
    member = api_token(api.workspace, user_id=member_id)
    assert api("POST", "/properties/contact", {"key": "x", "label": "X", "type": "text"}, token_=member) \
        .status_code == 403
    api("POST", "/properties/contact", {"key": "x", "label": "X", "type": "text"})
    assert api("GET", "/properties/contact", token_=member).status_code == 200
    assert api("PATCH", "/properties/contact/x", {"label": "Y"}, token_=member).status_code == 403
    assert api("DELETE", "/properties/contact/x?confirm=true", token_=member).status_code == 403


def test_another_workspace_sees_none_of_the_properties(api, client, make_workspace, api_token):
    api("POST", "/properties/contact", {"key": "secret", "label": "Secret", "type": "text"})
    theirs = make_workspace()
    host, token = HostClient(client, theirs.host), api_token(theirs)
    assert host.api("GET", "/api/v1/properties/contact", token).json == []
    assert host.api("GET", "/api/v1/properties/contact/secret", token).status_code == 404
    assert host.api("DELETE", "/api/v1/properties/contact/secret?confirm=true", token).status_code == 404
    refused = host.api("POST", "/api/v1/contacts", token, json={"custom": {"secret": "x"}})
    assert refused.status_code == 422 and refused.json["errors"]["custom"][0].startswith("secret: ")
    assert [d["key"] for d in api("GET", "/properties/contact").json] == ["secret"]
