"""The Sales Hub API under /api/v1/apps/sales/: pipelines, stages, rules, deals, moves, forecast, metrics."""

from __future__ import annotations

from kundo.testing.web import HostClient

BASE = "/api/v1/apps/sales"


def _api(client, ws, api_token, user_id=None):
    host = HostClient(client, ws.workspace.host)
    token = api_token(ws.workspace, user_id=user_id)

    def call(method, path, **kwargs):
        return host.api(method, BASE + path, token, **kwargs)

    return call


def test_pipelines_stages_and_rules(client, sales_workspace, api_token):
    ws = sales_workspace()
    api = _api(client, ws, api_token)
    listed = api("GET", "/pipelines")
    assert listed.status_code == 200
    (default,) = listed.get_json()
    assert [s["kind"] for s in default["stages"]] == ["open"] * 4 + ["won", "lost"]
    made = api("POST", "/pipelines", json={"name": "Partners", "stages": [{"name": "Intro", "probability": 20}]})
    assert made.status_code == 201, made.get_json()
    pipeline = made.get_json()
    assert [s["name"] for s in pipeline["stages"]] == ["Intro", "Won", "Lost"]
    dup = api("POST", "/pipelines", json={"name": "partners"})
    assert dup.status_code == 422 and dup.mimetype == "application/problem+json"
    assert "name" in dup.get_json()["errors"]
    stage = api("POST", f"/pipelines/{pipeline['id']}/stages", json={"name": "Demo", "probability": 60}).get_json()
    won = pipeline["stages"][1]
    refused = api("PATCH", f"/stages/{won['id']}", json={"probability": 10})
    assert refused.status_code == 422 and "probability" in refused.get_json()["errors"]
    assert api("PATCH", f"/stages/{stage['id']}", json={"rotting_days": 5}).get_json()["rotting_days"] == 5
    order = api("PUT", f"/pipelines/{pipeline['id']}/stage-order",
                json={"stage_ids": [stage["id"], pipeline["stages"][0]["id"]]}).get_json()
    assert [s["name"] for s in order["stages"]] == ["Demo", "Intro", "Won", "Lost"]
    rule = api("POST", f"/pipelines/{pipeline['id']}/rules",
               json={"stage_id": stage["id"], "title": "Send recap", "task_type": "email", "due_in_days": 1})
    assert rule.status_code == 201
    assert [r["title"] for r in api("GET", f"/pipelines/{pipeline['id']}/rules").get_json()] == ["Send recap"]
    bad_rule = api("POST", f"/pipelines/{pipeline['id']}/rules", json={"stage_id": 999999, "title": "x"})
    assert bad_rule.status_code == 422 and "stage_id" in bad_rule.get_json()["errors"]
    assert api("GET", "/pipelines/999999").status_code == 404


def test_deal_crud_move_history_and_insights(client, sales_workspace, api_token, add_member):
    ws = sales_workspace()
    api = _api(client, ws, api_token)
    pipeline = api("GET", "/pipelines").get_json()[0]
    stages = {s["kind"] if s["kind"] != "open" else s["name"]: s["id"] for s in pipeline["stages"]}
    created = api("POST", "/deals", json={"name": "Acme", "amount": "1200.50", "expected_close_date": "2026-03-01"})
    assert created.status_code == 201, created.get_json()
    deal = created.get_json()
    assert (deal["owner_id"], deal["stage_id"], deal["amount"], deal["status"]) == (
        ws.workspace.owner_id, stages["Qualified"], "1200.50", "open")
    assert api("POST", "/deals", json={"name": "X", "owner_id": 987654}).status_code == 422
    bad = api("POST", "/deals", json={"name": "X", "stage_id": 987654})
    assert bad.status_code == 422 and "stage_id" in bad.get_json()["errors"]
    moved = api("POST", f"/deals/{deal['id']}/move", json={"stage_id": stages["Proposal"]})
    assert moved.status_code == 200 and moved.get_json()["stage_id"] == stages["Proposal"]
    lost = api("POST", f"/deals/{deal['id']}/move", json={"stage_id": stages["lost"]})
    assert lost.status_code == 422 and "lost_reason" in lost.get_json()["errors"]
    lost = api("POST", f"/deals/{deal['id']}/move", json={"stage_id": stages["lost"], "lost_reason": "Budget"})
    assert (lost.get_json()["status"], lost.get_json()["lost_reason"]) == ("lost", "Budget")
    history = api("GET", f"/deals/{deal['id']}/history").get_json()
    assert [h["to_stage_id"] for h in history] == [stages["Qualified"], stages["Proposal"], stages["lost"]]
    assert {h["changed_by"] for h in history} == {ws.workspace.owner_id}
    patched = api("PATCH", f"/deals/{deal['id']}", json={"next_step": "Call back", "amount": "99"})
    assert (patched.get_json()["next_step"], patched.get_json()["amount"]) == ("Call back", "99.00")
    insights = api("GET", f"/deals/{deal['id']}/insights").get_json()
    assert insights["open_tasks"] == 0 and "stage_age_days" in insights
    listed = api("GET", "/deals?status=lost&limit=1").get_json()
    assert [d["id"] for d in listed["items"]] == [deal["id"]]
    assert api("GET", "/deals?close_from=yesterday").status_code == 400
    assert api("DELETE", f"/deals/{deal['id']}").status_code == 204
    assert api("GET", f"/deals/{deal['id']}").status_code == 404


