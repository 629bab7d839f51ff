"""processed-event ledger, durable timers and the NOTIFY triggers of the relay

Revision ID: t0007
Revises: t0006
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 't0007'
down_revision = 't0006'
branch_labels = None
depends_on = None

_TRIGGERS = (
    ("event_outbox", "kundo_outbox", "INSERT"),
    ("timers", "kundo_timers", "INSERT OR UPDATE"),
)


def upgrade() -> None:
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=120), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_processed_events'))
    )
    op.create_table('timers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('handler', sa.String(length=120), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timers')),
    sa.UniqueConstraint('key', name=op.f('uq_timers_key'))
    )
    op.create_index('ix_timers_due', 'timers', ['due_at'], unique=False,
                    postgresql_where='fired_at IS NULL AND failed_at IS NULL')
    for table, channel, on in _TRIGGERS:
        op.execute(
            f"CREATE FUNCTION {table}_notify() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_notify('{channel}', TG_TABLE_SCHEMA); RETURN NULL; END $$"
        )
        op.execute(f"CREATE TRIGGER {table}_notify AFTER {on} ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_notify()")


def downgrade() -> None:
    for table, _channel, _on in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_notify()")
    op.drop_index('ix_timers_due', table_name='timers', postgresql_where='fired_at IS NULL AND failed_at IS NULL')
    op.drop_table('timers')
    op.drop_table('processed_events')
