"""On-call roster: periods per site and worker, swaps between workers, and their pay

on_call_periods: who is on call when (draft until the supervisor publishes the week), paid once
by a close (paid_in_period_id). on_call_swaps: a worker asks a colleague of the same site to take
a period; the colleague accepts, a supervisor approves. shifts.call_back marks work done while on
call, linked to its period. pay_policies.on_call_restrictive / on_call_stipend: how on-call time
is paid (29 CFR 785.17); existing organisations keep behaving as before (not restrictive, no
stipend), and no existing shift is a call-back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('on_call_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_in_period_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_at > start_at', name=op.f('ck_on_call_periods_end_after_start')),
    sa.CheckConstraint("status IN ('draft', 'published')", name=op.f('ck_on_call_periods_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_on_call_periods_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_on_call_periods_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['paid_in_period_id'], ['pay_periods.id'], name=op.f('fk_on_call_periods_paid_in_period_id_pay_periods')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_on_call_periods_site_id_sites')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_on_call_periods_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_on_call_periods'))
    )
    with op.batch_alter_table('on_call_periods', schema=None) as batch_op:
        batch_op.create_index('ix_on_call_periods_org_start', ['organisation_id', 'start_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_on_call_periods_paid_in_period_id'), ['paid_in_period_id'], unique=False)
        batch_op.create_index('ix_on_call_periods_site_start', ['site_id', 'start_at'], unique=False)
        batch_op.create_index('ix_on_call_periods_worker_start', ['worker_id', 'start_at'], unique=False)

    op.create_table('on_call_swaps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('from_worker_id', sa.Integer(), nullable=False),
    sa.Column('to_worker_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('asked', 'accepted', 'approved', 'declined', 'withdrawn')", name=op.f('ck_on_call_swaps_status')),
    sa.CheckConstraint('from_worker_id <> to_worker_id', name=op.f('ck_on_call_swaps_two_people')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_on_call_swaps_decided_by_id_users')),
    sa.ForeignKeyConstraint(['from_worker_id'], ['users.id'], name=op.f('fk_on_call_swaps_from_worker_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_on_call_swaps_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['period_id'], ['on_call_periods.id'], name=op.f('fk_on_call_swaps_period_id_on_call_periods')),
    sa.ForeignKeyConstraint(['to_worker_id'], ['users.id'], name=op.f('fk_on_call_swaps_to_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_on_call_swaps'))
    )
    with op.batch_alter_table('on_call_swaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_on_call_swaps_period_id'), ['period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_on_call_swaps_to_worker_id'), ['to_worker_id'], unique=False)

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_back', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('on_call_period_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_shifts_on_call_period_id'), ['on_call_period_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_shifts_on_call_period_id_on_call_periods'), 'on_call_periods', ['on_call_period_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_shifts_call_back_has_period'), '(call_back = true) = (on_call_period_id IS NOT NULL)')

    with op.batch_alter_table('pay_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_call_restrictive', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('on_call_stipend', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_pay_policies_on_call_stipend'), 'on_call_stipend IS NULL OR on_call_stipend > 0')


def downgrade():
    with op.batch_alter_table('pay_policies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_pay_policies_on_call_stipend'), type_='check')
        batch_op.drop_column('on_call_stipend')
        batch_op.drop_column('on_call_restrictive')

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_shifts_call_back_has_period'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_shifts_on_call_period_id_on_call_periods'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_shifts_on_call_period_id'))
        batch_op.drop_column('on_call_period_id')
        batch_op.drop_column('call_back')

    with op.batch_alter_table('on_call_swaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_on_call_swaps_to_worker_id'))
        batch_op.drop_index(batch_op.f('ix_on_call_swaps_period_id'))

    op.drop_table('on_call_swaps')
    with op.batch_alter_table('on_call_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_on_call_periods_worker_start')
        batch_op.drop_index('ix_on_call_periods_site_start')
        batch_op.drop_index(batch_op.f('ix_on_call_periods_paid_in_period_id'))
        batch_op.drop_index('ix_on_call_periods_org_start')

    op.drop_table('on_call_periods')
