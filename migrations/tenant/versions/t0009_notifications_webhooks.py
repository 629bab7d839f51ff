"""in-app notifications and outgoing webhook subscriptions

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 't0009'
down_revision = 't0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=30), server_default='info', nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index('ix_notifications_user', 'notifications', ['user_id', 'id'], unique=False)
    op.create_index('ix_notifications_unread', 'notifications', ['user_id'], unique=False,
                    postgresql_where='read_at IS NULL')
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('email_enabled', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('event_types', postgresql.ARRAY(sa.String(length=100)), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('subscription_id', sa.BigInteger(), nullable=True),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'],
                            name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    op.create_index('ix_webhook_deliveries_subscription', 'webhook_deliveries', ['subscription_id', 'id'],
                    unique=False)
    # Tasks written before reminders ran on timers get theirs now (kundo.crm.tasks.reminders:
    # same handlers, keys and payloads, times in Python's isoformat).
    for handler, prefix, column, field, condition in (
        ("crm.task_reminder", "task-reminder", "reminder_at", "reminder_at",
         "reminder_at > now()"),  # a reminder long past is no use now
        ("crm.task_due", "task-due", "due_at", "due_at", "due_at IS NOT NULL AND due_notified_at IS NULL"),
    ):
        iso = (f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
               f"CASE WHEN to_char({column}, 'US') <> '000000' THEN '.' || to_char({column}, 'US') ELSE '' END "
               f"|| '+00:00'")
        op.execute(
            f"INSERT INTO timers (handler, payload, due_at, key, attempts) "
            f"SELECT '{handler}', jsonb_build_object('task_id', id, '{field}', {iso}), {column}, "
            f"'{prefix}:' || id || ':' || {iso}, 0 FROM tasks WHERE done_at IS NULL AND {condition} "
            f"ON CONFLICT (key) DO NOTHING"
        )


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_subscription', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
    op.drop_table('notification_preferences')
    op.drop_index('ix_notifications_unread', table_name='notifications', postgresql_where='read_at IS NULL')
    op.drop_index('ix_notifications_user', table_name='notifications')
    op.drop_table('notifications')
