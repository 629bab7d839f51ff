"""activity links carry the activity's time: a timeline page is one index range, however long the timeline

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 't0004'
down_revision = 't0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('activity_links', sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE activity_links AS l SET occurred_at = a.occurred_at FROM activities AS a '
               'WHERE a.id = l.activity_id')
    op.alter_column('activity_links', 'occurred_at', nullable=False)
    op.drop_index('ix_activity_links_object', table_name='activity_links')
    op.create_index('ix_activity_links_timeline', 'activity_links',
                    ['object_type', 'object_id', 'occurred_at', 'activity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_activity_links_timeline', table_name='activity_links')
    op.create_index('ix_activity_links_object', 'activity_links', ['object_type', 'object_id', 'activity_id'],
                    unique=False)
    op.drop_column('activity_links', 'occurred_at')
