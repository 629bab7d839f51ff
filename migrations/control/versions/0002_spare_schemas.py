"""spare tenant schemas made ahead of sign-ups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('spare_schemas',
    sa.Column('tenant_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('schema_name', sa.String(length=63), nullable=False),
    sa.Column('role_name', sa.String(length=63), nullable=False),
    sa.Column('revision', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_spare_schemas')),
    sa.UniqueConstraint('role_name', name=op.f('uq_spare_schemas_role_name')),
    sa.UniqueConstraint('schema_name', name=op.f('uq_spare_schemas_schema_name')),
    schema='control'
    )


def downgrade() -> None:
    op.drop_table('spare_schemas', schema='control')
