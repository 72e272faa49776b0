"""HR can hold an approved shift back from pay

A held shift stays approved and unpaid: pay-period closes leave it out until HR releases it.
A hold always has its reason (the worker sees it on /pay). Existing shifts are not held.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 11:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_held_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pay_hold_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pay_held_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_shifts_pay_held_by_id_users'), 'users', ['pay_held_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_shifts_pay_hold_has_reason'), '(pay_held_at IS NULL) = (pay_hold_reason IS NULL)')


def downgrade():
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_shifts_pay_hold_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_shifts_pay_held_by_id_users'), type_='foreignkey')
        batch_op.drop_column('pay_held_by_id')
        batch_op.drop_column('pay_hold_reason')
        batch_op.drop_column('pay_held_at')
