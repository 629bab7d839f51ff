"""The board of a big pipeline: 50 newest cards per column, count and sum over every deal of the stage."""

from __future__ import annotations

import re
from decimal import Decimal

from kundo_sales.deals.board import CARDS_PER_COLUMN
from kundo_sales.pipelines.service import ensure_default_pipeline
from sqlalchemy import text

from kundo.testing.web import HostClient


def test_a_column_shows_the_newest_cards_and_counts_and_sums_all(client, sales_workspace):
    ws = sales_workspace()
    extra = 17
    with ws.session() as session:
        pipeline = ensure_default_pipeline(session, "en")
        first, second = pipeline.stages[0], pipeline.stages[1]
        pipeline_id, first_id, second_id = pipeline.id, first.id, second.id
        # Deal n entered its stage n minutes ago and is worth n euros; one more in another stage and currency.
        session.execute(text("""
            INSERT INTO sales_deals (name, amount, currency, pipeline_id, stage_id, status, stage_entered_at)
            SELECT 'Deal ' || n, n, 'EUR', :pipeline, :stage, 'open', now() - n * interval '1 minute'
            FROM generate_series(1, :count) n
            UNION ALL SELECT 'Franken', 5, 'CHF', :pipeline, :other, 'open', now()
        """), {"pipeline": pipeline_id, "stage": first_id, "other": second_id, "count": CARDS_PER_COLUMN + extra})
    page = HostClient(client, ws.workspace.host)
    page.submit("/login", {"email": ws.workspace.owner_email, "password": ws.workspace.password})
    html = page.get(f"/apps/sales/board?pipeline_id={pipeline_id}").get_data(as_text=True)

    column = html.split(f'data-stage="{first_id}"', 1)[1].split("</section>", 1)[0]
    names = re.findall(r'class="deal-card-name">([^<]+)<', column)
    assert names == [f"Deal {n}" for n in range(1, CARDS_PER_COLUMN + 1)], "the 50 most recently moved, newest first"
    assert re.search(r"data-count>(\d+)<", column).group(1) == str(CARDS_PER_COLUMN + extra)
    total = sum(range(1, CARDS_PER_COLUMN + extra + 1))
    assert f'{total:,}' in re.search(r"data-sum>([^<]*)<", column).group(1), "the sum is over every deal"
    assert f"{extra} more in the list" in column
    assert f"stage_id={first_id}" in column, "the rest are a click away in the list"
    sums = re.search(r'data-sums="([^"]+)"', html.split(f'data-stage="{first_id}"', 1)[1]).group(1)
    assert str(float(Decimal(total))) in sums.replace("&#34;", '"')

    other = html.split(f'data-stage="{second_id}"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'class="deal-card-name">([^<]+)<', other) == ["Franken"]
    assert "more in the list" not in other
