"""Site time (R24): what people type becomes a UTC instant; every instant shown carries the
site's zone label. The one module that knows about local days, DST and zone labels.

Inside, every time is timezone-aware UTC. People type and read site time:

* a time typed without a zone is site time (``2026-12-01T09:30`` in America/Chicago is
  15:30 UTC); ``Z``, an offset (``-06:00``) or the zone's own label (``CST``, ``UTC``)
  says otherwise;
* a date alone is that whole local day, and a time names the whole minute (or second) it
  spells, so ``--from``/``--to`` are inclusive everywhere: ``--to 2026-12-01`` runs to
  the end of that local day, whatever DST does to its length;
* deadlines are the end of a local day (the FOIA clock, hold reviews, flags);
* every instant is shown as ``2026-12-08 23:59 CST``: the label is the one in force at
  that instant, so a list that crosses a DST change says which hour it means.

A local time that does not exist (the hour skipped in spring) or happens twice (the hour
repeated in autumn) is refused with the fix, never guessed: a wrong hour in a compliance
record is worse than a second try.

Standard library only (``zoneinfo``); no clock: callers pass the instants they have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.errors import InvalidTime

EXAMPLES = "2026-12-01, 2026-12-01T09:30, 2026-12-01 09:30 CST or 2026-12-01T15:30Z"
ONE_DAY = timedelta(days=1)
# For what is shown before a site is known (a restore's keys may not be back yet).
UTC_ZONE = ZoneInfo("UTC")
_TICK = timedelta(microseconds=1)  # the resolution of a datetime: "the last instant"
_UTC_LABELS = frozenset({"UTC", "GMT", "Z"})

_TYPED = re.compile(
    r"""^(?P<day>\d{4}-\d{2}-\d{2})
        (?:[T\ ](?P<hh>\d{2}):(?P<mm>\d{2})(?::(?P<ss>\d{2})(?:\.(?P<frac>\d{1,6}))?)?
           \s*(?:(?P<offset>[+-]\d{2}:?\d{2})|(?P<label>[A-Za-z]{1,6}))?
        )?$""",
    re.VERBOSE,
)


def site_zone(name: str) -> ZoneInfo:
    """The site's zone from its IANA name (``America/Chicago``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTime(
            f"unknown time zone {name!r}: give an IANA zone name such as America/Chicago"
        ) from None


# ---- what people type ---------------------------------------------------------------------


