"""Prometheus /metrics: request figures per endpoint, operator gauges, and who may scrape."""

from __future__ import annotations

from kundo.testing.fixtures import build_app


def test_metrics_count_requests_by_endpoint_and_report_operator_figures(root):
    root.get("/healthz")
    root.get("/no-such-page")
    text = root.get("/metrics").get_data(as_text=True)
    assert 'kundo_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text
    assert 'kundo_http_requests_total{endpoint="unmatched",method="GET",status="404"}' in text
    assert "kundo_http_request_seconds_bucket" in text
    for gauge in ("kundo_dead_letters", "kundo_workspaces", "kundo_unhealthy_plugins"):
        assert f"\n{gauge} " in text


def test_metrics_from_elsewhere_need_the_token(database_url, client):
    elsewhere = client.get("/metrics", base_url="http://kundo.test", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 403
    app = build_app(database_url, metrics_token="scrape-me-please")
    guarded = app.test_client()
    assert guarded.get("/metrics", base_url="http://kundo.test").status_code == 401
    bearer = {"Authorization": "Bearer scrape-me-please"}
    allowed = guarded.get("/metrics", base_url="http://kundo.test", headers=bearer)
    assert allowed.status_code == 200 and "kundo_workspaces" in allowed.get_data(as_text=True)
