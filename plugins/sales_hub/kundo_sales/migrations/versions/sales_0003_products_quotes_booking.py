"""sales: reserved slot 3 (products, quotes, numbering, booking pages, meetings)

Runs inside the tenant's schema (search_path, tenant role), so names are unqualified.

Revision ID: sales_0003
Revises: sales_0002
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "sales_0003"
down_revision = "sales_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
