"""Every read model, in one list: `custodes projections rebuild` rebuilds them all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection

from ledger.app import Ledger
from projections.asof import TimeIndexProjection, views_as_of
from projections.base import Projection, Views
from projections.cameras import CamerasProjection
from projections.checked import checked as check_reads_of
from projections.disclosures import DisclosuresProjection, RequestEntriesProjection
from projections.history import SubjectIndexProjection
from projections.refusals import RefusalsProjection
from projections.retention import footage_projections

T = TypeVar("T")


def all_projections() -> list[Projection]:
    return [
        RefusalsProjection(),
        # Feature read models register here, one line each.
        *footage_projections(),
        DisclosuresProjection(),
        RequestEntriesProjection(),
        CamerasProjection(),
        SubjectIndexProjection(),
        TimeIndexProjection(),
    ]


def read_views(
    ledger: Ledger,
    query: Callable[[Connection], T],
    *,
    as_of: datetime | None = None,
    checked: bool = False,
) -> T:
    """Run one query against the read models, caught up (or as they were at as_of).

    ``checked`` (reports, listings, the sweep: R29): the tables the query read are checked
    against their seals before the result is returned; a mismatch raises
    ``ReadModelTampered``. Views as of a past time read the kept read models' versions
    (``projections.asof``), checked the same way; when they must be replayed from the log
    in memory instead, there is nothing stored to check."""
    views = open_views(ledger, as_of=as_of)

    def run(v: Views) -> T:
        with v.connect() as conn:
            return query(conn)

    try:
        return check_reads_of(views, run) if checked else run(views)
    finally:
        views.close()


def open_views(ledger: Ledger, as_of: datetime | None = None) -> Views:
    """The read models of this ledger, caught up with the log (or as they were at as_of)."""
    if as_of is not None:
        return views_as_of(ledger, all_projections(), as_of)
    views = Views(ledger, all_projections())
    views.catch_up()
    return views
