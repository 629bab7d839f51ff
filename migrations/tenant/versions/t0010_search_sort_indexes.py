"""search and sort indexes for large tenants: standard-column sorts and names one typo away

Measured at 1,000,000 contacts (bench/crm.py): sorting the contact list by first name,
job title, phone, lead status or source read and sorted the whole table (0.5–0.8 s);
each is now an index range like the sorts of t0005. Search looks up names one typo
away by exact (last name, first name) (kundo.crm.lists.spelling) instead of
rechecking thousands of trigram candidates (p95 39.6 → ~14 ms).

Revision ID: t0010
Revises: t0009
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = 't0010'
down_revision = 't0009'
branch_labels = None
depends_on = None

SORTS = {
    'ix_contacts_first_name_sort': 'lower(first_name)',
    'ix_contacts_job_title_sort': 'lower(job_title)',
    'ix_contacts_phone_sort': '(phones[1])',
    'ix_contacts_lead_status_sort': 'lower(lead_status)',
    'ix_contacts_source_sort': 'lower(source)',
}


def upgrade() -> None:
    for name, expression in SORTS.items():
        op.create_index(name, 'contacts', [sa.literal_column(expression), 'id'], unique=False)
    op.create_index('ix_contacts_person_name', 'contacts',
                    [sa.literal_column('lower(last_name)'), sa.literal_column('lower(first_name)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contacts_person_name', table_name='contacts')
    for name in reversed(list(SORTS)):
        op.drop_index(name, table_name='contacts')
