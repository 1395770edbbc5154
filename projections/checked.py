"""Checked reads (R29): what a report or listing read from the read models is checked
against the seals kept from the chain before anything is printed, written or signed.

``checked`` runs a query on caught-up views, notes the tables it read, checks every
projection owning one of them (``projections.seal``) and returns the query's result only
when they all match; otherwise ``ReadModelTampered`` (exit 3) names each table and row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from ledger.errors import LedgerBusy
from projections.asof import time_index
from projections.base import Projection, Views, tracked_position
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


def _positions(views: Views, projections: Iterable[Projection]) -> dict[str, int]:
    with views.engine.connect() as conn:
        return {p.name: tracked_position(conn, p.name) for p in projections}


def check_reads(views: Views) -> list[Finding]:
    """Check the projections whose tables were read through ``views`` (``views.reads``)."""
    if not views.sealed:
        return []  # rebuilt from the log in memory by this process: nothing stored to trust
    reads = views.reads or set()
    if views.position_read is not None:
        # Read as of a position: the version tables and the time index were read.
        reads = {getattr(version_of(t), "name", t) for t in reads} | {time_index.name}
    return check_projections(views, owners(views, reads), only=reads)


def checked(views: Views, query: Callable[[Views], T]) -> T:
    """``query(views)`` whose reads are checked; raises ReadModelTampered on a mismatch."""
    for _attempt in range(RETRIES):
        views.reads = set()
        before = _positions(views, views.projections)
        result = query(views)
        findings = check_reads(views)
        if findings:
            raise ReadModelTampered(findings)
        if _positions(views, views.projections) == before:
            return result
        views.catch_up()
    raise LedgerBusy(attempts=RETRIES, detail="read models (checked while others wrote)")
