"""On call: a supervisor cancels a published period before it starts, or ends one under way early

on_call_periods: status "cancelled" with cancelled_at, cancelled_by_id and cancel_reason (always
together); planned_end_at, ended_early_by_id and end_early_reason when a period under way was
ended early (end_at is then when it ended). on_call_swaps: status "cancelled" for the open swaps
of a cancelled period. Existing rows keep their meaning: nothing was cancelled or ended early.

Batch mode changes the CHECK constraints (SQLite copies each table; migrations/env.py turns its
foreign key enforcement off meanwhile and checks the keys before each migration commits).

Downgrade: a cancelled period becomes a draft (workers do not see drafts and closes never pay
them; the supervisor may remove it), a cancelled swap becomes declined; the reasons and the
planned ends of periods ended early are dropped (end_at keeps the time they ended).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('on_call_periods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('planned_end_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ended_early_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('end_early_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_on_call_periods_cancelled_by_id_users'), 'users', ['cancelled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_on_call_periods_ended_early_by_id_users'), 'users', ['ended_early_by_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_on_call_periods_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_on_call_periods_status'), "status IN ('draft', 'published', 'cancelled')")
        batch_op.create_check_constraint(batch_op.f('ck_on_call_periods_cancelled_has_reason'), "(status = 'cancelled') = (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_on_call_periods_ended_early_has_reason'), '(planned_end_at IS NULL) = (end_early_reason IS NULL)')

    with op.batch_alter_table('on_call_swaps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_on_call_swaps_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_on_call_swaps_status'), "status IN ('asked', 'accepted', 'approved', 'declined', 'withdrawn', 'cancelled')")


def downgrade():
    op.execute("UPDATE on_call_swaps SET status = 'declined' WHERE status = 'cancelled'")
    op.execute("UPDATE on_call_periods SET status = 'draft', cancelled_at = NULL, cancelled_by_id = NULL, "
               "cancel_reason = NULL WHERE status = 'cancelled'")
    with op.batch_alter_table('on_call_swaps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_on_call_swaps_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_on_call_swaps_status'), "status IN ('asked', 'accepted', 'approved', 'declined', 'withdrawn')")

    with op.batch_alter_table('on_call_periods', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_on_call_periods_ended_early_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_on_call_periods_cancelled_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_on_call_periods_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_on_call_periods_status'), "status IN ('draft', 'published')")
        batch_op.drop_constraint(batch_op.f('fk_on_call_periods_ended_early_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_on_call_periods_cancelled_by_id_users'), type_='foreignkey')
        batch_op.drop_column('end_early_reason')
        batch_op.drop_column('ended_early_by_id')
        batch_op.drop_column('planned_end_at')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('cancelled_at')
