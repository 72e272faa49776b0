"""What-if: who a raise would change, by how much, and its yearly cost; then apply it at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from portal import audit
from portal.extensions import db
from portal.models import User
from portal.pay import fairness, gaps
from portal.pay import rates as pay_rates

SCENARIOS = {
    "to_target": "Raise everyone below their target to the target",
    "percent": "Raise a job title by a percentage",
    "floor": "Set a floor of $ an hour",
}


class WhatIfError(Exception):
    """A scenario that cannot be priced or applied: messages by field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


@dataclass
class Change:
    """One worker's rate before and after."""

    row: fairness.FairPayRow
    old: Decimal  # hourly rate, or annual salary for exempt staff
    new: Decimal
    per_hour: Decimal  # increase in effective $/h
    annual_cost: Decimal


@dataclass
class Scenario:
    """A priced scenario."""

    kind: str
    percent: Decimal | None
    title: str | None
    floor: Decimal | None
    changes: list[Change]

    @property
    def annual_cost(self) -> Decimal:
        return sum((c.annual_cost for c in self.changes), Decimal("0.00"))


def parse(args) -> tuple[str, Decimal | None, str | None, Decimal | None]:
    """Read a scenario from request arguments, refusing what cannot be priced."""
    kind = args.get("scenario", "")
    errors: dict[str, list[str]] = {}
    if kind not in SCENARIOS:
        errors["scenario"] = ["Choose a scenario."]
    percent = floor = None
    title = (args.get("title") or "").strip() or None
    if kind == "percent":
        percent = _number(args.get("percent"), errors, "percent", "5")
        if percent is not None and not (0 < percent <= 100):
            errors.setdefault("percent", []).append("Enter a raise between 0 and 100 percent.")
        if not title:
            errors.setdefault("title", []).append("Choose the job title to raise.")
    if kind == "floor":
        floor = _number(args.get("floor"), errors, "floor", "20.00")
        if floor is not None and not (0 < floor <= 500):
            errors.setdefault("floor", []).append("Enter an hourly floor, e.g. 20.00.")
    if errors:
        raise WhatIfError(errors)
    return kind, percent, title, floor


def _number(raw, errors, name, example) -> Decimal | None:
    try:
        value = Decimal((raw or "").strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        errors.setdefault(name, []).append(f"Enter a number like {example}.")
        return None
    if not value.is_finite():
        errors.setdefault(name, []).append(f"Enter a number like {example}.")
        return None
    return value


def price(organisation_id: int, day: date, kind: str, percent, title, floor) -> Scenario:
    """Who changes and what it costs a year, from the fair-pay rows (nothing is saved)."""
    report = fairness.fair_pay(organisation_id, day)
    changes = []
    for row in report.rows:
        if row.rate is None or row.effective is None:
            continue
        if kind == "to_target":
            if not row.target:
                continue
            new_eff = gaps.raise_to(row.effective, target=row.target.hourly_usd)
        elif kind == "percent":
            if row.worker.job_title != title:
                continue
            new_eff = gaps.raise_to(row.effective, percent=percent)
        else:
            new_eff = gaps.raise_to(row.effective, floor=floor)
        increase = new_eff - row.effective
        if increase <= 0:
            continue
        if row.rate.classification == "employee_exempt":
            old = row.rate.annual_salary
            new = (old * new_eff / row.effective).quantize(gaps.CENT)
        else:
            old, new = row.rate.hourly_rate, new_eff
        changes.append(
            Change(row, old, new, increase, (increase * row.annual_hours).quantize(gaps.CENT))
        )
    changes.sort(key=lambda c: (-c.annual_cost, c.row.worker.name))
    return Scenario(kind, percent, title, floor, changes)


def apply(actor: User, scenario: Scenario, effective_from: date | None, reason: str) -> int:
    """Schedule every change as a rate change with one reason: all of them, or none."""
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not scenario.changes:
        errors[""] = ["Nobody would change: there is nothing to apply."]
    if not reason:
        errors["reason"] = ["Say why, e.g. 'Raise to the living wage, board decision of May 4'."]
    if effective_from is None:
        errors["effective_from"] = ["Enter the date the raises take effect."]
    if errors:
        raise WhatIfError(errors)
    problems: list[str] = []
    with db.session.begin_nested() as savepoint:
        for change in scenario.changes:
            try:
                pay_rates.add_rate(
                    actor, change.row.worker, effective_from, change.row.rate.classification,
                    change.new, reason,
                )  # fmt: skip
            except pay_rates.PaySettingError as exc:
                for messages in exc.errors.values():
                    problems.extend(f"{change.row.worker.name}: {m}" for m in messages)
        if problems:
            savepoint.rollback()
    if problems:
        raise WhatIfError({"": ["Nothing was saved.", *problems]})
    # One event for the scenario; each rate change has its own "pay_rate.added" too.
    audit.record("whatif.applied", "organisations", actor.organisation_id, actor=actor)
    return len(scenario.changes)
