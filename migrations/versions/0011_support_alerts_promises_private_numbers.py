"""support requests: promised contact time and alert; a private contact number per person

contact_due_at is when contact was promised by (requests made before this migration have none:
the portal works theirs out from when they were made and their urgency); alerted_at records that
the counsellors on call were alerted, so a request is never alerted twice. users.contact_phone is
a private number (a worker's is shown only to counsellors on a phone or text request).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite has both since 3.35), not batch mode: recreating
# users on SQLite would drop a table that every other table points at, with foreign keys on.


def upgrade():
    op.add_column('support_requests', sa.Column('contact_due_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('support_requests', sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('contact_phone', sa.String(length=20), nullable=True))


def downgrade():
    op.drop_column('users', 'contact_phone')
    op.drop_column('support_requests', 'alerted_at')
    op.drop_column('support_requests', 'contact_due_at')
