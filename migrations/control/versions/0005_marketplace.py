"""marketplace: publishers, uploaded versions, reviews

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('publishers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('support_email', sa.String(length=320), nullable=False),
    sa.Column('payout_account_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['control.users.id'], name=op.f('fk_publishers_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publishers')),
    sa.UniqueConstraint('name', name=op.f('uq_publishers_name')),
    sa.UniqueConstraint('user_id', name=op.f('uq_publishers_user_id')),
    schema='control'
    )
    op.create_table('plugin_versions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('plugin_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('publisher_id', sa.BigInteger(), nullable=False),
    sa.Column('manifest', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('distribution', sa.String(length=100), nullable=False),
    sa.Column('changelog', sa.Text(), server_default='', nullable=False),
    sa.Column('artifact_path', sa.String(length=300), nullable=False),
    sa.Column('files', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_plugin_versions_status')),
    sa.ForeignKeyConstraint(['publisher_id'], ['control.publishers.id'], name=op.f('fk_plugin_versions_publisher_id_publishers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['control.users.id'], name=op.f('fk_plugin_versions_reviewed_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_versions')),
    sa.UniqueConstraint('plugin_id', 'version', name=op.f('uq_plugin_versions_plugin_id_version')),
    schema='control'
    )
    op.create_index(op.f('ix_plugin_versions_plugin_id'), 'plugin_versions', ['plugin_id'], unique=False, schema='control')
    op.create_index(op.f('ix_plugin_versions_publisher_id'), 'plugin_versions', ['publisher_id'], unique=False, schema='control')


def downgrade() -> None:
    op.drop_index(op.f('ix_plugin_versions_publisher_id'), table_name='plugin_versions', schema='control')
    op.drop_index(op.f('ix_plugin_versions_plugin_id'), table_name='plugin_versions', schema='control')
    op.drop_table('plugin_versions', schema='control')
    op.drop_table('publishers', schema='control')
