"""The Service Hub: loads as a first-party hub, its table appears where it is enabled, its page works."""

from __future__ import annotations

from kundo.testing.plugins import tenant_tables
from kundo.testing.web import HostClient


def test_service_hub_is_loaded_and_healthy(app):
    from kundo.plugins import loaded_plugins

    with app.app_context():
        hub = loaded_plugins()["service"]
    assert hub.healthy, hub.error
    assert hub.manifest.first_party and hub.source == "first_party"


def test_tickets_page_only_where_enabled(app, client, enable_app, make_workspace):
    mine, other = make_workspace(), make_workspace()
    enable_app(app, mine, "service")
    assert "service_tickets" in tenant_tables(app, mine)
    assert "service_tickets" not in tenant_tables(app, other)

    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    empty = page.get("/apps/service/tickets")
    assert empty.status_code == 200
    assert 'data-testid="empty-tickets"' in empty.get_data(as_text=True)
    dashboard = page.get("/").get_data(as_text=True)
    assert 'href="/apps/service/tickets"' in dashboard, "sidebar entry"
    assert 'data-app-widget="service.tickets"' in dashboard, "dashboard card"

    assert page.submit("/apps/service/tickets", {"name": "First"}).status_code == 302
    listed = page.get("/apps/service/tickets").get_data(as_text=True)
    assert 'data-ticket="First"' in listed
    assert page.submit("/apps/service/tickets", {"name": "first"}).status_code == 400, "names are unique"
    assert page.submit("/apps/service/tickets", {"name": "  "}).status_code == 400

    stranger = HostClient(client, other.host)
    stranger.submit("/login", {"email": other.owner_email, "password": other.password})
    assert stranger.get("/apps/service/tickets").status_code == 404
    assert 'href="/apps/service/tickets"' not in stranger.get("/").get_data(as_text=True)


def test_tickets_page_in_german(app, client, enable_app, make_workspace):
    mine = make_workspace()
    enable_app(app, mine, "service")
    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    html = page.get("/apps/service/tickets", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Ticket eröffnen" in html
