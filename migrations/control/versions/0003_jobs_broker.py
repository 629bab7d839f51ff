"""job queue of the embedded broker and dead letters

The queue tables are dramatiq-postgres' own schema (created by its init SQL) in the
`kundo_jobs` schema, which no tenant role can reach.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

JOBS_SCHEMA = "kundo_jobs"


def upgrade() -> None:
    from dramatiq_postgres.schema import generate_init_sql

    op.execute(f"CREATE SCHEMA IF NOT EXISTS {JOBS_SCHEMA}")
    op.execute(generate_init_sql(schema=JOBS_SCHEMA))
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('args', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retried_by', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters')),
    schema='control'
    )
    op.create_index(op.f('ix_dead_letters_tenant_id'), 'dead_letters', ['tenant_id'], unique=False, schema='control')


def downgrade() -> None:
    op.drop_index(op.f('ix_dead_letters_tenant_id'), table_name='dead_letters', schema='control')
    op.drop_table('dead_letters', schema='control')
    op.execute(f"DROP SCHEMA IF EXISTS {JOBS_SCHEMA} CASCADE")
