"""Quotes end to end: catalogue, numbering under concurrency, PDF, sending, the buyer's signed link."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from kundo_sales.deals import service as deals
from kundo_sales.errors import SalesValidationError
from kundo_sales.pipelines import service as pipelines
from kundo_sales.pipelines.models import Pipeline
from kundo_sales.products import service as products
from kundo_sales.quotes import service as quotes
from kundo_sales.quotes.models import Quote
from pypdf import PdfReader
from sqlalchemy import select

from kundo.crm import create_contact, timeline_for
from kundo.platform.events import OutboxEvent
from kundo.testing.web import HostClient


def deal_with_contact(session, email="berta@acme-gmbh.de"):
    pipelines.ensure_default_pipeline(session, "en")
    pipeline = session.scalars(select(Pipeline).order_by(Pipeline.id)).first()
    contact = create_contact(session, first_name="Berta", last_name="Buyer", emails=[email])
    deal = deals.create_deal(session, name="Rollout Acme", pipeline_id=pipeline.id, amount="5000",
                             contact_ids=[contact.id])
    return deal, contact


def outbox_to(app, recipient):
    from kundo.platform.db import db
    from kundo.platform.mail.models import OutboxMail

    with app.app_context():
        return list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == recipient)
                                       .order_by(OutboxMail.id)))


@pytest.fixture
def clock_app(database_url):
    """An app of its own whose clock a test may move (the session app's clock must stay put)."""
    from kundo.platform.db import db
    from kundo.testing.fixtures import build_app
    from kundo.testing.jobs import stop_job_runner

    built = build_app(database_url)
    yield built
    stop_job_runner(built)
    with built.app_context():
        db.engine.dispose()


def test_catalogue_presets_skus_and_archive(sales_workspace):
    ws = sales_workspace()
    with ws.session() as session:
        workshop = products.create_product(session, {"name": "Workshop", "sku": "WS-1", "unit_price": "1.499,00"})
        assert (workshop.unit_price, workshop.tax_rate) == (Decimal("1499.00"), Decimal("19.00")), \
            "German input, 19 % default"
        book = products.create_product(session, {"name": "Handbook", "unit_price": "19.99", "tax_rate": "7"})
        assert book.tax_rate == Decimal("7.00")
        with pytest.raises(SalesValidationError) as refused:
            products.create_product(session, {"name": "Copy", "sku": "ws-1", "unit_price": "1"})
        assert "sku" in refused.value.errors, "SKUs are unique regardless of case"
        with pytest.raises(SalesValidationError) as refused:
            products.create_product(session, {"name": "", "unit_price": "-1", "tax_rate": "101"})
        assert set(refused.value.errors) == {"name", "unit_price", "tax_rate"}
        products.archive_product(session, workshop)
        assert [p.name for p in products.list_products(session)] == ["Handbook"]
        assert products.create_product(session, {"name": "Workshop 2", "sku": "WS-1", "unit_price": "1"}).id


def test_quote_lines_from_products_and_free_text_with_stored_totals(sales_workspace):
    ws = sales_workspace()
    with ws.session() as session:
        deal, contact = deal_with_contact(session)
        workshop = products.create_product(session, {"name": "Workshop", "unit_price": "1499", "unit": "days"})
        book = products.create_product(session, {"name": "Handbook", "unit_price": "19.99", "tax_rate": "7"})
        quote = quotes.create_quote(session, deal.id, {"discount_percent": "5"}, lines=[
            {"product_id": workshop.id, "quantity": "2", "discount_percent": "10"},
            {"product_id": book.id, "quantity": "3"},
            {"name": "Licence (pro rata)", "quantity": "1,5", "unit_price": "333.33", "tax_rate": "19"},
        ])
        assert quote.contact_id == contact.id, "the deal's first contact receives it"
        assert [(line.name, line.unit, line.tax_rate) for line in quote.lines] == [
            ("Workshop", "days", Decimal("19.00")), ("Handbook", None, Decimal("7.00")),
            ("Licence (pro rata)", None, Decimal("19.00"))]
        assert (quote.net_total, quote.tax_total, quote.gross_total) == (
            Decimal("3095.26"), Decimal("581.27"), Decimal("3676.53"))
        quotes.remove_line(session, quote, quote.lines[1].id)
        assert quote.gross_total == Decimal("3615.57")  # 19 %: 3038.29 net + 577.28 VAT (the 7 % line is gone)
        with pytest.raises(SalesValidationError) as refused:
            quotes.add_line(session, quote, {"name": "Broken", "quantity": "0", "unit_price": "x"})
        assert {"quantity", "unit_price"} <= set(refused.value.errors)
        # Without a quote discount the quote totals too (the column default would come too late).
        plain = quotes.create_quote(session, deal.id, lines=[{"product_id": book.id, "quantity": "1"}])
        assert (plain.discount_percent, plain.gross_total) == (Decimal("0"), Decimal("21.39"))


def test_numbers_have_no_gaps_and_no_duplicates_under_concurrency(sales_workspace):
    from kundo.tenants.session import tenant_session

    ws = sales_workspace()
    with ws.session() as session:
        deal, _contact = deal_with_contact(session)
        deal_id = deal.id
    with ws.session() as session:
        quotes.create_quote(session, deal_id)
        session.rollback()  # a quote that never commits gives its number back
    count = 8
    barrier = threading.Barrier(count)
    numbers, failures = [], []

    def make():
        try:
            with ws.app.app_context(), tenant_session(ws.tenant) as session:
                barrier.wait(timeout=20)
                numbers.append(quotes.create_quote(session, deal_id).number)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=make) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    with ws.session() as session:
        stored = sorted(session.scalars(select(Quote.number)))
    year = stored[0].split("-")[0]
    assert stored == sorted(numbers) == [f"{year}-{n:04d}" for n in range(1, count + 1)]


