"""sales: indexes for the board's newest cards per stage, the forecast and the metrics' cohort

Measured with bench/sales.py (100,000 deals): the board ranked every deal of the
pipeline to show 50 per column, and the forecast and the metrics read the whole deals
table. With these each reads the rows it shows or sums.

Revision ID: sales_0004
Revises: sales_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "sales_0004"
down_revision = "sales_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The board: the most recently moved deals of one stage, newest first.
    op.create_index("ix_sales_deals_stage_recent", "sales_deals",
                    ["stage_id", sa.text("stage_entered_at DESC"), sa.text("id DESC")])
    # Forecast (won in the period) and metrics (closed in the period); NULL while open.
    op.create_index("ix_sales_deals_closed", "sales_deals", ["closed_at"])
    # Metrics: the deals of a pipeline created in the period (stage conversion).
    op.create_index("ix_sales_deals_pipeline_created", "sales_deals", ["pipeline_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sales_deals_pipeline_created", table_name="sales_deals")
    op.drop_index("ix_sales_deals_closed", table_name="sales_deals")
    op.drop_index("ix_sales_deals_stage_recent", table_name="sales_deals")
