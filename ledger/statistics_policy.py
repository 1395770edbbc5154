"""Small-cell suppression for published statistics (R5; 75 ILCS 70/1(b))."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

K = TypeVar("K")


def suppress_small_cells(counts: Mapping[K, int], threshold: int = 5) -> dict[K, int | None]:
    """Suppress cells that could identify a patron (75 ILCS 70/1(b)): a count in
    1..threshold-1 becomes None. Zero is shown (common practice): a count of nobody
    identifies no one. The price is that a suppressed cell is known to hold at least one
    patron; callers who cannot accept that should suppress the row or coarsen categories."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    return {k: (None if 0 < n < threshold else n) for k, n in counts.items()}
