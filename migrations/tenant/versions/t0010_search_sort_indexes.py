"""search and sort indexes for large tenants

Revision ID: t0010
Revises: t0009
Create Date: 2026-11-29
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 't0010'
down_revision = 't0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
