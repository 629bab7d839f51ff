"""The Sales Hub: loads as a first-party hub, its table appears where it is enabled, its page works."""

from __future__ import annotations

from kundo.testing.plugins import tenant_tables
from kundo.testing.web import HostClient


def test_sales_hub_is_loaded_and_healthy(app):
    from kundo.plugins import loaded_plugins

    with app.app_context():
        hub = loaded_plugins()["sales"]
    assert hub.healthy, hub.error
    assert hub.manifest.first_party and hub.source == "first_party"


def test_pipelines_page_only_where_enabled(app, client, enable_app, make_workspace):
    mine, other = make_workspace(), make_workspace()
    enable_app(app, mine, "sales")
    assert "sales_pipelines" in tenant_tables(app, mine)
    assert "sales_pipelines" not in tenant_tables(app, other)

    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    seeded = page.get("/apps/sales/pipelines")
    assert seeded.status_code == 200
    assert 'data-pipeline="Sales pipeline"' in seeded.get_data(as_text=True), "the default pipeline on first use"
    dashboard = page.get("/").get_data(as_text=True)
    assert 'href="/apps/sales/board"' in dashboard, "sidebar entry"
    assert 'data-app-widget="sales.pipelines"' in dashboard, "dashboard card"

    assert page.submit("/apps/sales/pipelines", {"name": "First"}).status_code == 302
    listed = page.get("/apps/sales/pipelines").get_data(as_text=True)
    assert 'data-pipeline="First"' in listed
    assert page.submit("/apps/sales/pipelines", {"name": "first"}).status_code == 400, "names are unique"
    assert page.submit("/apps/sales/pipelines", {"name": "  "}).status_code == 400

    stranger = HostClient(client, other.host)
    stranger.submit("/login", {"email": other.owner_email, "password": other.password})
    assert stranger.get("/apps/sales/pipelines").status_code == 404
    assert 'href="/apps/sales/board"' not in stranger.get("/").get_data(as_text=True)


def test_pipelines_page_in_german(app, client, enable_app, make_workspace):
    mine = make_workspace()
    enable_app(app, mine, "sales")
    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    html = page.get("/apps/sales/pipelines", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Pipeline anlegen" in html
