"""pay

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:17:55.192967

"""
from datetime import date
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# The sourced figures of shared/data/benchmarks.csv when this migration was written, so that a
# fresh database knows the legal minimum wage (rates below it are refused). HR imports newer sets.
BENCHMARK_COLUMNS = (
    "kind", "name", "region", "applies_to", "hourly_usd", "effective_from", "source",
    "source_url", "note",
)
BENCHMARKS = [
    ('legal_floor', 'Missouri minimum wage', 'Missouri', 'all workers', '13.75', '2025-01-01', 'Missouri Proposition A (2024)', 'https://kwos.com/missouri-supreme-court-upholds-voter-approved-proposition-a/', 'upheld by the Missouri Supreme Court April 2025'),
    ('legal_floor', 'Missouri minimum wage', 'Missouri', 'all workers', '15.00', '2026-01-01', 'Missouri Proposition A (2024)', 'https://kwos.com/missouri-supreme-court-upholds-voter-approved-proposition-a/', 'CPI indexing after 2026 repealed by HB 567 (2025)'),
    ('legal_floor', 'FLSA exempt salary threshold (weekly 684.00)', 'United States', 'employee_exempt', '17.10', '2024-11-15', 'DOL 2019 rule in force after the 2024 rule was vacated', 'https://www.t-mlaw.com/?p=6479', '684 USD/week over 40 h; below it an exempt classification needs review'),
    ('living_wage', 'MIT living wage 1 adult 0 children (proxy: St. Clair County IL in the St. Louis MSA)', 'St. Louis MSA', '1 adult 0 children', '16.66', '2022-11-01', 'MIT Living Wage Calculator via newsbreak', 'https://www.newsbreak.com/news/2832126422142/mit-says-12-minimum-isn-t-livable-in-metro-east-county-these-jobs-pay-a-living-wage', 'proxy until the St. Louis city (29510) table is imported'),
    ('living_wage', 'MIT living wage 1 adult 1 child (proxy: St. Clair County IL in the St. Louis MSA)', 'St. Louis MSA', '1 adult 1 child', '32.68', '2022-11-01', 'MIT Living Wage Calculator via newsbreak', 'https://www.newsbreak.com/news/2832126422142/mit-says-12-minimum-isn-t-livable-in-metro-east-county-these-jobs-pay-a-living-wage', 'proxy'),
    ('living_wage', 'MIT living wage 1 adult 2 children (proxy: St. Clair County IL in the St. Louis MSA)', 'St. Louis MSA', '1 adult 2 children', '40.97', '2022-11-01', 'MIT Living Wage Calculator via newsbreak', 'https://www.newsbreak.com/news/2832126422142/mit-says-12-minimum-isn-t-livable-in-metro-east-county-these-jobs-pay-a-living-wage', 'proxy'),
    ('living_wage', 'MIT living wage 2 adults (1 working) 0 children (proxy: St. Clair County IL)', 'St. Louis MSA', '2 adults 1 working 0 children', '25.57', '2022-11-01', 'MIT Living Wage Calculator via newsbreak', 'https://www.newsbreak.com/news/2832126422142/mit-says-12-minimum-isn-t-livable-in-metro-east-county-these-jobs-pay-a-living-wage', 'proxy'),
    ('living_wage', 'MIT living wage 2 adults (both working) 0 children (proxy: St. Clair County IL)', 'St. Louis MSA', '2 adults 2 working 0 children', '12.79', '2022-11-01', 'MIT Living Wage Calculator via newsbreak', 'https://www.newsbreak.com/news/2832126422142/mit-says-12-minimum-isn-t-livable-in-metro-east-county-these-jobs-pay-a-living-wage', 'proxy'),
    ('market', 'BLS OEWS median Community Health Workers (SOC 21-1094)', 'United States', 'Community Health Workers', '24.93', '2025-05-31', 'BLS OEWS national (May 2025)', 'https://www.bls.gov/oes/current/oes211094.htm', 'p10 18.66 p25 21.94 p75 30.07 p90 37.11'),
    ('market', 'BLS OEWS median Substance Abuse Behavioral Disorder and Mental Health Counselors (SOC 21-1018)', 'United States', 'Counselors', '28.53', '2025-05-31', 'BLS OEWS national (May 2025)', 'https://www.bls.gov/oes/current/oes211018.htm', 'p10 18.72 p25 22.65 p75 36.80 p90 46.92'),
    ('employer', 'City of St. Louis starting wage for city employees', 'St. Louis city', 'city employees', '20.00', '2025-07-01', 'City budget committee May 2025', 'https://citizenportal.ai/articles/3536619/St-Louis-City/St-Louis-County/Missouri/City-increases-starting-salary-to-20-an-hour-for-employees-amid-compliance-checks', 'a reference point for a city-funded programme'),
    ('peer', 'Reported violence interrupter pay (Los Angeles 2021)', 'Los Angeles', 'Violence interrupters', '16.00', '2021-03-01', 'The Trace', 'https://www.thetrace.org/2021/03/gun-violence-interruptor-pay-los-angeles-milwaukee-chicago/', 'what the field pays today; not a fair-wage target'),
]


