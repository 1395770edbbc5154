"""Slices of a list for ``IN (...)`` queries, so no statement binds more values than a
driver accepts (SQLite's default limit is 999 bound parameters per statement)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

# Values bound in one ``IN (...)``.
IN_CHUNK = 500


def chunks(items: list[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``items`` in consecutive slices of at most ``size``, in order."""
    for at in range(0, len(items), size):
        yield items[at : at + size]
