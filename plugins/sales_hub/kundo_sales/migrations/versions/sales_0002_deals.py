"""sales: reserved slot 2 (pipelines, stages, deals, stage history, targets, stage rules)

Runs inside the tenant's schema (search_path, tenant role), so names are unqualified.

Revision ID: sales_0002
Revises: sales_0001
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "sales_0002"
down_revision = "sales_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