def _load_benchmarks():
    table = sa.table(
        "benchmarks",
        *(sa.column(c) for c in BENCHMARK_COLUMNS if c not in ("hourly_usd", "effective_from")),
        sa.column("hourly_usd", sa.Numeric(12, 2)),
        sa.column("effective_from", sa.Date()),
    )
    op.bulk_insert(
        table,
        [
            dict(
                zip(BENCHMARK_COLUMNS, row, strict=True),
                hourly_usd=Decimal(row[4]),
                effective_from=date.fromisoformat(row[5]),
            )
            for row in BENCHMARKS
        ],
    )


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('benchmarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=False),
    sa.Column('applies_to', sa.String(length=120), nullable=False),
    sa.Column('hourly_usd', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('legal_floor', 'living_wage', 'market', 'employer', 'peer')", name=op.f('ck_benchmarks_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benchmarks')),
    sa.UniqueConstraint('kind', 'name', 'applies_to', 'effective_from', name=op.f('uq_benchmarks_kind'))
    )
    op.create_table('pay_differentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('per_hour', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('per_hour > 0', name=op.f('ck_pay_differentials_per_hour')),
    sa.CheckConstraint('start_time <> end_time', name=op.f('ck_pay_differentials_window')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pay_differentials_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_differentials'))
    )
    with op.batch_alter_table('pay_differentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pay_differentials_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('shift_stipends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('shift_type', sa.String(length=30), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_shift_stipends_amount')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_shift_stipends_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_stipends')),
    sa.UniqueConstraint('organisation_id', 'shift_type', name=op.f('uq_shift_stipends_organisation_id'))
    )
    op.create_table('pay_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('end_date > start_date', name=op.f('ck_pay_periods_dates')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_pay_periods_closed_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pay_periods_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_periods')),
    sa.UniqueConstraint('organisation_id', 'start_date', name=op.f('uq_pay_periods_organisation_id'))
    )
    op.create_table('pay_policies',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('workweek_start', sa.Integer(), nullable=False),
    sa.Column('period_days', sa.Integer(), nullable=False),
    sa.Column('period_anchor', sa.Date(), nullable=False),
    sa.Column('overtime_threshold', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('overtime_multiplier', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('overtime_multiplier >= 1', name=op.f('ck_pay_policies_overtime_multiplier')),
    sa.CheckConstraint('overtime_threshold > 0', name=op.f('ck_pay_policies_overtime_threshold')),
    sa.CheckConstraint('period_days IN (7, 14)', name=op.f('ck_pay_policies_period_days')),
    sa.CheckConstraint('workweek_start BETWEEN 0 AND 6', name=op.f('ck_pay_policies_workweek_start')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pay_policies_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_pay_policies_updated_by_id_users')),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_pay_policies'))
    )
    op.create_table('pay_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('classification', sa.String(length=30), nullable=False),
    sa.Column('hourly_rate', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('annual_salary', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('benchmarks_in_force', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(classification = 'employee_exempt' AND annual_salary > 0) OR (classification <> 'employee_exempt' AND hourly_rate > 0)", name=op.f('ck_pay_rates_amount_for_classification')),
    sa.CheckConstraint("classification IN ('employee_nonexempt', 'employee_exempt', 'contractor')", name=op.f('ck_pay_rates_classification')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pay_rates_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_pay_rates_set_by_id_users')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_pay_rates_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_rates')),
    sa.UniqueConstraint('worker_id', 'effective_from', name=op.f('uq_pay_rates_worker_id'))
    )
    with op.batch_alter_table('pay_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pay_rates_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_pay_rates_worker_effective', ['worker_id', 'effective_from'], unique=False)

    op.create_table('pay_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('classification', sa.String(length=30), nullable=False),
    sa.Column('rate_text', sa.String(length=120), nullable=False),
    sa.Column('hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('regular_hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('overtime_hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('differential_hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('regular_pay', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('differential_pay', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('stipends', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('overtime_premium', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('adjustments', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('gross_pay', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('effective_hourly', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pay_statements_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['period_id'], ['pay_periods.id'], name=op.f('fk_pay_statements_period_id_pay_periods')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_pay_statements_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_statements')),
    sa.UniqueConstraint('period_id', 'worker_id', name=op.f('uq_pay_statements_period_id'))
    )
    with op.batch_alter_table('pay_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pay_statements_worker_id'), ['worker_id'], unique=False)

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_in_period_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_shifts_paid_in_period_id'), ['paid_in_period_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_shifts_paid_in_period_id_pay_periods'), 'pay_periods', ['paid_in_period_id'], ['id'])

    # ### end Alembic commands ###
    _load_benchmarks()


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_shifts_paid_in_period_id_pay_periods'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_shifts_paid_in_period_id'))
        batch_op.drop_column('paid_in_period_id')

    with op.batch_alter_table('pay_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pay_statements_worker_id'))

    op.drop_table('pay_statements')
    with op.batch_alter_table('pay_rates', schema=None) as batch_op:
        batch_op.drop_index('ix_pay_rates_worker_effective')
        batch_op.drop_index(batch_op.f('ix_pay_rates_organisation_id'))

    op.drop_table('pay_rates')
    op.drop_table('pay_policies')
    op.drop_table('pay_periods')
    op.drop_table('shift_stipends')
    with op.batch_alter_table('pay_differentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pay_differentials_organisation_id'))

    op.drop_table('pay_differentials')
    op.drop_table('benchmarks')
    # ### end Alembic commands ###
