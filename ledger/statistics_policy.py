"""Small-cell suppression for published statistics (R5; 75 ILCS 70/1(b)).

A count from 1 to threshold-1 is *small*: it could identify a patron, so it is not shown.
Hiding it is not enough when the other numbers give it back: a table's total minus its
shown cells, or a second table counting the same requests by another category. So
:func:`protect_tables` audits what a reader can work out from everything published (each
small cell is 1..threshold-1, each hidden one at least the threshold, the tables share one
total) and hides the smallest further count (*hidden*, shown as such) until no small
cell has a single possible value; when nothing is left to hide and one still has, the
tables are withheld whole (every cell, zeros too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

K = TypeVar("K")

SHOWN, SMALL, HIDDEN, WITHHELD = "shown", "small", "hidden", "withheld"


def suppress_small_cells(counts: Mapping[K, int], threshold: int = 5) -> dict[K, int | None]:
    """Suppress cells that could identify a patron (75 ILCS 70/1(b)): a count in
    1..threshold-1 becomes None. Zero is shown (common practice): a count of nobody
    identifies no one. The price is that a suppressed cell is known to hold at least one
    patron. One table alone: see :func:`protect_tables` for what totals give back."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    return {k: (None if 0 < n < threshold else n) for k, n in counts.items()}


def protect_tables(tables: Sequence[Mapping[K, int]], threshold: int) -> list[dict[K, str]]:
    """Each cell's state (``SHOWN``, ``SMALL`` or ``HIDDEN``) for tables that count the same
    things by different categories, published with their total hidden whenever a cell is
    not shown. Small cells first; then, while some small cell could be worked out exactly
    from what is shown, the smallest shown non-zero count of a table that pins it is
    hidden as well (secondary suppression). If a small cell is still pinned when no count
    is left to hide (e.g. 2 requests, counted by kind and by decision), every cell of
    every table is ``WITHHELD``."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    states = [{k: SMALL if 0 < n < threshold else SHOWN for k, n in t.items()} for t in tables]
    while (j := _pinned_table(tables, states, threshold)) is not None:
        candidates = [
            (n, i, k)
            for i in ([j] + [i for i in range(len(tables)) if i != j])
            for k, n in tables[i].items()
            if n > 0 and states[i][k] == SHOWN
        ]
        if not candidates:  # nothing left to hide, and the tables still give one back
            return [dict.fromkeys(t, WITHHELD) for t in tables]
        mine = [c for c in candidates if c[1] == j]
        _n, i, k = min(mine or candidates, key=lambda c: c[0])
        states[i][k] = HIDDEN
    return states


def _pinned_table(
    tables: Sequence[Mapping[K, int]], states: Sequence[Mapping[K, str]], t: int
) -> int | None:
    """The first table holding a small cell that what is published pins to one value."""
    shape = []  # per table: (sum shown, number of small cells, number of hidden cells)
    for table, state in zip(tables, states, strict=True):
        shown = sum(n for k, n in table.items() if state[k] == SHOWN)
        small = sum(1 for s in state.values() if s == SMALL)
        hidden = sum(1 for s in state.values() if s == HIDDEN)
        shape.append((shown, small, hidden))
    if not any(small for _s, small, _h in shape):
        return None
    # The totals a reader cannot rule out: every table must be able to reach them.
    low = max(s + k + t * m for s, k, m in shape)
    high = min((s + k * (t - 1) for s, k, m in shape if m == 0), default=low + t * len(shape))
    for j, (s, k, m) in enumerate(shape):
        if not k:
            continue
        values: set[int] = set()
        for total in range(low, high + 1):
            for v in range(1, t):
                rest = total - s - v  # what the other small and hidden cells hold
                others_low = (k - 1) + t * m
                others_high = (k - 1) * (t - 1) if m == 0 else rest
                if others_low <= rest <= others_high:
                    values.add(v)
            if len(values) > 1:
                break
        if len(values) <= 1:
            return j
    return None
