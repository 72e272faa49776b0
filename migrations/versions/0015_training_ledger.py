"""training ledger: courses, requirements per job title, sessions, attendances, reminders

Each attendance owns the approved training shift it created (paid through the pay engine);
a reminder row per worker, course and due date is how `flask training-reminders` sends each
one once. All tables start empty.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('training_courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('renewal_months', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hours > 0', name=op.f('ck_training_courses_hours_positive')),
    sa.CheckConstraint('renewal_months IS NULL OR renewal_months > 0', name=op.f('ck_training_courses_renewal_positive')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_training_courses_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_courses')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_training_courses_organisation_id'))
    )
    with op.batch_alter_table('training_courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_courses_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('training_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('job_title', sa.String(length=80), nullable=False),
    sa.Column('due_within_days', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_within_days IS NULL OR due_within_days > 0', name=op.f('ck_training_requirements_due_within_positive')),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_requirements_course_id_training_courses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_requirements')),
    sa.UniqueConstraint('course_id', 'job_title', name=op.f('uq_training_requirements_course_id'))
    )
    with op.batch_alter_table('training_requirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_requirements_course_id'), ['course_id'], unique=False)

    op.create_table('training_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_reminders_course_id_training_courses')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_training_reminders_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_reminders')),
    sa.UniqueConstraint('worker_id', 'course_id', 'due_on', name=op.f('uq_training_reminders_worker_id'))
    )
    op.create_table('training_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('break_minutes', sa.Integer(), nullable=False),
    sa.Column('trainer', sa.String(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('break_minutes >= 0', name=op.f('ck_training_sessions_break_nonnegative')),
    sa.CheckConstraint('end_at > start_at', name=op.f('ck_training_sessions_end_after_start')),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_sessions_course_id_training_courses')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_training_sessions_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_training_sessions_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_training_sessions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions'))
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_sessions_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_training_sessions_org_start', ['organisation_id', 'start_at'], unique=False)

    op.create_table('training_attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_training_attendances_session_id_training_sessions')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_training_attendances_shift_id_shifts')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_training_attendances_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_attendances')),
    sa.UniqueConstraint('session_id', 'worker_id', name=op.f('uq_training_attendances_session_id')),
    sa.UniqueConstraint('shift_id', name=op.f('uq_training_attendances_shift_id'))
    )
    with op.batch_alter_table('training_attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_attendances_worker_id'), ['worker_id'], unique=False)



def downgrade():
    with op.batch_alter_table('training_attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_attendances_worker_id'))

    op.drop_table('training_attendances')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_training_sessions_org_start')
        batch_op.drop_index(batch_op.f('ix_training_sessions_course_id'))

    op.drop_table('training_sessions')
    op.drop_table('training_reminders')
    with op.batch_alter_table('training_requirements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_requirements_course_id'))

    op.drop_table('training_requirements')
    with op.batch_alter_table('training_courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_courses_organisation_id'))

    op.drop_table('training_courses')
