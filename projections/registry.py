"""Every read model, in one list: `custodes projections rebuild` rebuilds them all."""

from __future__ import annotations

from ledger.app import Ledger
from projections.base import Projection, Views
from projections.refusals import RefusalsProjection


def all_projections() -> list[Projection]:
    return [
        RefusalsProjection(),
        # Feature read models register here, one line each.
    ]


def open_views(ledger: Ledger) -> Views:
    """The read models of this ledger, caught up with the log."""
    views = Views(ledger, all_projections())
    views.catch_up()
    return views
