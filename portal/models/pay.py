"""Pay: effective-dated rates, each organisation's pay policy, closed periods and statements."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow

CLASSIFICATIONS = {
    "employee_nonexempt": "Employee (non-exempt, hourly)",
    "employee_exempt": "Employee (exempt, salaried)",
    "contractor": "Contractor",
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONEY = sa.Numeric(12, 2)


class PayRate(db.Model):
    """A worker's classification and rate from a date on. Rows are added, never changed."""

    __tablename__ = "pay_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    effective_from: Mapped[date]
    classification: Mapped[str] = mapped_column(sa.String(30))
    hourly_rate: Mapped[Decimal | None] = mapped_column(MONEY)
    annual_salary: Mapped[Decimal | None] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(sa.Text)
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The benchmark figures in force when the change was made, so an audit sees what HR saw.
    benchmarks_in_force: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id])
    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])

    __table_args__ = (
        sa.Index("ix_pay_rates_worker_effective", "worker_id", "effective_from"),
        # One change per worker per day: history is added to, never overwritten.
        sa.UniqueConstraint("worker_id", "effective_from"),
        sa.CheckConstraint(f"classification IN {tuple(CLASSIFICATIONS)!r}", name="classification"),
        sa.CheckConstraint(
            "(classification = 'employee_exempt' AND annual_salary > 0) OR "
            "(classification <> 'employee_exempt' AND hourly_rate > 0)",
            name="amount_for_classification",
        ),
    )

    @property
    def classification_label(self) -> str:
        return CLASSIFICATIONS.get(self.classification, self.classification)


class PayPolicy(db.Model):
    """How an organisation pays: workweek, pay periods, overtime."""

    __tablename__ = "pay_policies"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id"), primary_key=True
    )
    workweek_start: Mapped[int] = mapped_column(default=6)  # weekday(): 0 Monday ... 6 Sunday
    period_days: Mapped[int] = mapped_column(default=14)
    period_anchor: Mapped[date] = mapped_column(default=date(2026, 1, 4))
    overtime_threshold: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal(40))
    overtime_multiplier: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("1.5"))
    # On-call time (29 CFR 785.17): restrictive means the worker cannot use the time for their
    # own purposes, so it is hours worked; otherwise each on-call period earns the stipend
    # (none when it is NULL). Call-backs are hours worked either way.
    on_call_restrictive: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    on_call_stipend: Mapped[Decimal | None] = mapped_column(MONEY)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("workweek_start BETWEEN 0 AND 6", name="workweek_start"),
        sa.CheckConstraint("period_days IN (7, 14)", name="period_days"),
        sa.CheckConstraint("overtime_threshold > 0", name="overtime_threshold"),
        sa.CheckConstraint("overtime_multiplier >= 1", name="overtime_multiplier"),
        sa.CheckConstraint(
            "on_call_stipend IS NULL OR on_call_stipend > 0", name="on_call_stipend"
        ),
    )


class PayDifferential(db.Model):
    """Extra pay per hour worked in a daily time window, e.g. nights 22:00-06:00 +$2.00."""

    __tablename__ = "pay_differentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    start_time: Mapped[time]
    end_time: Mapped[time]
    per_hour: Mapped[Decimal] = mapped_column(MONEY)

    __table_args__ = (
        sa.CheckConstraint("per_hour > 0", name="per_hour"),
        sa.CheckConstraint("start_time <> end_time", name="window"),
    )


class ShiftStipend(db.Model):
    """A fixed, non-discretionary amount per shift of a type, e.g. on-call +$40."""

    __tablename__ = "shift_stipends"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    shift_type: Mapped[str] = mapped_column(sa.String(30))
    amount: Mapped[Decimal] = mapped_column(MONEY)

    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "shift_type"),
        sa.CheckConstraint("amount > 0", name="amount"),
    )


