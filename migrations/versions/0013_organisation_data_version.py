"""Organisations carry a data version, bumped by every write to their records

Worker pages are kept per process and keyed by it (portal/versions.py, portal/kept_pages.py).
Existing organisations start at 1.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('data_version', sa.Integer(), server_default='1', nullable=False)
        )


def downgrade():
    # SQLite drops the column in place (3.35 and newer): a batch copy of the table would have to
    # drop the table every other table refers to, which its foreign keys refuse.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE organisations DROP COLUMN data_version')
    else:
        op.drop_column('organisations', 'data_version')