def test_members_may_be_limited_to_their_own_deals(client, sales_workspace, api_token, add_member):
    ws = sales_workspace()
    member_id, _email = add_member(ws.workspace)
    owner_api = _api(client, ws, api_token)
    member_api = _api(client, ws, api_token, user_id=member_id)
    theirs = owner_api("POST", "/deals", json={"name": "Owner's"}).get_json()
    mine = member_api("POST", "/deals", json={"name": "Member's"}).get_json()
    assert {d["id"] for d in member_api("GET", "/deals").get_json()["items"]} == {theirs["id"], mine["id"]}
    with ws.session() as session:
        from kundo_sales.access import save_visibility

        save_visibility(session, "own")
    assert [d["id"] for d in member_api("GET", "/deals").get_json()["items"]] == [mine["id"]]
    assert member_api("GET", f"/deals/{theirs['id']}").status_code == 404
    assert member_api("POST", f"/deals/{theirs['id']}/move", json={"stage_id": 1}).status_code == 404
    assert len(owner_api("GET", "/deals").get_json()["items"]) == 2, "admins and owners see all"
    assert member_api("POST", "/pipelines", json={"name": "Mine"}).status_code == 403


def test_forecast_and_metrics_endpoints(client, sales_workspace, api_token):
    ws = sales_workspace()
    api = _api(client, ws, api_token)
    api("POST", "/deals", json={"name": "Acme", "amount": "1000", "expected_close_date": "2026-02-10"})
    forecast = api("GET", "/forecast?start=2026-01&months=2")
    assert forecast.status_code == 200
    rows = {r["key"]: r for r in forecast.get_json()["rows"]}
    assert (rows["2026-02-01"]["unweighted"], rows["2026-02-01"]["weighted"]) == ("1000.00", "100.00")
    assert api("GET", "/forecast?start=2026-13").status_code == 400
    assert api("GET", "/forecast?group_by=colour").status_code == 422
    metrics = api("GET", "/metrics?from=2026-01-01&to=2026-01-31")
    assert metrics.status_code == 200
    assert metrics.get_json()["open"] == 1 and metrics.get_json()["from"] == "2026-01-01"
    assert api("GET", "/metrics?from=2026-02-01&to=2026-01-01").status_code == 400
    target = api("PUT", "/targets", json={"owner_id": ws.workspace.owner_id, "month": "2026-02", "amount": "5000"})
    assert target.status_code == 200
    rows = {r["key"]: r for r in api("GET", "/forecast?start=2026-01&months=2").get_json()["rows"]}
    assert rows["2026-02-01"]["target"] == "5000.00"


def test_api_answers_404_where_the_hub_is_not_enabled(client, make_workspace, api_token):
    other = make_workspace()
    host = HostClient(client, other.host)
    assert host.api("GET", BASE + "/deals", api_token(other)).status_code == 404
