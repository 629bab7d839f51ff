"""control plane: tenants, users, memberships, invitations, tokens, audit log, mail outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 20:48:02.612705
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


BOOTSTRAP_SQL = """
CREATE SCHEMA IF NOT EXISTS control;
-- Shared extensions live in their own schema; tenant roles may use them and nothing else.
CREATE SCHEMA IF NOT EXISTS extensions;
GRANT USAGE ON SCHEMA extensions TO PUBLIC;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA extensions;
-- A tenant role must not reach anything outside its own schema.
REVOKE ALL ON SCHEMA control FROM PUBLIC;
DO $$
BEGIN
  REVOKE ALL ON SCHEMA public FROM PUBLIC;
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'Kundo could not revoke PUBLIC privileges on schema public / TEMP: run as database owner';
END $$;
"""


def upgrade() -> None:
    op.execute(BOOTSTRAP_SQL)
    op.create_table('mail_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_via', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    schema='control'
    )
    op.create_index(op.f('ix_mail_outbox_recipient'), 'mail_outbox', ['recipient'], unique=False, schema='control')
    op.create_table('tenants',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', name='tenant_status', schema='control'), nullable=False),
    sa.Column('schema_name', sa.String(length=63), nullable=False),
    sa.Column('role_name', sa.String(length=63), nullable=False),
    sa.Column('cell', sa.String(length=100), nullable=True),
    sa.Column('locale', sa.String(length=8), server_default='en', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('suspended_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('role_name', name=op.f('uq_tenants_role_name')),
    sa.UniqueConstraint('schema_name', name=op.f('uq_tenants_schema_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug')),
    schema='control'
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('is_operator', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    schema='control'
    )
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True, schema='control')
    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['control.tenants.id'], name=op.f('fk_api_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['control.users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_tokens_prefix')),
    schema='control'
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_user_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['control.users.id'], name=op.f('fk_audit_log_actor_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['control.tenants.id'], name=op.f('fk_audit_log_tenant_id_tenants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    schema='control'
    )
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False, schema='control')
    op.create_index(op.f('ix_audit_log_tenant_id'), 'audit_log', ['tenant_id'], unique=False, schema='control')
    op.create_table('invitations',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role', sa.Enum('owner', 'admin', 'member', name='member_role', schema='control'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['control.users.id'], name=op.f('fk_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['control.tenants.id'], name=op.f('fk_invitations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash')),
    schema='control'
    )
    op.create_index('uq_invitations_open_email', 'invitations', ['tenant_id', sa.literal_column('lower(email)')], unique=True, schema='control', postgresql_where=sa.text('accepted_at IS NULL AND revoked_at IS NULL'))
    op.create_table('memberships',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'admin', 'member', name='member_role', schema='control'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['control.tenants.id'], name=op.f('fk_memberships_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['control.users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    schema='control'
    )
    op.create_index(op.f('ix_memberships_user_id'), 'memberships', ['user_id'], unique=False, schema='control')
    op.create_index('uq_memberships_tenant_user', 'memberships', ['tenant_id', 'user_id'], unique=True, schema='control')
    op.create_table('one_time_tokens',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['control.tenants.id'], name=op.f('fk_one_time_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['control.users.id'], name=op.f('fk_one_time_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_one_time_tokens_secret_hash')),
    schema='control'
    )


def downgrade() -> None:
    op.drop_table('one_time_tokens', schema='control')
    op.drop_index('uq_memberships_tenant_user', table_name='memberships', schema='control')
    op.drop_index(op.f('ix_memberships_user_id'), table_name='memberships', schema='control')
    op.drop_table('memberships', schema='control')
    op.drop_index('uq_invitations_open_email', table_name='invitations', schema='control', postgresql_where=sa.text('accepted_at IS NULL AND revoked_at IS NULL'))
    op.drop_table('invitations', schema='control')
    op.drop_index(op.f('ix_audit_log_tenant_id'), table_name='audit_log', schema='control')
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log', schema='control')
    op.drop_table('audit_log', schema='control')
    op.drop_table('api_tokens', schema='control')
    op.drop_index('uq_users_email_lower', table_name='users', schema='control')
    op.drop_table('users', schema='control')
    op.drop_table('tenants', schema='control')
    op.drop_index(op.f('ix_mail_outbox_recipient'), table_name='mail_outbox', schema='control')
    op.drop_table('mail_outbox', schema='control')
    op.execute('DROP TYPE IF EXISTS control.member_role; DROP TYPE IF EXISTS control.tenant_status')
