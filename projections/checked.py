"""Checked reads (R29): what a report or listing read from the read models is checked
against the seals kept from the chain before anything is printed, written or signed.

``checked`` runs a query on caught-up views, notes the tables it read (and, for a table read
only through ranges of its seal's buckets, those ranges: ``seal.read_range``), checks every
projection owning one of them (``projections.seal``) and returns the query's result only
when they all match; otherwise ``ReadModelTampered`` (exit 3) names each table and row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from ledger.errors import LedgerBusy
from projections.asof import time_index
from projections.base import Projection, Views
from projections.seal import Finding, ReadModelTampered, check_projections
from projections.versions import version_of

T = TypeVar("T")
# Another process catching up between the query and the check moves the positions:
# query and check again (each retry means the other made progress).
RETRIES = 5


def owners(views: Views, tables: Iterable[str]) -> list[Projection]:
    """The projections (of these views) that own any of these tables."""
    wanted = set(tables)
    return [p for p in views.projections if wanted & {t.name for t in p.metadata.sorted_tables}]


def _positions(views: Views) -> dict[str, int]:
    """Every projection's position, in one query (``Views.positions``)."""
    return views.positions()


def check_reads(views: Views) -> list[Finding]:
    """Check the projections whose tables were read through ``views`` (``views.reads``)."""
    if not views.sealed:
        return []  # rebuilt from the log in memory by this process: nothing stored to trust
    reads = views.reads or set()
    ranges = {t: r for t, r in views.ranges.items() if t not in reads}
    if views.position_read is not None:
        # Read as of a position: the tables and their version tables (whole: no
        # buckets) and the time index were read.
        reads = {
            name for t in reads | set(ranges) for name in (t, getattr(version_of(t), "name", t))
        }
        reads |= {time_index.name}
        ranges = {}
    return check_projections(views, owners(views, reads | set(ranges)), only=reads, ranges=ranges)


def checked(views: Views, query: Callable[[Views], T]) -> T:
    """``query(views)`` whose reads are checked; raises ReadModelTampered on a mismatch."""
    for _attempt in range(RETRIES):
        views.reads = set()
        views.ranges = {}
        before = _positions(views)
        result = query(views)
        findings = check_reads(views)
        if findings:
            raise ReadModelTampered(findings)
        if _positions(views) == before:
            return result
        views.catch_up()
    raise LedgerBusy(attempts=RETRIES, detail="read models (checked while others wrote)")