def _sent_quote(ws, api_token, client, *, language="en"):
    email = f"berta.{ws.workspace.slug}@acme-gmbh.de"
    with ws.session() as session:
        deal, contact = deal_with_contact(session, email)
        deal_id, contact_id = deal.id, contact.id
    api = HostClient(client, ws.workspace.host)
    token = api_token(ws.workspace)
    created = api.api("POST", "/api/v1/apps/sales/quotes", token, json={
        "deal_id": deal_id, "language": language, "discount_percent": "5", "lines": [
            {"name": "Workshop", "quantity": "2", "unit_price": "1499.00", "discount_percent": "10"},
            {"name": "Handbook", "quantity": "3", "unit_price": "19.99", "tax_rate": "7"},
            {"name": "Licence", "quantity": "1.5", "unit_price": "333.33", "tax_rate": "19"}]})
    assert created.status_code == 201, created.get_json()
    quote = created.get_json()
    assert quote["gross_total"] == "3676.53"
    assert quote["taxes"] == [{"rate": "19.00", "net": "3038.29", "tax": "577.28"},
                              {"rate": "7.00", "net": "56.97", "tax": "3.99"}]
    sent = api.api("POST", f"/api/v1/apps/sales/quotes/{quote['id']}/send", token, json={"to": email})
    assert sent.status_code == 200, sent.get_json()
    return api, token, sent.get_json(), deal_id, contact_id


def test_pdf_is_a_pdf_with_number_lines_and_totals(sales_workspace, api_token, client):
    ws = sales_workspace()
    api, token, quote, _deal_id, _contact_id = _sent_quote(ws, api_token, client, language="de")
    response = api.api("GET", f"/api/v1/apps/sales/quotes/{quote['id']}/pdf", token)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert f"Angebot {quote['number']}" in text, "German template"
    for figure in ("3.676,53", "3.095,26", "577,28", "3,99", "Handbook", "Berta Buyer", "Test GmbH"):
        assert figure in text, figure
    assert "USt. 19 %" in text or "MwSt. 19 %" in text


def test_sending_mails_the_pdf_and_the_buyer_accepts_by_link(sales_workspace, api_token, client, app):
    ws = sales_workspace()
    _api, _token, quote, deal_id, contact_id = _sent_quote(ws, api_token, client)
    assert quote["status"] == "sent" and quote["public_url"].startswith(f"http://{ws.workspace.host}/apps/sales/q/")
    [mail] = outbox_to(app, f"berta.{ws.workspace.slug}@acme-gmbh.de")
    assert quote["number"] in mail.subject
    assert quote["public_url"] in mail.body_text
    assert f"Quote-{quote['number']}.pdf (application/pdf" in mail.body_text, "the PDF is attached"

    buyer = HostClient(app.test_client(), ws.workspace.host)  # no session: not signed in
    path = quote["public_url"].split(ws.workspace.host, 1)[1]
    page = buyer.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert quote["number"] in html and "3,676.53" in html
    assert buyer.post(path + "/answer", data={"decision": "accept", "name": "Berta"}).status_code == 400, "CSRF"
    answered = buyer.submit(path + "/answer", {"decision": "accept", "name": "Berta Buyer"}, page=path)
    assert answered.status_code == 303
    assert 'data-testid="quote-accepted"' in buyer.get(path).get_data(as_text=True)

    with ws.session() as session:
        deal = deals.get_deal(session, deal_id)
        assert deal.status == "won", "accepting moved the deal to won"
        [accepted] = [a for a in timeline_for(session, "deal", deal_id).activities
                      if a.payload.get("kind") == "quote_accepted"]
        assert accepted.payload["by"] == "Berta Buyer"
        assert ("contact", contact_id) in {(link.object_type, link.object_id) for link in accepted.links}
        assert any(a.type == "email" for a in timeline_for(session, "contact", contact_id).activities), "sent mail"
        events = list(session.scalars(select(OutboxEvent.type).where(OutboxEvent.object_id == quote["id"],
                                                                     OutboxEvent.type.like("quote.%"))))
        assert {"quote.created", "quote.sent", "quote.accepted"} <= set(events)
    again = buyer.submit(path + "/answer", {"decision": "decline"}, page=path)
    assert again.status_code == 303
    with ws.session() as session:
        assert session.get(Quote, quote["id"]).status == "accepted", "an answered quote stays answered"


