"""Leaders' completion rates: per course, for the organisation and each site, aggregates only.

A rate is the share of the workers a course is required of who hold a valid completion today.
A group of fewer than SUPPRESSION_MIN workers is not published, and neither is any figure from
which a hidden one could be worked out by subtraction (the organisation's total minus its
published sites): portal.stats.suppression.suppress_tree decides, over the tree organisation ->
sites, which second figure to hide.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask import current_app

from portal.stats.suppression import Cell, suppress_tree
from portal.training import service

ROOT = ("org",)
NO_SITE = "No home site"


@dataclass
class RateRow:
    """One published line: its label, how many the course is required of, and (None when
    hidden) how many hold it and the rate in percent."""

    label: str
    required: int
    complete: int | None
    rate: float | None
    is_total: bool = False


@dataclass
class CourseRates:
    course_name: str
    hours: object
    renewal_text: str
    rows: list[RateRow]

    @property
    def any_hidden(self) -> bool:
        return any(r.complete is None for r in self.rows)


def completion_rates(organisation_id: int, today: date | None = None) -> list[CourseRates]:
    """Each required course's completion, the organisation's and each site's, suppressed."""
    minimum = current_app.config["SUPPRESSION_MIN"]
    sites = {s.id: s.name for s in service.org_sites(organisation_id, active_only=False)}
    per_course: dict[int, dict] = {}
    courses = {}
    for ws in service.standings(organisation_id, today):
        node = ("site", ws.worker.site_id)
        for line in ws.lines:
            courses[line.course.id] = line.course
            counts = per_course.setdefault(line.course.id, {})
            for key in (ROOT, node):
                required, complete = counts.get(key, (0, 0))
                counts[key] = (required + 1, complete + (1 if line.standing.current else 0))
    result = []
    for course_id, counts in sorted(per_course.items(), key=lambda kv: courses[kv[0]].name):
        cells = {key: Cell(complete, required) for key, (required, complete) in counts.items()}
        parent = {key: (None if key == ROOT else ROOT) for key in cells}
        published = suppress_tree(cells, parent, minimum)
        rows = []
        order = [ROOT] + sorted((k for k in cells if k != ROOT),
                                key=lambda k: (k[1] is None, sites.get(k[1], "")))  # fmt: skip
        for key in order:
            required = cells[key].people
            value = published[key]
            label = "All sites" if key == ROOT else sites.get(key[1], NO_SITE)
            rows.append(RateRow(
                label, required, None if value is None else int(value),
                None if value is None else round(100 * value / required, 1), key == ROOT,
            ))  # fmt: skip
        course = courses[course_id]
        result.append(CourseRates(course.name, course.hours, course.renewal_text, rows))
    return result


HIDDEN = "hidden (small numbers)"


def rates_csv(rates: list[CourseRates]) -> str:
    """The published rates as CSV; hidden figures read "hidden (small numbers)"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["course", "group", "workers_required", "complete", "completion_percent"])
    for course in rates:
        for row in course.rows:
            writer.writerow([
                service._text_cell(course.course_name), service._text_cell(row.label),
                row.required, HIDDEN if row.complete is None else row.complete,
                HIDDEN if row.rate is None else row.rate,
            ])  # fmt: skip
    return out.getvalue()
