"""The FOIA clock (R20; 5 ILCS 140/3(d), (e)): business days and the response deadline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger import sitetime
from ledger.policy_params import PolicyParams


def _add_business_days(start: date, n: int, holidays: frozenset[date]) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            n -= 1
    return d


def foia_deadline(
    received: datetime,
    zone: ZoneInfo,
    extended: bool,
    holidays: frozenset[date] = frozenset(),
    params: PolicyParams | None = None,
) -> datetime:
    """The last instant to respond to a FOIA request (5 ILCS 140/3(d), (e)), in UTC.

    Convention: 3(d) gives "5 business days after [the request's] receipt", so the day of
    receipt is day 0 whatever the hour, and the count starts the next business day; a
    business day is Monday-Friday, not in ``holidays``. A request received on a weekend or
    holiday therefore counts from the next business day too. A 3(e) extension adds 5
    business days to the original due date. ``params`` (the policy version in force, R28)
    may shorten either count; the statute's 5 and 5 are the most a version may state.
    Days are the site's local days (R24): the deadline is the end of the due day in ``zone``, e.g. received Tuesday 2026-12-01 in
    America/Chicago, due the end of Tuesday 2026-12-08 Chicago time.
    """
    if received.tzinfo is None:
        raise ValueError("received must be timezone-aware")
    day_of_receipt = sitetime.local_day(received, zone)
    days = params.response_business_days if params else 5
    extension = params.extension_business_days if params else 5
    due = _add_business_days(day_of_receipt, days + (extension if extended else 0), holidays)
    return sitetime.end_of_day(due, zone)
