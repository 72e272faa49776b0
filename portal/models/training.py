"""The training ledger: courses, who must take them, sessions held and who attended.

A worker attending a session is paid for it: each attendance owns the approved "training" shift
it created, so the hours go through the normal pay engine (portal.training.service).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.org import Site
from portal.models.shift import Shift
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow

EVERYONE = ""  # a requirement's job title when it applies to every worker


class TrainingCourse(db.Model):
    """A course an organisation requires: how many hours make it complete, and how often it
    must be renewed (None: once is enough)."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    renewal_months: Mapped[int | None]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requirements: Mapped[list[TrainingRequirement]] = relationship(
        back_populates="course", order_by="TrainingRequirement.job_title"
    )

    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "name"),
        sa.CheckConstraint("hours > 0", name="hours_positive"),
        sa.CheckConstraint(
            "renewal_months IS NULL OR renewal_months > 0", name="renewal_positive"
        ),
    )

    def __repr__(self) -> str:
        return f"<TrainingCourse {self.name}>"

    @property
    def minutes(self) -> int:
        return int(self.hours * 60)

    @property
    def renewal_text(self) -> str:
        months = self.renewal_months
        if not months:
            return "Once"
        if months % 12 == 0:
            years = months // 12
            return "Every year" if years == 1 else f"Every {years} years"
        return "Every month" if months == 1 else f"Every {months} months"


class TrainingRequirement(db.Model):
    """A course required of every worker with a job title ("" for everyone); new staff take it
    within ``due_within_days`` of their hire date (None: no deadline for new staff)."""

    __tablename__ = "training_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_courses.id"), index=True)
    job_title: Mapped[str] = mapped_column(sa.String(80), default=EVERYONE)
    due_within_days: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[TrainingCourse] = relationship(back_populates="requirements")

    __table_args__ = (
        sa.UniqueConstraint("course_id", "job_title"),
        sa.CheckConstraint(
            "due_within_days IS NULL OR due_within_days > 0", name="due_within_positive"
        ),
    )

    @property
    def applies_to(self) -> str:
        return self.job_title or "Everyone"


class TrainingSession(db.Model):
    """A session of a course held at a site, from start to end, led by a trainer."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_courses.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    break_minutes: Mapped[int] = mapped_column(default=0)
    trainer: Mapped[str] = mapped_column(sa.String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[TrainingCourse] = relationship()
    site: Mapped[Site] = relationship()
    attendances: Mapped[list[TrainingAttendance]] = relationship(back_populates="session")

    __table_args__ = (
        sa.Index("ix_training_sessions_org_start", "organisation_id", "start_at"),
        sa.CheckConstraint("end_at > start_at", name="end_after_start"),
        sa.CheckConstraint("break_minutes >= 0", name="break_nonnegative"),
    )

    @property
    def minutes(self) -> int:
        """The paid and credited minutes: elapsed time less the unpaid break."""
        return int((self.end_at - self.start_at).total_seconds() // 60) - self.break_minutes

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


class TrainingAttendance(db.Model):
    """A worker at a session, with the paid training shift it created (one each way)."""

    __tablename__ = "training_attendances"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("training_sessions.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shifts.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[TrainingSession] = relationship(back_populates="attendances")
    worker: Mapped[User] = relationship()
    shift: Mapped[Shift] = relationship()

    __table_args__ = (sa.UniqueConstraint("session_id", "worker_id"),)


class TrainingReminder(db.Model):
    """A reminder mailed about one course's due date for one worker: claimed by inserting the
    row, so overlapping runs of `flask training-reminders` never send it twice."""

    __tablename__ = "training_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_courses.id"))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(20))  # due_soon or overdue when sent
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("worker_id", "course_id", "due_on"),)
