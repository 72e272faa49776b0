"""Suppression over a hierarchy (funder, providers, sites): nothing small is published and no
hidden figure can be worked out from the published ones, whichever views publish them."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.stats.suppression import SUPPRESSED, Cell, suppress_tree

MIN = 11
ROOT = "all"


def build(sites: dict[tuple[int, int], tuple[int, int]]):
    """Cells and parents of a tree from its sites' (value, people): providers and the root
    are the sums of their children, as every person is in one site."""
    cells, parent = {}, {ROOT: None}
    sums: dict = {}
    for (org, site), (value, people) in sites.items():
        cells[("site", org, site)] = Cell(value, people)
        parent[("site", org, site)] = ("org", org)
        parent[("org", org)] = ROOT
        for up in (("org", org), ROOT):
            v, p = sums.get(up, (0, 0))
            sums[up] = (v + value, p + people)
    cells.update({node: Cell(*vp) for node, vp in sums.items()})
    return cells, parent


def determined(cells, parent, published) -> set:
    """The hidden nodes whose value follows from the published ones: each family's equation
    (parent = sum of children), unknowns the hidden nodes, solved exactly (Gaussian elimination
    over fractions); an unknown is determined when its unit vector lies in the rows' span."""
    hidden = sorted((n for n, v in published.items() if v is SUPPRESSED), key=repr)
    index = {n: i for i, n in enumerate(hidden)}
    rows = []
    for top in {p for p in parent.values() if p is not None}:
        row = [Fraction(0)] * len(hidden)
        members = [(top, 1), *((n, -1) for n, p in parent.items() if p == top)]
        if not any(n in index for n, _sign in members):
            continue
        for n, sign in members:
            if n in index:
                row[index[n]] += sign
        rows.append(row)
    basis = _echelon(rows)
    found = set()
    for n, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(hidden))]
        if len(_echelon([*basis, unit])) == len(basis):
            found.add(n)
    return found


def _echelon(rows):
    rows = [list(r) for r in rows]
    out, col = [], 0
    width = len(rows[0]) if rows else 0
    while rows and col < width:
        pivot = next((r for r in rows if r[col] != 0), None)
        if pivot is None:
            col += 1
            continue
        rows.remove(pivot)
        pivot = [x / pivot[col] for x in pivot]
        rows = [[a - r[col] * b for a, b in zip(r, pivot, strict=True)] for r in rows]
        rows = [r for r in rows if any(r)]
        out.append(pivot)
        col += 1
    return out


def test_a_small_site_is_hidden_with_a_complement():
    cells, parent = build({(1, 1): (20, 20), (1, 2): (4, 4), (2, 1): (30, 30)})
    out = suppress_tree(cells, parent, MIN)
    assert out[("site", 1, 2)] is SUPPRESSED
    assert out[("site", 1, 1)] is SUPPRESSED, "24 - 20 would give the small site"
    assert out[("org", 1)] == 24 and out[("org", 2)] == 30 and out[ROOT] == 54


def test_a_small_provider_costs_the_grand_total_only():
    cells, parent = build({(1, 1): (20, 20), (1, 2): (25, 25), (2, 1): (3, 3)})
    out = suppress_tree(cells, parent, MIN)
    assert out[("org", 2)] is SUPPRESSED and out[ROOT] is SUPPRESSED
    assert (out[("org", 1)], out[("site", 1, 1)], out[("site", 1, 2)]) == (45, 20, 25)
    assert out[("site", 2, 1)] is SUPPRESSED


def test_hidden_children_whose_sum_is_known_must_stand_for_enough_people():
    # two small sites (3 + 4 = 7 people) under a published provider: their sum would be known
    cells, parent = build({(1, 1): (3, 3), (1, 2): (4, 4), (1, 3): (40, 40), (2, 1): (50, 50)})
    out = suppress_tree(cells, parent, MIN)
    assert out[("site", 1, 3)] is SUPPRESSED


def test_a_hidden_provider_is_not_the_sum_of_published_sites():
    cells, parent = build({(1, 1): (20, 20), (1, 2): (30, 30), (2, 1): (2, 2), (3, 1): (60, 60)})
    out = suppress_tree(cells, parent, MIN)
    assert not determined(cells, parent, out)


trees = st.dictionaries(
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
    st.tuples(st.integers(0, 60), st.integers(0, 30)),
    min_size=1,
    max_size=12,
).map(lambda d: {k: (max(v, p), p) for k, (v, p) in d.items()})  # a value >= its people


@settings(max_examples=400, deadline=None)
@given(trees)
def test_nothing_hidden_can_be_worked_out_and_nothing_small_is_published(sites):
    cells, parent = build(sites)
    out = suppress_tree(cells, parent, MIN)
    for node, value in out.items():
        if value is not SUPPRESSED:
            assert cells[node].people >= MIN, node
            assert value == cells[node].value
    assert not determined(cells, parent, out), "a hidden figure follows from published ones"
    # any two published figures, one inside the other, differ by nobody or by enough people
    ancestors = {}
    for node in cells:
        chain, up = [], parent.get(node)
        while up is not None:
            chain.append(up)
            up = parent.get(up)
        ancestors[node] = chain
    for node, chain in ancestors.items():
        for up in chain:
            if out[node] is not SUPPRESSED and out[up] is not SUPPRESSED:
                gap = cells[up].people - cells[node].people
                assert gap == 0 or gap >= MIN, (up, node, gap)
