"""Choosing the organisation's floor and each job title's target (effective-dated, never edited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from portal import audit
from portal.extensions import db
from portal.models import Benchmark, User, WageStandard
from portal.pay import fairness


class StandardError(Exception):
    """A refused choice: messages by form field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


def benchmark_choices(day: date) -> list[Benchmark]:
    """Each benchmark name once, with its figure in force today (or its first future one)."""
    latest: dict[str, Benchmark] = {}
    for b in db.session.scalars(sa.select(Benchmark).order_by(Benchmark.effective_from)):
        if b.name not in latest or b.effective_from <= day:
            latest[b.name] = b
    order = ["legal_floor", "living_wage", "market", "employer", "peer"]
    return sorted(latest.values(), key=lambda b: (order.index(b.kind) if b.kind in order else 9,
                                                  b.name))  # fmt: skip


def job_titles(organisation_id: int) -> list[str]:
    """Job titles of the organisation's people and targets, for suggestions."""
    people = db.session.scalars(
        sa.select(User.job_title)
        .where(User.organisation_id == organisation_id, User.job_title.is_not(None))
        .distinct()
    )
    targets = db.session.scalars(
        sa.select(WageStandard.job_title)
        .where(WageStandard.organisation_id == organisation_id, WageStandard.role == "target")
        .distinct()
    )
    return sorted({*people, *targets})


def choose(
    actor: User,
    role: str,
    benchmark_name: str,
    effective_from: date,
    job_title: str | None,
    reason: str,
) -> WageStandard:
    """Record a floor or target choice from a date."""
    errors: dict[str, list[str]] = {}
    exists = db.session.scalar(
        sa.select(sa.func.count()).select_from(Benchmark).where(Benchmark.name == benchmark_name)
    )
    if not exists:
        errors["benchmark_name"] = ["Choose one of the benchmark figures."]
    if role == "target" and not job_title:
        errors["job_title"] = ["Enter the job title this target is for."]
    if effective_from is None:
        errors["effective_from"] = ["Enter the date it applies from."]
    if errors:
        raise StandardError(errors)
    standard = WageStandard(
        organisation_id=actor.organisation_id, role=role, job_title=job_title or None,
        benchmark_name=benchmark_name, effective_from=effective_from, reason=reason.strip(),
        set_by_id=actor.id,
    )  # fmt: skip
    db.session.add(standard)
    db.session.flush()
    audit.record(f"pay_policy.{role}_chosen", "wage_standards", standard.id, actor=actor)
    return standard


@dataclass
class Line:
    """A floor or a target as it stands today, with what is scheduled and the history."""

    label: str
    current: Benchmark | None
    chosen: WageStandard | None
    scheduled: list[WageStandard]
    history: list[WageStandard]


def overview(organisation_id: int, day: date) -> list[Line]:
    """The floor first, then each job title's target (three queries)."""
    rows, benchmarks = fairness.load_standards(organisation_id)
    lines = []
    keys = [("floor", None)] + sorted(
        {("target", s.job_title) for s in rows if s.role == "target"}, key=lambda k: k[1]
    )
    for role, title in keys:
        mine = [s for s in rows if s.role == role and s.job_title == title]
        current = (
            fairness.floor_for(rows, benchmarks, day)
            if role == "floor"
            else fairness.target_for(rows, benchmarks, title, day)
        )
        lines.append(
            Line(
                label="Floor (every worker)" if role == "floor" else f"Target: {title}",
                current=current,
                chosen=fairness._choice(rows, role, title, day),
                scheduled=[s for s in mine if s.effective_from > day],
                history=sorted(mine, key=lambda s: (s.effective_from, s.id), reverse=True),
            )
        )
    return lines