@dataclass(frozen=True)
class TypedTime:
    """A date or time as typed, before the site's zone is applied.

    It names a span: a whole local day, or the minute, second or microsecond it spells.
    ``option`` is where it was typed (``--to``), so an error can point there.
    """

    text: str
    day: date
    clock: time | None  # None: a date alone, the whole day
    precision: timedelta
    offset: timedelta | None = None  # from ``Z`` or ``+hh:mm``
    label: str | None = None  # a zone label typed after the time (``CST``)
    option: str = ""

    @property
    def is_date(self) -> bool:
        return self.clock is None

    def start(self, zone: ZoneInfo) -> datetime:
        """The instant it names (the start of the day for a date), in UTC."""
        if self.clock is None:
            return day_start(self.day, zone)
        wall = datetime.combine(self.day, self.clock)
        if self.offset is not None:
            return (wall - self.offset).replace(tzinfo=UTC)
        return self._resolve_local(wall, zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """Where its span ends (exclusive): the next local midnight for a date."""
        if self.clock is None:
            return _next_day_start(self.day, zone)
        return self.start(zone) + self.precision

    def last_instant(self, zone: ZoneInfo) -> datetime:
        """The last instant it covers: a date is a deadline through the end of that day."""
        return self.end(zone) - _TICK if self.clock is None else self.start(zone)

    def _resolve_local(self, wall: datetime, zone: ZoneInfo) -> datetime:
        candidates = []
        for fold in (0, 1):
            local = wall.replace(tzinfo=zone, fold=fold)
            if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
                candidates.append(local)
        if self.label is not None:
            named = [c for c in candidates if c.tzname() == self.label.upper()]
            if not named:
                in_force = "/".join(sorted({c.tzname() or "" for c in candidates})) or "none"
                raise InvalidTime(
                    f"{self._where()}{self.label} is not the label of {zone.key} at "
                    f"{wall:%Y-%m-%d %H:%M} (it is {in_force}); give the time with the "
                    "label in force, with an offset (-06:00) or in UTC (Z)"
                )
            return named[0].astimezone(UTC)
        if not candidates:
            raise InvalidTime(
                f"{self._where()}there is no {wall:%H:%M} on {wall:%Y-%m-%d} in {zone.key} "
                "(the clocks skip that hour when daylight saving time begins); give a time "
                "after the change, or add an offset (-06:00) or Z"
            )
        first, second = candidates[0], candidates[-1]
        if first.utcoffset() != second.utcoffset():
            raise InvalidTime(
                f"{self._where()}{wall:%H:%M} happens twice on {wall:%Y-%m-%d} in "
                f"{zone.key} (the clocks go back that night); add {first.tzname()} for the "
                f"first or "
                f"{second.tzname()} for the second, e.g. '{wall:%Y-%m-%d %H:%M} "
                f"{second.tzname()}'"
            )
        return first.astimezone(UTC)

    def _where(self) -> str:
        return f"{self.option} {self.text}: " if self.option else f"{self.text}: "


def parse(text: str, *, option: str = "") -> TypedTime:
    """Read a typed date or time (syntax only; the zone is applied by ``TypedTime``)."""
    value = " ".join(text.split())
    match = _TYPED.match(value)
    where = f"{option} {text!r}" if option else repr(text)
    if match is None:
        raise InvalidTime(f"{where} is not a date or a time (e.g. {EXAMPLES})")
    try:
        day = date.fromisoformat(match["day"])
        if not 1 < day.year < 9999:
            # a day and a zone away from the calendar's ends (red team, session 17: year 1
            # and 9999 with an offset crashed --as-of with an OverflowError)
            raise ValueError("years 2 to 9998 only")
        if match["hh"] is None:
            return TypedTime(value, day, None, ONE_DAY, option=option)
        frac = match["frac"]
        clock = time(
            int(match["hh"]),
            int(match["mm"]),
            int(match["ss"] or 0),
            int(frac.ljust(6, "0")) if frac else 0,
        )
    except ValueError as e:
        raise InvalidTime(f"{where} is not a valid date or time ({e})") from None
    if frac:
        precision = timedelta(microseconds=10 ** (6 - len(frac)))
    else:
        precision = timedelta(seconds=1) if match["ss"] else timedelta(minutes=1)
    offset, label = _zone_part(match["offset"], match["label"], where)
    return TypedTime(value, day, clock, precision, offset, label, option)


def _zone_part(
    offset: str | None, label: str | None, where: str
) -> tuple[timedelta | None, str | None]:
    if offset is not None:
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise InvalidTime(f"{where} is not a valid date or time ({offset} is not a UTC offset)")
        sign = -1 if offset[0] == "-" else 1
        return sign * timedelta(hours=hours, minutes=minutes), None
    if label is not None and label.upper() in _UTC_LABELS:
        return timedelta(0), None
    return None, label


# ---- local days -------------------------------------------------------------------------


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC.

    ``fold=0`` maps a midnight skipped by a DST change to the change itself, and a
    repeated midnight to its first occurrence: the day's first instant either way.
    """
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of a local day (a deadline "by" that day), in UTC."""
    return _next_day_start(day, zone) - _TICK


def _next_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The start of the day after ``day``; the last day a date can name ends at the end
    of time (a typed ``9999-12-31`` is a date like any other, refused by the rule it
    breaks, never a crash)."""
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return day_start(day + ONE_DAY, zone)


def days(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC covering whole local days ``first`` to ``last`` inclusive."""
    return day_start(first, zone), day_start(last + ONE_DAY, zone)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return _aware(moment).astimezone(zone).date()


# ---- what people read -------------------------------------------------------------------


def show(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = False, sep: str = " ") -> str:
    """``2026-12-08 23:59 CST``: site time with the label in force at that instant.

    ``sep`` goes between the time and its label (a no-break space keeps them together in
    a narrow table cell).
    """
    if moment is None:
        return ""
    local = _aware(moment).astimezone(zone)
    return f"{local:%Y-%m-%d} {_clock(local, seconds)}{sep}{local.tzname()}"


def show_date(moment: datetime | None, zone: ZoneInfo) -> str:
    """The local date an instant falls on (a deadline through that day shows that day)."""
    return "" if moment is None else f"{local_day(moment, zone):%Y-%m-%d}"


def show_time(moment: datetime, zone: ZoneInfo, *, seconds: bool = False, sep: str = " ") -> str:
    local = _aware(moment).astimezone(zone)
    return f"{_clock(local, seconds)}{sep}{local.tzname()}"


def show_span(start: datetime, end: datetime, zone: ZoneInfo, *, sep: str = " ") -> str:
    """A recording's span: ``2026-10-14 10:00–10:45 CDT``.

    Seconds are shown when either end has them, so a five-second clip does not read as
    ``09:00–09:00``; the end's date and label are repeated only when they differ.
    """
    a, b = _aware(start).astimezone(zone), _aware(end).astimezone(zone)
    seconds = bool(a.second or a.microsecond or b.second or b.microsecond)
    if a.date() != b.date():
        first, last = (
            show(a, zone, seconds=seconds, sep=sep),
            show(b, zone, seconds=seconds, sep=sep),
        )
        return f"{first} \u2013 {last}"
    if a.tzname() != b.tzname():
        return (
            f"{a:%Y-%m-%d} {_clock(a, seconds)}{sep}{a.tzname()}\u2013"
            f"{_clock(b, seconds)}{sep}{b.tzname()}"
        )
    return f"{a:%Y-%m-%d} {_clock(a, seconds)}\u2013{_clock(b, seconds)}{sep}{a.tzname()}"


def show_stamp(moment: datetime, zone: ZoneInfo) -> str:
    """A video frame's time, to the millisecond: ``2026-11-01 08:30:00.200 CST``."""
    local = _aware(moment).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d} {local.tzname()}"


def iso_utc(moment: datetime) -> str:
    """For machines (JSON, CSV, file names): ISO-8601 UTC with ``Z``."""
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return _aware(moment).astimezone(UTC).strftime(fmt)


def _clock(local: datetime, seconds: bool) -> str:
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # R24: a naive time would be shown in the wrong zone; UTC inside, always.
        raise ValueError(f"{moment!r} has no time zone; times inside are aware UTC")
    return moment
