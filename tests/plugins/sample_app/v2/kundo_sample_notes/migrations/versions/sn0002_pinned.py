"""sample notes 2.0: notes can be pinned

Revision ID: sn0002
Revises: sn0001
"""
import sqlalchemy as sa
from alembic import op

revision = "sn0002"
down_revision = "sn0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sample_notes_items", sa.Column("pinned", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    op.drop_column("sample_notes_items", "pinned")
