"""Small-number suppression (SPEC §5), pure: no database, no Flask.

A wellbeing figure built from fewer than ``minimum`` distinct people is not published (primary
suppression). Where a hidden cell could be recovered by subtracting the other published cells of
its row or column from that line's published total, the smallest remaining cell of the line is
hidden too (complementary suppression), until no line with a published total has exactly one
hidden cell, or several hidden cells that together stand for fewer than ``minimum`` people (their
sum, recoverable from the total, would describe too few: with counts, a sum of 0 shows each is 0).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

SUPPRESSED = None  # a hidden figure; pages say "fewer than N"


@dataclass(frozen=True)
class Cell:
    """A figure and the number of distinct people behind it."""

    value: float | int
    people: int


def publish(cell: Cell, minimum: int):
    """One figure: its value, or SUPPRESSED when fewer than ``minimum`` people are behind it."""
    return cell.value if cell.people >= minimum else SUPPRESSED


@dataclass
class Published:
    """A table as published: values or SUPPRESSED, and the line totals that must be hidden."""

    cells: dict
    hidden_totals: set


def suppress(
    cells: dict[tuple[Hashable, Hashable], Cell],
    minimum: int,
    hidden_totals: set[tuple[str, Hashable]] = frozenset(),
) -> Published:
    """Publish a table of cells keyed (row, column).

    Every row and column is assumed to have its total published, except the lines named in
    ``hidden_totals`` as ("row", r) or ("col", c). When a line's only hidden cell has no other
    cell to pair with, that line's total is hidden instead (returned in ``hidden_totals``).
    """
    hidden = {key for key, cell in cells.items() if cell.people < minimum}
    totals = set(hidden_totals)
    lines: dict[tuple[str, Hashable], list] = {}
    for r, c in cells:
        lines.setdefault(("row", r), []).append((r, c))
        lines.setdefault(("col", c), []).append((r, c))
    changed = True
    while changed:
        changed = False
        for line, keys in lines.items():
            if line in totals or _safe(keys, hidden, cells, minimum):
                continue
            # smallest first; ties by key, so columns with the same people hide the same rows
            rest = sorted((k for k in keys if k not in hidden),
                          key=lambda k: (cells[k].people, repr(k)))  # fmt: skip
            if rest:
                hidden.add(rest[0])
            else:
                totals.add(line)
            changed = True
    return Published(
        cells={key: (SUPPRESSED if key in hidden else cell.value) for key, cell in cells.items()},
        hidden_totals=totals,
    )


def _safe(keys, hidden: set, cells: dict, minimum: int) -> bool:
    """Whether a line's hidden cells stay hidden although its total is published."""
    inside = [k for k in keys if k in hidden]
    if not inside:
        return True
    return len(inside) >= 2 and sum(cells[k].people for k in inside) >= minimum
