"""The Marketing Hub: loads as a first-party hub, its table appears where it is enabled, its page works."""

from __future__ import annotations

from kundo.testing.plugins import tenant_tables
from kundo.testing.web import HostClient


def test_marketing_hub_is_loaded_and_healthy(app):
    from kundo.plugins import loaded_plugins

    with app.app_context():
        hub = loaded_plugins()["marketing"]
    assert hub.healthy, hub.error
    assert hub.manifest.first_party and hub.source == "first_party"


def test_forms_page_only_where_enabled(app, client, enable_app, make_workspace):
    mine, other = make_workspace(), make_workspace()
    enable_app(app, mine, "marketing")
    assert "marketing_forms" in tenant_tables(app, mine)
    assert "marketing_forms" not in tenant_tables(app, other)

    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    empty = page.get("/apps/marketing/forms")
    assert empty.status_code == 200
    assert 'data-testid="empty-forms"' in empty.get_data(as_text=True)
    dashboard = page.get("/").get_data(as_text=True)
    assert 'href="/apps/marketing/forms"' in dashboard, "sidebar entry"
    assert 'data-app-widget="marketing.forms"' in dashboard, "dashboard card"

    assert page.submit("/apps/marketing/forms", {"name": "First"}).status_code == 302
    listed = page.get("/apps/marketing/forms").get_data(as_text=True)
    assert 'data-form="First"' in listed
    assert page.submit("/apps/marketing/forms", {"name": "first"}).status_code == 400, "names are unique"
    assert page.submit("/apps/marketing/forms", {"name": "  "}).status_code == 400

    stranger = HostClient(client, other.host)
    stranger.submit("/login", {"email": other.owner_email, "password": other.password})
    assert stranger.get("/apps/marketing/forms").status_code == 404
    assert 'href="/apps/marketing/forms"' not in stranger.get("/").get_data(as_text=True)


def test_forms_page_in_german(app, client, enable_app, make_workspace):
    mine = make_workspace()
    enable_app(app, mine, "marketing")
    page = HostClient(client, mine.host)
    page.submit("/login", {"email": mine.owner_email, "password": mine.password})
    html = page.get("/apps/marketing/forms", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Formular anlegen" in html
