"""processed-event ledger and durable timers

Revision ID: t0007
Revises: t0006
Create Date: 2026-11-29
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 't0007'
down_revision = 't0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
