"""contact e-mail domain index: duplicate suggestions find colleagues by the address's domain

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-29 21:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = 't0003'
down_revision = 't0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_contact_emails_domain', 'contact_emails',
                    [sa.literal_column("split_part(lower(email), '@', 2)")], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contact_emails_domain', table_name='contact_emails')
