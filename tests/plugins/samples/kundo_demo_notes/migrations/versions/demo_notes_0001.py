"""demo_notes: items"""
import sqlalchemy as sa
from alembic import op

revision = "demo_notes_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("demo_notes_items",
                    sa.Column("id", sa.BigInteger(), primary_key=True),
                    sa.Column("text", sa.String(200), nullable=False))


def downgrade() -> None:
    op.drop_table("demo_notes_items")
