"""Anonymized statistics (R5; 75 ILCS 70/1(b), rule LRCA-STATISTICS): aggregate counts a
library may publish because no individual can be identified from them.

Every count cell in 1..threshold-1 is suppressed (``ledger.statistics_policy.suppress_small_cells``).
A table's total would give a single suppressed cell back by subtraction, so the total is
suppressed too when one cell alone is suppressed (complementary suppression); tables that
count the same requests share one total, suppressed in all of them if in one. Footage
hours measure camera operation, not people, and are not suppressed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from ledger import rules
from ledger.disclosure import REQUESTER_KINDS
from ledger.footage_policy import PURPOSES
from ledger.statistics_policy import suppress_small_cells
from projections.access import viewings
from projections.disclosures import disclosures
from projections.retention import segments

BASES = ("court_order", "emergency", "guardian", "foia", "none")
DECISIONS = ("pending", "approved", "denied")


@dataclass(frozen=True)
class Cell:
    label: str
    count: int | None  # None: suppressed
    suppressed: bool


@dataclass(frozen=True)
class CountTable:
    name: str
    title: str
    cells: tuple[Cell, ...]
    total: int | None
    total_suppressed: bool


@dataclass(frozen=True)
class Statistics:
    since: datetime
    until: datetime  # exclusive
    as_of: datetime | None
    threshold: int
    rule_id: str
    rule_source: str
    tables: tuple[CountTable, ...]
    footage_hours_captured: float
    footage_hours_purged: float


def _cells(counts: Mapping[str, int], threshold: int) -> tuple[Cell, ...]:
    shown = suppress_small_cells(counts, threshold)
    return tuple(Cell(k, shown[k], shown[k] is None) for k in counts)


def _tables(
    group: Sequence[tuple[str, str, Mapping[str, int]]], threshold: int
) -> list[CountTable]:
    """Tables counting the same things: one total, suppressed in all if needed in one."""
    built = [(name, title, _cells(counts, threshold)) for name, title, counts in group]
    total = sum(group[0][2].values()) if group else 0
    hide = 0 < total < threshold or any(
        sum(c.suppressed for c in cells) == 1 for _n, _t, cells in built
    )
    return [
        CountTable(name, title, cells, None if hide else total, hide)
        for name, title, cells in built
    ]


def _ordered(counter: Counter[str], known: Sequence[str]) -> dict[str, int]:
    """Every known category (zeros included, so a table's shape never changes), then
    any other category seen, alphabetically."""
    out = {k: counter.get(k, 0) for k in known}
    out.update({k: counter[k] for k in sorted(counter) if k not in out})
    return out


def statistics(
    conn: Connection,
    since: datetime,
    until: datetime,
    *,
    threshold: int = 5,
    as_of: datetime | None = None,
) -> Statistics:
    """Counts over ``[since, until)`` from the read models, small cells suppressed."""
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    requests = disclosures(conn, since, until)
    by_kind = _ordered(Counter(r.requester_kind for r in requests), REQUESTER_KINDS)
    by_basis = _ordered(Counter(r.basis for r in requests), BASES)
    by_decision = _ordered(Counter(r.decision for r in requests), DECISIONS)
    v = viewings.c
    seen = Counter(
        str(p)
        for p in conn.execute(
            select(v.purpose).where(v.viewed_at >= since, v.viewed_at < until)
        ).scalars()
    )
    by_purpose = _ordered(seen, sorted(PURPOSES))
    tables = [
        *_tables(
            [
                ("requests_by_kind", "Requests by requester kind", by_kind),
                ("requests_by_basis", "Requests by legal basis", by_basis),
                ("requests_by_decision", "Requests by decision", by_decision),
            ],
            threshold,
        ),
        *_tables([("viewings_by_purpose", "Archived-footage viewings by purpose", by_purpose)],
                 threshold),
    ]  # fmt: skip
    s = segments.c
    captured = _hours(
        conn.execute(
            select(s.recorded_start, s.recorded_end).where(
                s.recorded_start >= since, s.recorded_start < until
            )
        )
    )
    purged = _hours(
        conn.execute(
            select(s.recorded_start, s.recorded_end).where(
                s.purged_at.is_not(None), s.purged_at >= since, s.purged_at < until
            )
        )
    )
    return Statistics(
        since=since,
        until=until,
        as_of=as_of,
        threshold=threshold,
        rule_id=rules.LRCA_STATISTICS.id,
        rule_source=rules.LRCA_STATISTICS.source,
        tables=tuple(tables),
        footage_hours_captured=captured,
        footage_hours_purged=purged,
    )


def _hours(rows: object) -> float:
    seconds = sum((end - start).total_seconds() for start, end in rows)  # type: ignore[attr-defined]
    return round(seconds / 3600, 2)
