"""crm core: contacts, companies, properties, timeline, tasks, saved views, imports, event outbox

Revision ID: t0002
Revises: t0001
Create Date: 2026-11-29 20:55:55.964163
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 't0002'
down_revision = 't0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activities',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('source', sa.String(length=100), server_default='ui', nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('external_id', name=op.f('uq_activities_external_id'))
    )
    op.create_index('ix_activities_occurred', 'activities', ['occurred_at', 'id'], unique=False)
    op.create_index(op.f('ix_activities_type'), 'activities', ['type'], unique=False)
    op.create_table('companies',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('street', sa.String(length=300), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('owner_id', sa.BigInteger(), nullable=True),
    sa.Column('custom', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies'))
    )
    op.create_index('ix_companies_created', 'companies', ['created_at', 'id'], unique=False)
    op.create_index('ix_companies_custom', 'companies', ['custom'], unique=False, postgresql_using='gin', postgresql_ops={'custom': 'jsonb_path_ops'})
    op.create_index('ix_companies_domain_trgm', 'companies', [sa.literal_column("lower(coalesce(domain,'')) extensions.gin_trgm_ops")], unique=False, postgresql_using='gin')
    op.create_index('ix_companies_name_trgm', 'companies', [sa.literal_column('lower(name) extensions.gin_trgm_ops')], unique=False, postgresql_using='gin')
    op.create_index('ix_companies_owner', 'companies', ['owner_id', 'id'], unique=False)
    op.create_index('uq_companies_domain_lower', 'companies', [sa.literal_column('lower(domain)')], unique=True, postgresql_where=sa.text('domain IS NOT NULL'))
    op.create_table('event_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('object_type', sa.String(length=50), nullable=True),
    sa.Column('object_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_outbox'))
    )
    op.create_index(op.f('ix_event_outbox_type'), 'event_outbox', ['type'], unique=False)
    op.create_index('ix_event_outbox_unpublished', 'event_outbox', ['id'], unique=False, postgresql_where='published_at IS NULL')
    op.create_table('import_runs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('encoding', sa.String(length=40), nullable=True),
    sa.Column('delimiter', sa.String(length=4), nullable=True),
    sa.Column('mapping', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('on_duplicate', sa.String(length=10), server_default='skip', nullable=False),
    sa.Column('dry_run', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('total_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('skipped_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error_report', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    op.create_table('property_definitions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('required', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_definitions'))
    )
    op.create_index('uq_property_definitions_key', 'property_definitions', ['object_type', 'key'], unique=True)
    op.create_table('saved_views',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=True),
    sa.Column('shared', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('definition', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views'))
    )
    op.create_table('tasks',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=20), server_default='todo', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('owner_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_open_by_owner', 'tasks', ['owner_id', 'due_at'], unique=False, postgresql_where='done_at IS NULL')
    op.create_table('activity_links',
    sa.Column('activity_id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_links_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'object_type', 'object_id', name=op.f('pk_activity_links'))
    )
    op.create_index('ix_activity_links_object', 'activity_links', ['object_type', 'object_id', 'activity_id'], unique=False)
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=True),
    sa.Column('last_name', sa.String(length=200), nullable=True),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('phones', sa.ARRAY(sa.String(length=50)), server_default='{}', nullable=False),
    sa.Column('phone_digits', sa.Text(), server_default='', nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=True),
    sa.Column('primary_company_id', sa.BigInteger(), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=40), nullable=True),
    sa.Column('lifecycle_dates', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('lead_status', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('tags', sa.ARRAY(sa.String(length=60)), server_default='{}', nullable=False),
    sa.Column('consent_status', sa.String(length=20), server_default='unknown', nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_source', sa.Text(), nullable=True),
    sa.Column('custom', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['primary_company_id'], ['companies.id'], name=op.f('fk_contacts_primary_company_id_companies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    op.create_index('ix_contacts_created', 'contacts', ['created_at', 'id'], unique=False)
    op.create_index('ix_contacts_custom', 'contacts', ['custom'], unique=False, postgresql_using='gin', postgresql_ops={'custom': 'jsonb_path_ops'})
    op.create_index('ix_contacts_lifecycle', 'contacts', ['lifecycle_stage', 'id'], unique=False)
    op.create_index('ix_contacts_name_trgm', 'contacts', [sa.literal_column("(lower(coalesce(first_name,'') || ' ' || coalesce(last_name,''))) extensions.gin_trgm_ops")], unique=False, postgresql_using='gin')
    op.create_index('ix_contacts_owner', 'contacts', ['owner_id', 'id'], unique=False)
    op.create_index('ix_contacts_phone_trgm', 'contacts', ['phone_digits'], unique=False, postgresql_using='gin', postgresql_ops={'phone_digits': 'extensions.gin_trgm_ops'})
    op.create_index('ix_contacts_tags', 'contacts', ['tags'], unique=False, postgresql_using='gin')
    op.create_table('task_links',
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_links_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'object_type', 'object_id', name=op.f('pk_task_links'))
    )
    op.create_index('ix_task_links_object', 'task_links', ['object_type', 'object_id', 'task_id'], unique=False)
    op.create_table('contact_companies',
    sa.Column('contact_id', sa.BigInteger(), nullable=False),
    sa.Column('company_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('is_primary', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_contact_companies_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_companies_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'company_id', name=op.f('pk_contact_companies'))
    )
    op.create_index(op.f('ix_contact_companies_company_id'), 'contact_companies', ['company_id'], unique=False)
    op.create_table('contact_emails',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('contact_id', sa.BigInteger(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('is_primary', sa.Boolean(), server_default='false', nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_emails_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_emails'))
    )
    op.create_index(op.f('ix_contact_emails_contact_id'), 'contact_emails', ['contact_id'], unique=False)
    op.create_index('ix_contact_emails_trgm', 'contact_emails', [sa.literal_column('lower(email) extensions.gin_trgm_ops')], unique=False, postgresql_using='gin')
    op.create_index('uq_contact_emails_lower', 'contact_emails', [sa.literal_column('lower(email)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_contact_emails_lower', table_name='contact_emails')
    op.drop_index('ix_contact_emails_trgm', table_name='contact_emails', postgresql_using='gin')
    op.drop_index(op.f('ix_contact_emails_contact_id'), table_name='contact_emails')
    op.drop_table('contact_emails')
    op.drop_index(op.f('ix_contact_companies_company_id'), table_name='contact_companies')
    op.drop_table('contact_companies')
    op.drop_index('ix_task_links_object', table_name='task_links')
    op.drop_table('task_links')
    op.drop_index('ix_contacts_tags', table_name='contacts', postgresql_using='gin')
    op.drop_index('ix_contacts_phone_trgm', table_name='contacts', postgresql_using='gin')
    op.drop_index('ix_contacts_owner', table_name='contacts')
    op.drop_index('ix_contacts_name_trgm', table_name='contacts', postgresql_using='gin')
    op.drop_index('ix_contacts_lifecycle', table_name='contacts')
    op.drop_index('ix_contacts_custom', table_name='contacts', postgresql_using='gin', postgresql_ops={'custom': 'jsonb_path_ops'})
    op.drop_index('ix_contacts_created', table_name='contacts')
    op.drop_table('contacts')
    op.drop_index('ix_activity_links_object', table_name='activity_links')
    op.drop_table('activity_links')
    op.drop_index('ix_tasks_open_by_owner', table_name='tasks', postgresql_where='done_at IS NULL')
    op.drop_table('tasks')
    op.drop_table('saved_views')
    op.drop_index('uq_property_definitions_key', table_name='property_definitions')
    op.drop_table('property_definitions')
    op.drop_table('import_runs')
    op.drop_index('ix_event_outbox_unpublished', table_name='event_outbox', postgresql_where='published_at IS NULL')
    op.drop_index(op.f('ix_event_outbox_type'), table_name='event_outbox')
    op.drop_table('event_outbox')
    op.drop_index('uq_companies_domain_lower', table_name='companies', postgresql_where=sa.text('domain IS NOT NULL'))
    op.drop_index('ix_companies_owner', table_name='companies')
    op.drop_index('ix_companies_name_trgm', table_name='companies', postgresql_using='gin')
    op.drop_index('ix_companies_domain_trgm', table_name='companies', postgresql_using='gin')
    op.drop_index('ix_companies_custom', table_name='companies', postgresql_using='gin', postgresql_ops={'custom': 'jsonb_path_ops'})
    op.drop_index('ix_companies_created', table_name='companies')
    op.drop_table('companies')
    op.drop_index(op.f('ix_activities_type'), table_name='activities')
    op.drop_index('ix_activities_occurred', table_name='activities')
    op.drop_table('activities')
