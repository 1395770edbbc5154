"""Published statistics give no small count back (R5; red-team M2): the shown cells of one
table and another's that count the same requests used to pin a suppressed cell (a table of
decisions shows the total that a table of requester kinds hid). Checked against a reader
who tries every value the published tables allow."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.statistics_policy import HIDDEN, SHOWN, SMALL, WITHHELD, protect_tables


def _possible_values(tables: list[dict[str, int]], states: list[dict[str, str]], t: int):  # noqa: ANN202
    """What a reader can learn: for each small cell, every value it may hold given what is
    shown, that small cells are 1..t-1, hidden ones at least t, and one shared total."""
    cells = [(i, k) for i, state in enumerate(states) for k, s in state.items() if s != SHOWN]
    bound = sum(tables[0].values()) + t * 2  # enough to reach any total they could reach
    ranges = [range(1, t) if states[i][k] == SMALL else range(t, bound + 1) for i, k in cells]
    seen: dict[tuple[int, str], set[int]] = {c: set() for c in cells}
    for values in itertools.product(*ranges):
        assigned = dict(zip(cells, values, strict=True))
        totals = {
            sum(assigned.get((i, k), n) if states[i][k] != SHOWN else n for k, n in table.items())
            for i, table in enumerate(tables)
        }
        if len(totals) == 1:
            for c, v in assigned.items():
                seen[c].add(v)
    return {c: v for c, v in seen.items() if states[c[0]][c[1]] == SMALL}


def test_a_sibling_table_that_shows_the_total_makes_a_larger_count_hidden() -> None:
    kinds, decisions = {"public": 1, "court": 0, "police": 7}, {"approved": 8}
    states = protect_tables([kinds, decisions], 5)
    assert states[0] == {"public": SMALL, "court": SHOWN, "police": HIDDEN}
    assert states[1] == {"approved": SHOWN}  # 8 = public + police: public is 1, 2 or 3
    assert _possible_values([kinds, decisions], states, 5)[(0, "public")] == {1, 2, 3}


def test_one_table_alone_hides_only_its_small_cells() -> None:
    assert protect_tables([{"a": 1, "b": 7, "c": 0}], 5) == [{"a": SMALL, "b": SHOWN, "c": SHOWN}]


def test_nothing_small_nothing_hidden_and_threshold_one_hides_nothing() -> None:
    assert protect_tables([{"a": 5, "b": 0}, {"x": 5}], 5) == [
        {"a": SHOWN, "b": SHOWN},
        {"x": SHOWN},
    ]
    assert protect_tables([{"a": 1}, {"x": 1}], 1) == [{"a": SHOWN}, {"x": SHOWN}]


def test_tables_that_give_a_count_back_whatever_is_hidden_are_withheld() -> None:
    """Two requests: one table says both were of one kind (<3), the other that they were of
    two decisions (<3 each): so there were 2, and each decision counts 1."""
    states = protect_tables([{"public": 2, "court": 0}, {"approved": 1, "denied": 1}], 3)
    assert states == [dict.fromkeys(("public", "court"), WITHHELD),
                      dict.fromkeys(("approved", "denied"), WITHHELD)]  # fmt: skip


def _groups(draw: st.DrawFn) -> list[dict[str, int]]:
    total = draw(st.integers(1, 9))
    tables = []
    for j in range(draw(st.integers(1, 3))):
        parts = draw(st.integers(1, 3))
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
        edges = [0, *cuts, total]
        tables.append({f"t{j}c{i}": edges[i + 1] - edges[i] for i in range(parts)})
    return tables


@settings(max_examples=150, deadline=None)
@given(st.composite(_groups)(), st.integers(3, 5))
def test_no_small_count_can_be_worked_out_from_what_is_published(
    tables: list[dict[str, int]], threshold: int
) -> None:
    states = protect_tables(tables, threshold)
    for (i, k), values in _possible_values(tables, states, threshold).items():
        assert tables[i][k] in values
        assert len(values) > 1, (tables, states, (i, k), values)
