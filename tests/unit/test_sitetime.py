"""Site time (R24): typed times are site time, dates are whole local days, every time shown
carries its zone label, across both DST changes of 2026 in America/Chicago (8 March:
02:00 CST -> 03:00 CDT; 1 November: 02:00 CDT -> 01:00 CST). Fixed dates, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger import sitetime
from ledger.errors import InvalidTime

CHICAGO = ZoneInfo("America/Chicago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("2026-12-01", utc(2026, 12, 1, 6), utc(2026, 12, 2, 6)),
        ("2026-03-08", utc(2026, 3, 8, 6), utc(2026, 3, 9, 5)),
        ("2026-11-01", utc(2026, 11, 1, 5), utc(2026, 11, 2, 6)),
        ("2026-12-01T09:30", utc(2026, 12, 1, 15, 30), utc(2026, 12, 1, 15, 31)),
        ("2026-12-01 09:30", utc(2026, 12, 1, 15, 30), utc(2026, 12, 1, 15, 31)),
        ("2026-12-01T09:30:15", utc(2026, 12, 1, 15, 30, 15), utc(2026, 12, 1, 15, 30, 16)),
        ("2026-07-01T09:30", utc(2026, 7, 1, 14, 30), utc(2026, 7, 1, 14, 31)),
        ("2026-03-08T03:30", utc(2026, 3, 8, 8, 30), utc(2026, 3, 8, 8, 31)),
        ("2026-12-01T09:30Z", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 31)),
        ("2026-12-01T09:30:00+01:00", utc(2026, 12, 1, 8, 30), utc(2026, 12, 1, 8, 30, 1)),
        ("2026-12-01 09:30 UTC", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 31)),
        ("2026-12-01 09:30 cst", utc(2026, 12, 1, 15, 30), utc(2026, 12, 1, 15, 31)),
        ("2026-11-01 01:30 CDT", utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 31)),
        ("2026-11-01 01:30 CST", utc(2026, 11, 1, 7, 30), utc(2026, 11, 1, 7, 31)),
        (
            "2026-12-01T09:30:00.5",
            utc(2026, 12, 1, 15, 30, 0, 500000),
            utc(2026, 12, 1, 15, 30, 0, 600000),
        ),
    ],
    ids=[
        "a date is the whole local day",
        "the day clocks go forward is 23 hours long",
        "the day clocks go back is 25 hours long",
        "a time without a zone is site time (CST)",
        "a space may stand for the T",
        "a time with seconds names that second",
        "a summer time without a zone is site time (CDT)",
        "the hour after clocks go forward",
        "Z is UTC",
        "an offset is taken as given",
        "the UTC label is UTC",
        "the site's own label, any case",
        "the first 01:30 of the night clocks go back, by its label",
        "the second 01:30 of that night, by its label",
        "fractions of a second",
    ],
)
def test_a_typed_time_names_a_span_in_site_time(typed: str, start: datetime, end: datetime) -> None:
    parsed = sitetime.parse(typed)
    assert (parsed.start(CHICAGO), parsed.end(CHICAGO)) == (start, end)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "2026-03-08T02:30",
            "--to 2026-03-08T02:30: there is no 02:30 on 2026-03-08 in America/Chicago (the "
            "clocks skip that hour when daylight saving time begins); give a time after the "
            "change, or add an offset (-06:00) or Z",
        ),
        (
            "2026-11-01T01:30",
            "--to 2026-11-01T01:30: 01:30 happens twice on 2026-11-01 in America/Chicago (the "
            "clocks go back that night); add CDT for the first or CST for the second, e.g. "
            "'2026-11-01 01:30 CST'",
        ),
        (
            "2026-07-01 10:00 CST",
            "--to 2026-07-01 10:00 CST: CST is not the label of America/Chicago at 2026-07-01 "
            "10:00 (it is CDT); give the time with the label in force, with an offset "
            "(-06:00) or in UTC (Z)",
        ),
    ],
    ids=["the skipped hour", "the repeated hour", "a label not in force"],
)
def test_a_local_time_that_is_not_exactly_one_instant_is_refused_with_the_fix(
    typed: str, message: str
) -> None:
    parsed = sitetime.parse(typed, option="--to")
    with pytest.raises(InvalidTime) as e:
        parsed.start(CHICAGO)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "typed",
    ["2026-02-30", "12/01/2026", "2026-12-01T25:00", "2026-12-01T09:30+25:00", "tomorrow", "",
     # red team, session 17: an OverflowError (exit 1) from --as-of
     "0001-01-01T00:00+01:00", "9999-12-31T23:59-05:00", "0001-01-01", "9999-12-31"],
)  # fmt: skip
def test_what_is_not_a_date_or_time_is_refused_naming_the_option(typed: str) -> None:
    with pytest.raises(InvalidTime, match=r"^--from .* is not a (valid )?date or"):
        sitetime.parse(typed, option="--from")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("2027-03-01", "2027-03-01"),
        ("2026-03-08", "2026-03-08"),
        ("2026-11-01", "2026-11-01"),
    ],
)
def test_a_date_given_as_a_deadline_is_shown_as_that_same_date(typed: str, shown: str) -> None:
    deadline = sitetime.parse(typed).last_instant(CHICAGO)
    assert sitetime.show_date(deadline, CHICAGO) == shown
    assert sitetime.show(deadline, CHICAGO).endswith(
        "23:59 " + deadline.astimezone(CHICAGO).tzname()
    )  # type: ignore[operator]


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (utc(2026, 12, 9, 5, 59, 59, 999999), "2026-12-08 23:59 CST"),
        (utc(2026, 7, 1, 14, 30), "2026-07-01 09:30 CDT"),
        (utc(2026, 3, 8, 7, 59), "2026-03-08 01:59 CST"),
        (utc(2026, 3, 8, 8, 0), "2026-03-08 03:00 CDT"),
        (utc(2026, 11, 1, 6, 30), "2026-11-01 01:30 CDT"),
        (utc(2026, 11, 1, 7, 30), "2026-11-01 01:30 CST"),
    ],
    ids=[
        "a FOIA deadline at the end of a Chicago day",
        "summer time",
        "the last minute before clocks go forward",
        "the first minute after",
        "the first 01:30 when clocks go back",
        "the second 01:30",
    ],
)
def test_every_time_shown_carries_the_label_in_force(moment: datetime, shown: str) -> None:
    assert sitetime.show(moment, CHICAGO) == shown


def test_what_is_shown_reads_back_as_the_same_instant_across_the_night_clocks_go_back() -> None:
    moment = utc(2026, 11, 1, 4)
    while moment < utc(2026, 11, 1, 9):
        shown = sitetime.show(moment, CHICAGO)
        assert sitetime.parse(shown).start(CHICAGO) == moment, shown
        moment += timedelta(minutes=15)


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (utc(2026, 12, 1, 15), utc(2026, 12, 1, 15, 0, 5), "2026-12-01 09:00:00\u201309:00:05 CST"),
        (utc(2026, 12, 1, 15), utc(2026, 12, 1, 16), "2026-12-01 09:00\u201310:00 CST"),
        (
            utc(2026, 11, 1, 6, 50),
            utc(2026, 11, 1, 7, 10),
            "2026-11-01 01:50 CDT\u201301:10 CST",
        ),
        (
            utc(2026, 12, 2, 5, 30),
            utc(2026, 12, 2, 6, 30),
            "2026-12-01 23:30 CST \u2013 2026-12-02 00:30 CST",
        ),
    ],
    ids=[
        "a five-second clip shows its seconds",
        "a whole-minute recording shows minutes",
        "a recording across the change shows both labels",
        "a recording across midnight shows both dates",
    ],
)
def test_a_recording_span_reads_unambiguously(start: datetime, end: datetime, shown: str) -> None:
    assert sitetime.show_span(start, end, CHICAGO) == shown


@pytest.mark.parametrize(
    ("first", "last", "hours"),
    [
        (date(2026, 3, 8), date(2026, 3, 8), 23),
        (date(2026, 11, 1), date(2026, 11, 1), 25),
        (date(2026, 10, 1), date(2026, 10, 31), 31 * 24),
        (date(2026, 11, 1), date(2026, 11, 30), 30 * 24 + 1),
    ],
)
def test_inclusive_local_days_cover_dst_days_whole(first: date, last: date, hours: int) -> None:
    start, end = sitetime.days(first, last, CHICAGO)
    assert (end - start) == timedelta(hours=hours)
    assert sitetime.local_day(start, CHICAGO) == first
    assert sitetime.local_day(end - timedelta(microseconds=1), CHICAGO) == last


def test_machines_read_iso_utc_with_z() -> None:
    assert sitetime.iso_utc(utc(2026, 12, 9, 5, 59, 59)) == "2026-12-09T05:59:59Z"
    later = datetime(2026, 12, 8, 23, 59, 59, 999999, tzinfo=CHICAGO)
    assert sitetime.iso_utc(later) == "2026-12-09T05:59:59.999999Z"


def test_a_naive_time_is_never_shown() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        sitetime.show(datetime(2026, 12, 1, 9), CHICAGO)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidTime, match="unknown time zone 'Mars/Olympus'"):
        sitetime.site_zone("Mars/Olympus")
