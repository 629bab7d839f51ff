"""Deal pages over HTTP: board, list, new deal, deal record page, the board's move endpoint."""

from __future__ import annotations

from kundo_sales.deals import service
from kundo_sales.deals.models import Deal
from kundo_sales.pipelines.models import Pipeline
from sqlalchemy import select

from kundo.testing.web import HostClient


def _signed_in(client, ws):
    page = HostClient(client, ws.workspace.host)
    page.submit("/login", {"email": ws.workspace.owner_email, "password": ws.workspace.password})
    return page


def _csrf(page):
    import re

    html = page.get("/apps/sales/board").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_board_seeds_the_default_pipeline_and_shows_columns(client, sales_workspace):
    ws = sales_workspace()
    page = _signed_in(client, ws)
    html = page.get("/apps/sales/board").get_data(as_text=True)
    assert 'data-testid="board"' in html
    assert 'data-testid="column-Qualified"' in html and 'data-testid="column-Lost"' in html


def test_new_deal_form_deal_page_and_move(client, sales_workspace):
    ws = sales_workspace()
    page = _signed_in(client, ws)
    page.get("/apps/sales/board")
    with ws.session() as session:
        pipeline = session.scalars(select(Pipeline)).one()
        first, second, lost = pipeline.stages[0].id, pipeline.stages[1].id, pipeline.stages[-1].id
        pipeline_id = pipeline.id
    bad = page.submit("/apps/sales/deals/new", {"name": "", "pipeline_id": pipeline_id, "stage_id": first,
                                                "amount": "abc"})
    assert bad.status_code == 422
    assert 'data-error-for="amount"' in bad.get_data(as_text=True)
    made = page.submit("/apps/sales/deals/new", {"name": "Acme", "pipeline_id": pipeline_id, "stage_id": first,
                                                 "amount": "5000", "currency": "EUR", "owner_id": ""})
    assert made.status_code == 302
    deal_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    html = page.get(f"/apps/sales/deals/{deal_id}").get_data(as_text=True)
    assert 'data-testid="record-name">Acme<' in html
    assert 'data-testid="deal-insights"' in html and 'data-testid="stage-history"' in html

    token = _csrf(page)
    moved = page.post(f"/apps/sales/deals/{deal_id}/move", json={"stage_id": second},
                      headers={"X-CSRFToken": token})
    assert moved.status_code == 200 and moved.get_json()["ok"]
    refused = page.post(f"/apps/sales/deals/{deal_id}/move", json={"stage_id": lost},
                        headers={"X-CSRFToken": token})
    assert refused.status_code == 422
    assert "lost_reason" in refused.get_json()["errors"]
    with ws.session() as session:
        assert session.get(Deal, deal_id).stage_id == second, "a refused move changes nothing"
    board = page.get(f"/apps/sales/board?pipeline_id={pipeline_id}").get_data(as_text=True)
    assert f'data-testid="deal-{deal_id}"' in board
    listed = page.get("/apps/sales/deals").get_data(as_text=True)
    assert f'data-deal="{deal_id}"' in listed


def test_deal_page_of_another_workspace_is_not_found(client, sales_workspace):
    mine, other = sales_workspace(), sales_workspace()
    with other.session() as session:
        from kundo_sales.pipelines.service import ensure_default_pipeline

        pipeline = ensure_default_pipeline(session, "en")
        deal = service.create_deal(session, name="Theirs", pipeline_id=pipeline.id)
        deal_id = deal.id
    page = _signed_in(client, mine)
    assert page.get(f"/apps/sales/deals/{deal_id}").status_code == 404
