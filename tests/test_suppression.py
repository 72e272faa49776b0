"""Small-number suppression: primary and complementary, and nothing recoverable."""

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.stats.suppression import SUPPRESSED, Cell, publish, suppress

MIN = 11


def test_a_figure_from_fewer_than_eleven_people_is_hidden():
    assert publish(Cell(4, 10), MIN) is SUPPRESSED
    assert publish(Cell(4, 11), MIN) == 4


def test_a_second_cell_is_hidden_where_the_first_could_be_recovered():
    # sites A (30 people), B (5 people), C (20 people) with the total published:
    # hiding only B would give B = total - A - C, so the smallest other (C) is hidden too.
    cells = {("A", "n"): Cell(40, 30), ("B", "n"): Cell(6, 5), ("C", "n"): Cell(25, 20)}
    out = suppress(cells, MIN)
    assert out.cells == {("A", "n"): 40, ("B", "n"): SUPPRESSED, ("C", "n"): SUPPRESSED}
    # (a one-column table's row totals are the cells themselves: hidden with them)
    assert out.hidden_totals == {("row", "B"), ("row", "C")}


def test_no_complement_needed_when_the_total_is_hidden_too():
    cells = {("A", "n"): Cell(40, 30), ("B", "n"): Cell(6, 5)}
    assert suppress(cells, MIN, hidden_totals={("col", "n")}).cells == {
        ("A", "n"): 40,
        ("B", "n"): SUPPRESSED,
    }


def test_a_lone_hidden_cell_hides_its_lines_total():
    out = suppress({("A", "n"): Cell(3, 3)}, MIN)
    assert out.cells == {("A", "n"): SUPPRESSED}
    assert out.hidden_totals == {("row", "A"), ("col", "n")}


def test_hidden_cells_whose_sum_is_known_must_stand_for_enough_people():
    # B and C are both hidden with nobody behind them: total - A would show B + C = 0, hence
    # each is 0; so A is hidden too.
    cells = {("A", "n"): Cell(12, 12), ("B", "n"): Cell(0, 0), ("C", "n"): Cell(0, 0)}
    out = suppress(cells, MIN)
    assert set(out.cells.values()) == {SUPPRESSED}
    assert ("col", "n") not in out.hidden_totals  # 12 people together: the total may show


tables = st.dictionaries(
    st.tuples(st.sampled_from("ABCD"), st.sampled_from("xyz")),
    st.integers(min_value=0, max_value=40),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_nothing_hidden_can_be_recovered_and_nothing_small_is_published(people):
    cells = {k: Cell(p, p) for k, p in people.items()}  # value = people, the worst case
    published = suppress(cells, MIN)
    out = published.cells
    for key, value in out.items():
        if value is not SUPPRESSED:
            assert cells[key].people >= MIN
    # every row and column holds zero or at least two hidden cells: no single subtraction
    lines = {}
    for r, c in cells:
        lines.setdefault(("row", r), []).append((r, c))
        lines.setdefault(("col", c), []).append((r, c))
    for line, keys in lines.items():
        hidden = [k for k in keys if out[k] is SUPPRESSED]
        if line in published.hidden_totals or not hidden:
            continue
        assert len(hidden) >= 2
        # the hidden cells' sum (total minus published cells) describes enough people
        assert sum(cells[k].people for k in hidden) >= MIN
