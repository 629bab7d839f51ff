"""service: service_tickets

Runs inside the tenant's schema (search_path, tenant role), so names are unqualified.

Revision ID: service_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "service_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_tickets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_tickets")),
    )


def downgrade() -> None:
    op.drop_table("service_tickets")
