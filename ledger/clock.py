"""The ledger's clock (R26): the recorded time of an act is the system clock, never an option.

The installed command always uses :func:`system_clock`. Tests and ``custodes demo``
simulate time through the Python API only, by giving ``open_ledger`` a
:class:`ManualClock`; no command-line option or environment variable can set it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (simulated time through the Python API)."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def __call__(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = _aware(when)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("a clock's time must carry its time zone")
    return when.astimezone(UTC)


# How far a recorded time may fall behind the act before it: clocks of several hosts, or
# one clock stepped by NTP, differ a little; a clock set back to backdate an act does not.
CLOCK_TOLERANCE = timedelta(minutes=2)