def test_forged_withdrawn_and_expired_links_are_refused(sales_workspace, api_token, client, clock_app):
    ws = sales_workspace()
    api, token, quote, _deal_id, _contact_id = _sent_quote(ws, api_token, client)
    path = quote["public_url"].split(ws.workspace.host, 1)[1]
    buyer = HostClient(clock_app.test_client(), ws.workspace.host)
    assert buyer.get(path).status_code == 200
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert buyer.get(forged).status_code == 404
    other = sales_workspace()
    assert HostClient(clock_app.test_client(), other.workspace.host).get(path).status_code == 404, "other workspace"

    from kundo.testing.jobs import move_clock

    move_clock(clock_app, timedelta(days=61))
    assert buyer.get(path).status_code == 410, "older than the link's lifetime"

    assert api.api("POST", f"/api/v1/apps/sales/quotes/{quote['id']}/withdraw", token).status_code == 200
    assert HostClient(client, ws.workspace.host).get(path).status_code == 404, "withdrawing revokes the link"


def test_declining_after_expiry_is_refused_and_decline_is_recorded(sales_workspace, api_token, client):
    ws = sales_workspace()
    _api, _token, quote, deal_id, _contact_id = _sent_quote(ws, api_token, client)
    with ws.session() as session:
        row = session.get(Quote, quote["id"])
        row.valid_until = row.valid_until - timedelta(days=40)
    path = quote["public_url"].split(ws.workspace.host, 1)[1]
    buyer = HostClient(client.application.test_client(), ws.workspace.host)
    assert 'data-testid="quote-expired"' in buyer.get(path).get_data(as_text=True)
    buyer.submit(path + "/answer", {"decision": "decline"}, page=path)
    with ws.session() as session:
        assert session.get(Quote, quote["id"]).status == "sent"
        row = session.get(Quote, quote["id"])
        row.valid_until = row.valid_until + timedelta(days=80)
    buyer.submit(path + "/answer", {"decision": "decline", "note": "Too expensive"}, page=path)
    with ws.session() as session:
        assert session.get(Quote, quote["id"]).status == "declined"
        assert deals.get_deal(session, deal_id).status == "open"


def test_quote_api_errors_are_problem_json(sales_workspace, api_token, client):
    ws = sales_workspace()
    api = HostClient(client, ws.workspace.host)
    token = api_token(ws.workspace)
    missing = api.api("POST", "/api/v1/apps/sales/quotes", token, json={"deal_id": 999999})
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    bad = api.api("POST", "/api/v1/apps/sales/products", token, json={"name": "X", "unit_price": "-5"})
    assert bad.status_code == 422 and "unit_price" in bad.get_json()["errors"]
    assert api.api("GET", "/api/v1/apps/sales/quotes/123456", token).status_code == 404


def test_editor_pages_create_edit_and_send(sales_workspace, sign_in):
    ws = sales_workspace()
    with ws.session() as session:
        deal, _contact = deal_with_contact(session, f"editor.{ws.workspace.slug}@acme-gmbh.de")
        product = products.create_product(session, {"name": "Workshop", "unit_price": "1499", "tax_rate": "19"})
        deal_id, product_id = deal.id, product.id
    owner = sign_in(ws.workspace)
    deal_page = owner.get(f"/apps/sales/deals/{deal_id}").get_data(as_text=True)
    assert 'data-testid="deal-quotes"' in deal_page, "the quotes panel on the deal page"
    created = owner.submit(f"/apps/sales/deals/{deal_id}/quotes", {}, page=f"/apps/sales/deals/{deal_id}")
    assert created.status_code == 302
    editor = created.headers["Location"]
    assert owner.get(editor).status_code == 200
    added = owner.submit(editor, {"action": "add_product", "add_product_id": str(product_id), "title": "Offer",
                                  "valid_until": "2099-12-31", "language": "de", "discount_percent": ""})
    assert added.status_code == 302
    html = owner.get(editor).get_data(as_text=True)
    assert 'data-line="Workshop"' in html and "1,783.81" in html  # 1499 + 19 % VAT
    bad = owner.submit(editor, {"title": "Offer", "valid_until": "2099-12-31", "language": "de",
                                "line_name": ["Workshop"], "line_quantity": ["0"], "line_unit_price": ["1499"],
                                "line_tax_rate": ["19"], "line_product_id": [""], "line_unit": [""],
                                "line_description": [""], "line_discount_percent": [""]})
    assert bad.status_code == 400 and "field-error" in bad.get_data(as_text=True)
    quote_id = int(editor.rstrip("/").split("/")[-1])
    sent = owner.submit(f"/apps/sales/quotes/{quote_id}/send", {"to": f"editor.{ws.workspace.slug}@acme-gmbh.de"},
                        page=editor)
    assert sent.status_code == 302
    assert 'data-testid="public-link"' in owner.get(editor).get_data(as_text=True)
    assert owner.get(f"/apps/sales/quotes/{quote_id}/pdf").data.startswith(b"%PDF-")
    assert 'data-quote="' in owner.get("/apps/sales/quotes").get_data(as_text=True)
    products_page = owner.get("/apps/sales/products", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Produkt hinzufügen" in products_page and 'data-product="Workshop"' in products_page