class PayPeriod(db.Model):
    """A closed pay period: its statements are frozen and its shifts locked."""

    __tablename__ = "pay_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    start_date: Mapped[date]
    end_date: Mapped[date]  # exclusive
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    closed_by: Mapped[User | None] = relationship()

    __table_args__ = (
        # Closing twice is refused by the database too, even if two HR officers click at once.
        sa.UniqueConstraint("organisation_id", "start_date"),
        sa.CheckConstraint("end_date > start_date", name="dates"),
    )


class PayStatement(db.Model):
    """One worker's frozen gross pay for a closed period. Stored, never recomputed."""

    __tablename__ = "pay_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("pay_periods.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    classification: Mapped[str] = mapped_column(sa.String(30))
    rate_text: Mapped[str] = mapped_column(sa.String(120))  # e.g. "$18.50/h" or "$52,000.00/yr"
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
    regular_hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
    overtime_hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
    differential_hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
    regular_pay: Mapped[Decimal] = mapped_column(MONEY)
    differential_pay: Mapped[Decimal] = mapped_column(MONEY)
    stipends: Mapped[Decimal] = mapped_column(MONEY)
    overtime_premium: Mapped[Decimal] = mapped_column(MONEY)
    adjustments: Mapped[Decimal] = mapped_column(MONEY)
    gross_pay: Mapped[Decimal] = mapped_column(MONEY)
    effective_hourly: Mapped[Decimal | None] = mapped_column(MONEY)
    # Weeks and the shifts behind each figure, so a statement explains itself for ever.
    details: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    period: Mapped[PayPeriod] = relationship()
    worker: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("period_id", "worker_id"),
        # Dashboards sum one organisation's statements: without it, every statement is read.
        sa.Index("ix_pay_statements_org_period", "organisation_id", "period_id"),
    )

    @property
    def classification_label(self) -> str:
        return CLASSIFICATIONS.get(self.classification, self.classification)


class Benchmark(db.Model):
    """A named, sourced wage figure (legal floor, living wage, market rate...)."""

    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    region: Mapped[str] = mapped_column(sa.String(120))
    applies_to: Mapped[str] = mapped_column(sa.String(120))
    hourly_usd: Mapped[Decimal] = mapped_column(MONEY)
    effective_from: Mapped[date]
    source: Mapped[str] = mapped_column(sa.String(300))
    source_url: Mapped[str] = mapped_column(sa.String(500))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.UniqueConstraint("kind", "name", "applies_to", "effective_from"),
        sa.CheckConstraint(
            "kind IN ('legal_floor', 'living_wage', 'market', 'employer', 'peer')", name="kind"
        ),
    )


STANDARD_ROLES = {"floor": "Floor", "target": "Target"}


class WageStandard(db.Model):
    """A benchmark HR chose as the organisation's floor, or as a job title's target, from a date.

    The figure follows the benchmark of that name (its effective-dated values); the choice itself
    is effective-dated too, and never edited: a new choice from a later date replaces it.
    """

    __tablename__ = "wage_standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    job_title: Mapped[str | None] = mapped_column(sa.String(80))  # targets only
    benchmark_name: Mapped[str] = mapped_column(sa.String(200))
    effective_from: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    set_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("role IN ('floor', 'target')", name="role"),
        sa.CheckConstraint(
            "(role = 'floor' AND job_title IS NULL) OR (role = 'target' AND job_title IS NOT NULL)",
            name="job_title_for_targets",
        ),
    )


class FairPaySnapshot(db.Model):
    """An organisation's fair-pay totals at a month's end, recorded once (leadership's trend).

    The leader's home shows twelve months of these; working each one out again on every visit
    cost six queries and the pay arithmetic per month. Aggregates only: no row about a person.
    """

    __tablename__ = "fair_pay_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    day: Mapped[date]  # the month's last day
    workers: Mapped[int]
    compared: Mapped[int]  # workers with a target to compare with
    at_or_above: Mapped[int]
    annual_cost: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("organisation_id", "day"),)
