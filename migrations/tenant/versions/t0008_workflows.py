"""workflow definitions, enrollments and run history

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 't0008'
down_revision = 't0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workflows',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('trigger_event', sa.String(length=100), nullable=False),
    sa.Column('definition', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflows'))
    )
    op.create_index('ix_workflows_trigger', 'workflows', ['trigger_event'], unique=False,
                    postgresql_where="status = 'active'")
    op.create_table('workflow_enrollments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('workflow_id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=50), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.Column('once', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='running', nullable=False),
    sa.Column('definition', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('cursor', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('resume_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('event_payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'],
                            name=op.f('fk_workflow_enrollments_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_enrollments'))
    )
    op.create_index('uq_workflow_enrollments_live', 'workflow_enrollments', ['workflow_id', 'object_type', 'object_id'],
                    unique=True, postgresql_where=sa.text("status IN ('running', 'waiting', 'held')"))
    op.create_index('uq_workflow_enrollments_once', 'workflow_enrollments', ['workflow_id', 'object_type', 'object_id'],
                    unique=True, postgresql_where=sa.text('once'))
    op.create_index('ix_workflow_enrollments_workflow', 'workflow_enrollments', ['workflow_id', 'id'], unique=False)
    op.create_index('ix_workflow_enrollments_object', 'workflow_enrollments', ['object_type', 'object_id'],
                    unique=False)
    op.create_table('workflow_runs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('enrollment_id', sa.BigInteger(), nullable=False),
    sa.Column('workflow_id', sa.BigInteger(), nullable=False),
    sa.Column('step_path', sa.String(length=200), nullable=False),
    sa.Column('step_kind', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=120), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['workflow_enrollments.id'],
                            name=op.f('fk_workflow_runs_enrollment_id_workflow_enrollments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_runs'))
    )
    op.create_index('ix_workflow_runs_enrollment', 'workflow_runs', ['enrollment_id', 'id'], unique=False)
    op.create_index('ix_workflow_runs_workflow', 'workflow_runs', ['workflow_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('workflow_runs')
    op.drop_table('workflow_enrollments')
    op.drop_table('workflows')
