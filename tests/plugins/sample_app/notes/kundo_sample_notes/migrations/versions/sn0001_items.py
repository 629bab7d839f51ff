"""sample notes: the notes table

Revision ID: sn0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "sn0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sample_notes_items",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("text", sa.String(length=500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sample_notes_items")
