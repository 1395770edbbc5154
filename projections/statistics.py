"""Anonymized statistics (R5; 75 ILCS 70/1(b), rule LRCA-STATISTICS): aggregate counts a
library may publish because no individual can be identified from them.

Every count cell in 1..threshold-1 is suppressed, and the total of tables that count the
same requests is hidden in all of them when any of their cells is. Where the shown cells
of one table and another's still pin a small cell to one value, the smallest further
count is hidden too (``ledger.statistics_policy.protect_tables``). Footage hours measure
camera operation, not people, and are not suppressed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from ledger import rules
from ledger.disclosure import REQUESTER_KINDS
from ledger.footage_policy import PURPOSES
from ledger.statistics_policy import HIDDEN, SHOWN, WITHHELD, protect_tables
from projections.access import viewings
from projections.disclosures import disclosures
from projections.retention import segments

if TYPE_CHECKING:
    from ledger.clock_commands import SetAsideSpan

BASES = ("court_order", "emergency", "guardian", "foia", "none")
DECISIONS = ("pending", "approved", "denied", "released, denied", "not needed")


@dataclass(frozen=True)
class Cell:
    label: str
    count: int | None  # None: suppressed
    suppressed: bool
    hidden: bool = False  # not small itself: hidden so that a small cell cannot be worked out


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

    @property
    def hides_more(self) -> bool:
        """Whether a count that is not small is hidden to protect a small one."""
        return any(c.hidden for t in self.tables for c in t.cells)


def _tables(
    group: Sequence[tuple[str, str, Mapping[str, int]]], threshold: int
) -> list[CountTable]:
    """Tables counting the same things: small cells suppressed, and more hidden where the
    rest would give one back (``protect_tables``); one total, hidden in all of them when
    any cell is not shown or it is small itself."""
    states = protect_tables([counts for _n, _t, counts in group], threshold)
    total = sum(group[0][2].values()) if group else 0
    hide = 0 < total < threshold or any(s != SHOWN for state in states for s in state.values())
    return [
        CountTable(
            name,
            title,
            tuple(
                Cell(
                    k,
                    n if state[k] == SHOWN else None,
                    state[k] != SHOWN,
                    state[k] in (HIDDEN, WITHHELD),
                )  # fmt: skip
                for k, n in counts.items()
            ),
            None if hide else total,
            hide,
        )
        for (name, title, counts), state in zip(group, states, strict=True)
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
    set_aside: Sequence[SetAsideSpan] = (),
) -> Statistics:
    """Counts over ``[since, until)`` from the read models, small cells suppressed;
    ``set_aside``: the log's clock corrections, for the requests' period
    (``disclosures``)."""
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    requests = disclosures(conn, since, until, set_aside=set_aside)
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
