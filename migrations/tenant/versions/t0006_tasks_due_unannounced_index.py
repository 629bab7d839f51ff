"""tasks: partial index on the due time of open, unannounced tasks, for emit_due_tasks

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-30 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 't0006'
down_revision = 't0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tasks_due_unannounced', 'tasks', ['due_at'], unique=False,
                    postgresql_where=sa.text('done_at IS NULL AND due_notified_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_tasks_due_unannounced', table_name='tasks',
                  postgresql_where=sa.text('done_at IS NULL AND due_notified_at IS NULL'))
