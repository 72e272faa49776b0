"""Small-number suppression (SPEC §5, issue 16), pure: no database, no Flask.

A wellbeing figure built from fewer than ``minimum`` distinct people is not published (primary
suppression). Figures are published over a hierarchy (a funder's providers together, each
provider, each provider's sites), every node being the sum of its children; where a hidden node
could be worked out from published ones by subtraction or addition, another is hidden too
(complementary suppression), decided once for the whole hierarchy, so that no combination of
the views that show parts of it recovers a hidden figure.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

SUPPRESSED = None  # a hidden figure; pages say "hidden (small numbers)", the API null


@dataclass(frozen=True)
class Cell:
    """A figure and the number of distinct people behind it."""

    value: float | int
    people: int


def suppress_tree(
    cells: dict[Hashable, Cell], parent: dict[Hashable, Hashable | None], minimum: int
) -> dict[Hashable, object]:
    """Publish one figure over a hierarchy (a funder, its providers, their sites), where each
    node's value is the sum of its children's and every node may be published in some view.

    A node with fewer than ``minimum`` people is hidden. Then, until nothing changes, every
    family (a node and its children) must have no hidden member or at least two, and where the
    family's parent is published, its hidden children must together stand for at least
    ``minimum`` people; otherwise one more member is hidden: the grand total when it is the
    family's parent (one figure lost, not a provider's whole table), else the smallest published
    child, else the parent. Families overlap in one node at most, so the equations form a tree:
    with two unknowns or more in every equation that has one, no hidden value can be worked out
    from the published ones, whatever views they were published in (tests/test_suppression.py
    solves the equations to check this).
    """
    children: dict[Hashable, list] = {}
    for node, up in parent.items():
        if up is not None:
            children.setdefault(up, []).append(node)
    hidden = {node for node, cell in cells.items() if cell.people < minimum}

    def smallest(nodes):
        return min(nodes, key=lambda n: (cells[n].people, repr(n)))

    changed = True
    while changed:
        changed = False
        for top, kids in children.items():
            family = [top, *kids]
            inside = [n for n in family if n in hidden]
            if not inside:
                continue
            kids_hidden = [n for n in kids if n in hidden]
            enough = sum(cells[n].people for n in kids_hidden) >= minimum
            if len(inside) >= 2 and (top in hidden or enough):
                continue
            rest = [n for n in kids if n not in hidden]
            if top not in hidden and parent.get(top) is None:
                hidden.add(top)  # the grand total: hiding it costs one figure, not a subtree
            else:
                hidden.add(smallest(rest) if rest else top)
            changed = True
    return {node: (SUPPRESSED if node in hidden else cell.value) for node, cell in cells.items()}
