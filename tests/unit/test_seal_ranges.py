"""A seal bucketing's keys and the ranges over them (R29, ``projections.seal``): the bucket
keys a range covers are exactly those of the rows its SQL predicate selects, for
legitimately written values; a bound that would cut a bucket in two is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from projections.seal import Bucketing, DayRange, hour_after

HOURLY = Bucketing("h", "recorded_start", hourly=True)
DAILY = Bucketing("d", "recorded_start")


def test_an_hourly_bucketing_keys_a_row_by_its_utc_hour_as_stored_on_either_database() -> None:
    assert HOURLY.key("2026-10-01 15:30:00.000000", None) == "2026-10-01T15"  # SQLite's text
    assert HOURLY.key(datetime(2026, 10, 1, 15, 30), None) == "2026-10-01T15"  # PostgreSQL's
    assert HOURLY.key(None, None) == "-"
    assert DAILY.key("2026-10-01 15:30:00.000000", None) == "2026-10-01"


def test_a_range_of_days_covers_every_hour_of_those_days_and_no_other() -> None:
    days = DayRange(HOURLY, date(2026, 10, 1), date(2026, 10, 2))
    assert days.covers("2026-10-01T00") and days.covers("2026-10-01T23")
    assert not days.covers("2026-09-30T23") and not days.covers("2026-10-02T00")
    assert not days.covers("-") and not days.covers("?")


def test_a_range_ending_on_an_hour_covers_the_hours_before_it() -> None:
    upto = DayRange(HOURLY, date(2026, 10, 1), datetime(2026, 10, 1, 16, tzinfo=UTC))
    assert upto.covers("2026-10-01T00") and upto.covers("2026-10-01T15")
    assert not upto.covers("2026-10-01T16") and not upto.covers("2026-09-30T23")
    assert hour_after(datetime(2026, 10, 1, 15, 0, 1, tzinfo=UTC)) == datetime(
        2026, 10, 1, 16, tzinfo=UTC
    )
    assert hour_after(datetime(2026, 10, 1, 15, tzinfo=UTC)) == datetime(
        2026, 10, 1, 16, tzinfo=UTC
    )


def test_a_bound_inside_a_bucket_is_refused() -> None:
    at = datetime(2026, 10, 1, 16, tzinfo=UTC)
    with pytest.raises(ValueError):
        DayRange(DAILY, None, at)  # a day's bucket would be cut at 16:00
    with pytest.raises(ValueError):
        DayRange(HOURLY, None, at.replace(minute=30))
    with pytest.raises(ValueError):
        DayRange(HOURLY, at.replace(tzinfo=None))
    with pytest.raises(ValueError):
        Bucketing("x", "c", kept_by="purged_at", hourly=True)


PREFIX = Bucketing("p", "subject", prefix=2)


def test_a_prefix_bucketing_keys_a_subject_by_its_kind_and_first_characters() -> None:
    assert PREFIX.key("segment:3fa0c1d2e4b5", None) == "segment:3f"
    assert PREFIX.key("camera:lobby-1", None) == "camera:lo"
    assert PREFIX.key("camera:x", None) == "camera:x"  # shorter than a whole prefix: itself
    assert PREFIX.key("camera:é1:b", None) == "camera:é1"  # characters, not bytes
    # not a subject as a projection writes one: in no range
    assert PREFIX.key("no colon", None) == PREFIX.key(7, None) == PREFIX.key(None, None) == "?"


def test_a_prefix_range_covers_its_one_bucket() -> None:
    one = DayRange(PREFIX, prefix="segment:3f")
    assert one.covers("segment:3f")
    assert not any(one.covers(k) for k in ("segment:3", "segment:3fa", "segment:40", "?", "-"))


def test_a_prefix_range_is_one_buckets_key_and_nothing_else() -> None:
    for bad in ("segment:3fa", "segment", "?", ""):  # not a bucket's key
        with pytest.raises(ValueError):
            DayRange(PREFIX, prefix=bad)
    with pytest.raises(ValueError):
        DayRange(PREFIX)  # every bucket: not a range this bucketing has
    with pytest.raises(ValueError):
        DayRange(PREFIX, date(2026, 10, 1), prefix="segment:3f")
    with pytest.raises(ValueError):
        DayRange(DAILY, prefix="segment:3f")  # a bucketing by day has no prefixes
    with pytest.raises(ValueError):
        Bucketing("x", "subject", prefix=0)
    with pytest.raises(ValueError):
        Bucketing("x", "subject", group="camera_id", prefix=2)
