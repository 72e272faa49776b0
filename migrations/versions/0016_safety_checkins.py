"""Field safety: timed check-ins, workers' safety settings, and opt-in positions

safety_settings: a worker's hashed safe and duress codes, emergency contact and whether their
phone may send its position. safety_checkins: one timed check-in before a worker goes into a
conflict, how it ended (safe) or escalated (alarm: missed, SOS, duress; alert_step 0-3) and who
closed it. safety_positions: positions sent while a check-in runs, purged after 24 hours. New
tables only: nothing existing changes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 17:56:58.100903

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('safety_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('buddy_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alarm_kind', sa.String(length=10), nullable=True),
    sa.Column('alarm_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alert_step', sa.Integer(), server_default='0', nullable=False),
    sa.Column('alert_step_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("alarm_kind IS NULL OR alarm_kind IN ('missed', 'sos', 'duress')", name=op.f('ck_safety_checkins_alarm_kind')),
    sa.CheckConstraint("status IN ('active', 'safe', 'alarm', 'closed')", name=op.f('ck_safety_checkins_status')),
    sa.CheckConstraint('alert_step BETWEEN 0 AND 3', name=op.f('ck_safety_checkins_alert_step')),
    sa.CheckConstraint('due_at > started_at', name=op.f('ck_safety_checkins_due_after_start')),
    sa.ForeignKeyConstraint(['buddy_id'], ['users.id'], name=op.f('fk_safety_checkins_buddy_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_safety_checkins_closed_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_safety_checkins_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_safety_checkins_site_id_sites')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_safety_checkins_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_checkins'))
    )
    with op.batch_alter_table('safety_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_safety_checkins_org_started', ['organisation_id', 'started_at'], unique=False)
        batch_op.create_index('ix_safety_checkins_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_safety_checkins_worker_started', ['worker_id', 'started_at'], unique=False)

    op.create_table('safety_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('safe_code_hash', sa.String(length=255), nullable=True),
    sa.Column('duress_code_hash', sa.String(length=255), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('share_location', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_safety_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_safety_settings'))
    )
    op.create_table('safety_positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('accuracy_m', sa.Integer(), nullable=True),
    sa.CheckConstraint('latitude BETWEEN -90 AND 90', name=op.f('ck_safety_positions_latitude')),
    sa.CheckConstraint('longitude BETWEEN -180 AND 180', name=op.f('ck_safety_positions_longitude')),
    sa.ForeignKeyConstraint(['checkin_id'], ['safety_checkins.id'], name=op.f('fk_safety_positions_checkin_id_safety_checkins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_positions'))
    )
    with op.batch_alter_table('safety_positions', schema=None) as batch_op:
        batch_op.create_index('ix_safety_positions_checkin_recorded', ['checkin_id', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_positions_recorded_at'), ['recorded_at'], unique=False)



def downgrade():
    with op.batch_alter_table('safety_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_positions_recorded_at'))
        batch_op.drop_index('ix_safety_positions_checkin_recorded')

    op.drop_table('safety_positions')
    op.drop_table('safety_settings')
    with op.batch_alter_table('safety_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_safety_checkins_worker_started')
        batch_op.drop_index('ix_safety_checkins_status_due')
        batch_op.drop_index('ix_safety_checkins_org_started')

    op.drop_table('safety_checkins')
