"""approved plugins and per-tenant installs (plugin host)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approved_plugins',
    sa.Column('plugin_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('first_party', 'marketplace')", name=op.f('ck_approved_plugins_source')),
    sa.PrimaryKeyConstraint('plugin_id', name=op.f('pk_approved_plugins')),
    schema='control'
    )
    op.create_table('tenant_plugins',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('plugin_id', sa.String(length=40), nullable=False),
    sa.Column('installed_version', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('consented_scopes', sa.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('enabled_by', sa.BigInteger(), nullable=True),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('enabled', 'disabled')", name=op.f('ck_tenant_plugins_state')),
    sa.ForeignKeyConstraint(['enabled_by'], ['control.users.id'], name=op.f('fk_tenant_plugins_enabled_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['control.tenants.id'], name=op.f('fk_tenant_plugins_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'plugin_id', name=op.f('pk_tenant_plugins')),
    schema='control'
    )
    op.create_index('ix_tenant_plugins_plugin_id', 'tenant_plugins', ['plugin_id'], unique=False, schema='control')


def downgrade() -> None:
    op.drop_index('ix_tenant_plugins_plugin_id', table_name='tenant_plugins', schema='control')
    op.drop_table('tenant_plugins', schema='control')
    op.drop_table('approved_plugins', schema='control')
