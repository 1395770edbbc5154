"""Seals per bucket (R29, ``projections.seal``): a page checks only the buckets its query
reads, and still sees every row changed with plain SQL that could change its answer.

The home page (``desk``: overdue footage by the day its retention ended, late purges by
the day of the purge) and the footage list (``listed_segments``: the first rows by day of
recording) on the scenario of the compliance report, on SQLite and PostgreSQL: a row
deleted, edited in the range, edited out of it or into it, inserted, and a bucket of the
seal edited are each refused (``ReadModelTampered``); a row the page cannot show, changed,
is not (the whole-table check still finds it). Seals without buckets (a ledger sealed
before them) gain them only when the table matches its seal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.footage_commands import CaptureItem
from projections import base
from projections.compliance import desk
from projections.refusals import RefusalsProjection, refusals
from projections.registry import open_views
from projections.retention import RetentionProjection, listed_segments, segments
from projections.seal import (
    ReadModelTampered,
    RowHasher,
    Seal,
    _store_seal,
    add_buckets,
    bucketings,
    check_projections,
    read_seal,
    table_digest,
)
from tests.cli.db_helpers import execute
from tests.conftest import NOW, copy_of_data_dir, database_for, new_data_dir
from tests.identity import fast_kdf_while_building, open_test_ledger
from tests.integration.test_compliance_report import (
    MEDIA,
    REPORT_NOW,
    D,
    S,
    Scenario,
    build_scenario,
    sha,
)

COLUMNS = (
    "segment_id, aggregate_id, sha256, camera_id, recorded_start, recorded_end, captured_at, "
    "size, deadline, keep_until, open_flags, active_holds, purged, purged_at, notification_id, "
    "asof_from, retention_days"
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scenario_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Scenario]]:
    """The compliance report's scenario, its read models caught up and sealed, built once
    per database and module (0.7-1.6 s a build); each test gets a copy (``scenario``)."""
    base = tmp_path_factory.mktemp("bucket-seals")
    with database_for(request.param, base) as url:
        with fast_kdf_while_building():
            data_dir = new_data_dir(base / "data", url)
            ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
            sc = build_scenario(ledger)
            ledger.close()
            _home(data_dir)  # the read models caught up and sealed, and the page as it is
        yield data_dir, sc


@pytest.fixture
def scenario(
    scenario_once: tuple[Path, Scenario], tmp_path: Path
) -> Iterator[tuple[Path, Scenario]]:
    """A copy of the scenario's data directory and database: this test's own ledger."""
    source, sc = scenario_once
    with copy_of_data_dir(source, tmp_path / "data") as data_dir:
        yield data_dir, sc


@pytest.fixture
def opened(scenario: tuple[Path, Scenario]) -> Iterator[Ledger]:
    ledger = open_test_ledger(DataDir.open(scenario[0]), clock=ManualClock(REPORT_NOW))
    yield ledger
    ledger.close()


def _home(data_dir: Path) -> list[str]:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        return [item.text for item in desk(ledger, REPORT_NOW).attention]
    finally:
        ledger.close()


def _footage(data_dir: Path, limit: int | None) -> list[str]:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        return [r.segment_id for r in listed_segments(ledger, REPORT_NOW, limit=limit)]
    finally:
        ledger.close()


def _refused(page: object, *args: object, table: str = "proj_retention_segments") -> str:
    with pytest.raises(ReadModelTampered) as e:
        page(*args)  # type: ignore[operator]
    assert table in str(e.value)
    return str(e.value)


def _whole_check(ledger: Ledger, projection: base.Projection | None = None) -> list[str]:
    """The tables the read-model check (``verify``, reports) finds damaged in one
    projection's read model (retention's unless given)."""
    views = open_views(ledger)
    try:
        return [f.table for f in check_projections(views, [projection or RetentionProjection()])]
    finally:
        views.close()


HOME_FORGERIES = {
    # an overdue segment deleted: it would vanish from the attention list
    "deleted": "DELETE FROM proj_retention_segments WHERE segment_id = '{overdue}'",
    # an overdue segment's camera renamed (the page shows it)
    "edited in the range": "UPDATE proj_retention_segments SET camera_id = 'elsewhere' "
    "WHERE segment_id = '{overdue}'",
    # an overdue segment's retention moved to 2099: it would no longer be overdue
    "edited out of the range": "UPDATE proj_retention_segments "
    "SET keep_until = '2099-01-01 00:00:00.000000' WHERE segment_id = '{overdue}'",
    # footage kept for weeks made to look overdue
    "edited into the range": "UPDATE proj_retention_segments "
    "SET keep_until = '2026-10-01 00:00:00.000000' WHERE segment_id = '{kept}'",
    # an overdue segment made up (a copy of one under another id)
    "inserted": f"INSERT INTO proj_retention_segments ({COLUMNS}) SELECT 'forged-1', "
    "'forged-aggregate', sha256, camera_id, recorded_start, recorded_end, captured_at, size, "
    "deadline, keep_until, open_flags, active_holds, purged, purged_at, notification_id, "
    "asof_from, retention_days FROM proj_retention_segments WHERE segment_id = '{overdue}'",
}
LATE_FORGERIES = {
    # the late purge deleted: "1 segment was purged late" would vanish
    "late purge deleted": "DELETE FROM proj_retention_segments WHERE segment_id = '{late}'",
    # the late purge made to look on time (purged before its deadline)
    "late purge edited on time": "UPDATE proj_retention_segments SET purged_at = keep_until "
    "WHERE segment_id = '{late}'",
    # a purge on time made up, late, in the same hour
    "late purge inserted": f"INSERT INTO proj_retention_segments ({COLUMNS}) SELECT 'forged-2', "
    "'forged-aggregate-2', sha256, camera_id, recorded_start, recorded_end, captured_at, size, "
    "deadline, keep_until, open_flags, active_holds, purged, purged_at, notification_id, "
    "asof_from, retention_days FROM proj_retention_segments WHERE segment_id = '{late}'",
}


def _late_purges(data_dir: Path, minutes: int) -> int:
    """The home page's week of late purges, its start ``minutes`` past the site's midnight
    (0: the page's own week, whole UTC hours)."""
    from datetime import date, timedelta

    from ledger import sitetime
    from projections.registry import read_views
    from projections.retention import late_purges_in

    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        last = sitetime.local_day(REPORT_NOW, ledger.site().zone)
        start, end = sitetime.days(date.fromordinal(last.toordinal() - 6), last, ledger.site().zone)
        start += timedelta(minutes=minutes)
        return read_views(ledger, lambda conn: late_purges_in(conn, start, end), checked=True)
    finally:
        ledger.close()


@pytest.mark.parametrize("forgery", list(LATE_FORGERIES))
def test_the_week_of_late_purges_is_the_seals_count_or_checked_rows(
    scenario: tuple[Path, Scenario], forgery: str
) -> None:
    data_dir, sc = scenario
    assert _late_purges(data_dir, 0) == _late_purges(data_dir, 30) == 1
    execute(data_dir, LATE_FORGERIES[forgery].format(late=sc.purged_late))
    # the page's week is whole UTC hours: its count is the seal's, whatever the rows say
    assert _late_purges(data_dir, 0) == 1
    assert any("1 segment was purged late" in t for t in _home(data_dir))
    # a range not on whole hours reads the late purges' rows, checked
    _refused(_late_purges, data_dir, 30)


@pytest.mark.parametrize("forgery", list(HOME_FORGERIES))
def test_the_home_page_refuses_a_row_changed_in_its_buckets(
    scenario: tuple[Path, Scenario], forgery: str
) -> None:
    data_dir, sc = scenario
    assert any("purged late" in t for t in _home(data_dir))
    assert any(sc.overdue[0] in t for t in _home(data_dir))
    execute(
        data_dir,
        HOME_FORGERIES[forgery].format(overdue=sc.overdue[0], kept=sc.flagged, late=sc.purged_late),
    )
    _refused(_home, data_dir)


def test_a_bucket_of_the_seal_edited_is_refused(scenario: tuple[Path, Scenario]) -> None:
    data_dir, _sc = scenario
    # an empty bucket claimed for a day nobody checks: the seal's HMAC fails
    execute(
        data_dir,
        "UPDATE proj_seals SET tables = REPLACE(tables, '\"keep\":{', "
        '\'"keep":{"1999-01-01":[0,"' + "0" * 64 + "\"],') WHERE projection = 'retention'",
    )
    assert "fails its HMAC" in _refused(_home, data_dir, table="proj_seals")


def test_a_row_the_page_cannot_show_is_left_to_the_pages_that_can(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    data_dir, sc = scenario
    before = _home(data_dir)
    # footage kept (not overdue, not purged): the home page never reads it
    execute(
        data_dir,
        f"UPDATE proj_retention_segments SET camera_id = 'elsewhere' WHERE segment_id = '{sc.held}'",
    )
    assert _home(data_dir) == before
    _refused(_footage, data_dir, None)  # the footage list shows it
    assert _whole_check(opened) == ["proj_retention_segments"]  # verify, reports


def test_the_footage_list_checks_the_days_up_to_its_last_row(
    scenario: tuple[Path, Scenario],
) -> None:
    data_dir, sc = scenario
    first = _footage(data_dir, 2)
    assert first == [sc.purged_late, sc.overdue[0]]  # October's, oldest first
    # a November segment: after the first two rows' day
    execute(
        data_dir,
        f"UPDATE proj_retention_segments SET camera_id = 'elsewhere' WHERE segment_id = '{sc.held}'",
    )
    assert _footage(data_dir, 2) == first
    _refused(_footage, data_dir, None)
    # ... moved before them: it would be listed first
    execute(
        data_dir,
        "UPDATE proj_retention_segments SET recorded_start = '2026-09-30 00:00:00.000000' "
        f"WHERE segment_id = '{sc.flagged}'",
    )
    _refused(_footage, data_dir, 2)


def test_the_footage_list_refuses_a_row_deleted_from_its_first_hours(
    scenario: tuple[Path, Scenario],
) -> None:
    data_dir, sc = scenario
    # the second row shown (15:00): the third (16:00) would take its place
    execute(data_dir, f"DELETE FROM proj_retention_segments WHERE segment_id = '{sc.overdue[0]}'")
    _refused(_footage, data_dir, 2)


def test_the_footage_list_checks_the_hours_up_to_its_last_row_not_the_whole_day(
    scenario: tuple[Path, Scenario],
) -> None:
    """The unfiltered list's buckets are hours of recording (``hourly``): its first two
    rows (1 October, 14:00 and 15:00 UTC) are checked with those hours, so a row recorded
    at 16:00 that day is left to the pages that show it, deleted or edited; moved into the
    checked hours, or its hour's rows shown, it is refused."""
    data_dir, sc = scenario
    first = _footage(data_dir, 2)
    assert first == [sc.purged_late, sc.overdue[0]]
    later = sc.overdue[1]  # 16:00 the same day
    execute(
        data_dir,
        f"UPDATE proj_retention_segments SET camera_id = 'elsewhere' WHERE segment_id = '{later}'",
    )
    assert _footage(data_dir, 2) == first
    _refused(_footage, data_dir, 3)  # its hour shown
    execute(
        data_dir,
        "UPDATE proj_retention_segments SET recorded_start = '2026-10-01 14:30:00.000000' "
        f"WHERE segment_id = '{later}'",
    )
    _refused(_footage, data_dir, 2)  # moved into 14:00-15:00: it would be listed second


def test_the_footage_list_refuses_a_row_deleted_after_its_rows_in_their_last_hour(
    scenario: tuple[Path, Scenario],
) -> None:
    """Rows after the n-th in the n-th row's own hour are in the checked prefix."""
    data_dir, sc = scenario
    execute(
        data_dir,
        "UPDATE proj_retention_segments SET recorded_start = '2026-10-01 15:30:00.000000' "
        f"WHERE segment_id = '{sc.overdue[1]}'",
    )
    _refused(_footage, data_dir, 2)


def _bucketed_tables() -> list:  # type: ignore[type-arg]
    return [t for t in RetentionProjection().metadata.sorted_tables if bucketings(t)]


def _seal(ledger: Ledger) -> Seal:
    views = open_views(ledger)
    try:
        with views.engine.connect() as conn:
            return read_seal(
                conn, views.seal_key(), RetentionProjection(), views.positions()["retention"]
            )
    finally:
        views.close()


def test_buckets_kept_by_each_page_of_events_are_those_a_scan_finds(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    assert _bucketed_tables() == [segments]
    seal = _seal(opened)
    views = open_views(opened)
    try:
        with views.engine.connect() as conn:
            scan = table_digest(conn, RowHasher(views.seal_key(), segments), buckets=True)
        assert seal.buckets[segments.name] == scan.buckets
        assert sum(n for n, _d in seal.buckets[segments.name]["keep"].values()) == scan.rows
        views.rebuild()  # and as a rebuild seals them
    finally:
        views.close()
    assert _seal(opened).buckets == seal.buckets


def _strip_buckets(ledger: Ledger) -> None:
    """The retention seal as a ledger sealed before buckets has it (the same rows and
    digests, no buckets, its HMAC over that)."""
    old = _seal(ledger)
    views = open_views(ledger)
    try:
        with views.engine.begin() as conn:
            _store_seal(conn, views.seal_key(), Seal(old.projection, old.position, old.tables))
    finally:
        views.close()


def test_a_seal_from_before_buckets_gains_them_when_its_rows_match(
    scenario: tuple[Path, Scenario], opened: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, sc = scenario
    want = _seal(opened).buckets
    before = _home(data_dir)
    _strip_buckets(opened)
    assert _seal(opened).buckets == {}
    assert _home(data_dir) == before  # checked whole meanwhile
    monkeypatch.setattr(base, "_BUCKETED", set())  # a new process opens it
    assert _home(data_dir) == before
    assert _seal(opened).buckets == want


def test_a_seal_from_before_buckets_over_changed_rows_keeps_refusing(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    data_dir, sc = scenario
    _strip_buckets(opened)
    execute(
        data_dir,
        f"UPDATE proj_retention_segments SET camera_id = 'elsewhere' WHERE segment_id = '{sc.held}'",
    )
    views = open_views(opened)
    try:
        assert add_buckets(views) == []  # the rows do not match the seal: no buckets
    finally:
        views.close()
    assert _seal(opened).buckets == {}
    _refused(_home, data_dir)  # read whole: the changed row is found


# ---- refused attempts by the day they were recorded -----------------------------------------

REFUSAL_COLUMNS = (
    "notification_id, recorded_at, actor, actor_role, action, subject, rule_id, message, "
    "authenticated, asof_from"
)
# The scenario's refusals: the restroom camera (NOW) and a viewing (NOW + 1 day), both in
# the home page's week at REPORT_NOW.
REFUSAL_FORGERIES = {
    # a refusal deleted: it would vanish from the week's list
    "deleted": "DELETE FROM proj_refusals WHERE action = 'camera add'",
    # who tried it changed (the page shows it)
    "edited in the range": "UPDATE proj_refusals SET actor = 'someone else' "
    "WHERE action = 'camera add'",
    # moved back years: out of the week
    "edited out of the range": "UPDATE proj_refusals "
    "SET recorded_at = '2000-01-01 00:00:00.000000' WHERE action = 'camera add'",
    # a refusal made up (a copy under another position)
    "inserted": f"INSERT INTO proj_refusals ({REFUSAL_COLUMNS}) SELECT notification_id + 100000, "
    "recorded_at, actor, actor_role, action, subject, rule_id, message, authenticated, "
    "asof_from FROM proj_refusals "
    "WHERE action = 'camera add'",
}
LATER = REPORT_NOW + timedelta(days=15)  # a week after which holds none of the refusals


def _refusals(data_dir: Path, now: datetime = REPORT_NOW) -> list[tuple[str, str]]:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(now))
    try:
        return [(r.actor, r.action) for r in desk(ledger, now).refusals]
    finally:
        ledger.close()


@pytest.mark.parametrize("forgery", list(REFUSAL_FORGERIES))
def test_the_weeks_refusals_refuse_a_row_changed_in_their_days(
    scenario: tuple[Path, Scenario], forgery: str
) -> None:
    data_dir, _sc = scenario
    assert len(_refusals(data_dir)) == 2
    execute(data_dir, REFUSAL_FORGERIES[forgery])
    _refused(_refusals, data_dir, table="proj_refusals")


def test_a_refusal_outside_the_week_is_left_to_the_pages_that_show_it(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    data_dir, _sc = scenario
    assert _refusals(data_dir, LATER) == []
    execute(data_dir, REFUSAL_FORGERIES["edited in the range"])
    assert _refusals(data_dir, LATER) == []  # that week's days hold no refusal
    _refused(_refusals, data_dir, table="proj_refusals")  # the week that shows it
    assert _whole_check(opened, RefusalsProjection()) == ["proj_refusals"]  # verify, reports


def test_a_refusal_moved_into_a_later_week_is_refused(scenario: tuple[Path, Scenario]) -> None:
    data_dir, _sc = scenario
    execute(
        data_dir,
        "UPDATE proj_refusals SET recorded_at = '2026-11-18 12:00:00.000000' "
        "WHERE action = 'camera add'",
    )
    _refused(_refusals, data_dir, LATER, table="proj_refusals")


def test_refusal_buckets_kept_by_each_page_of_events_are_those_a_scan_finds(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    views = open_views(opened)
    try:
        with views.engine.connect() as conn:
            key = views.seal_key()
            seal = read_seal(conn, key, RefusalsProjection(), views.positions()["refusals"])
            scan = table_digest(conn, RowHasher(key, refusals), buckets=True)
        assert seal.buckets[refusals.name] == scan.buckets
        assert sorted(scan.buckets["recorded"]) == ["2026-11-02", "2026-11-03"]
    finally:
        views.close()


# ---- one camera's footage by the day it was recorded ------------------------------------------

STAIRS = "Stairs-2"  # a second camera, registered after the scenario's week


@pytest.fixture
def two_cameras(scenario: tuple[Path, Scenario]) -> tuple[Path, Scenario, str]:
    """The scenario with a second camera and one segment of it, kept ("retained")."""
    data_dir, sc = scenario
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        ledger.clock.set(REPORT_NOW - timedelta(hours=2))
        ledger.register_camera(
            STAIRS, location="Back stairs", zone="public", signage_posted=True, actor=D
        )
        ledger.clock.set(REPORT_NOW - timedelta(hours=1))
        item = CaptureItem(
            sha(99), 1099, STAIRS, REPORT_NOW - timedelta(minutes=90), MEDIA, "s.mp4"
        )
        stairs = ledger.record_capture(item, actor=S).segment_id
    finally:
        ledger.close()
    _home(data_dir)  # caught up and sealed
    return data_dir, sc, stairs


def _camera(
    data_dir: Path, camera: str, limit: int | None = 501, status: str = "held"
) -> list[str]:
    """One camera's footage of a kept status (the lobby's two held segments; the stairs'
    one is "retained")."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        rows = listed_segments(ledger, REPORT_NOW, status=status, camera=camera, limit=limit)
        return [r.segment_id for r in rows]
    finally:
        ledger.close()


CAMERA_FORGERIES = {
    # a held lobby segment deleted: it would vanish from the lobby's list
    "deleted": "DELETE FROM proj_retention_segments WHERE segment_id = '{held}'",
    # its size changed (the page shows it)
    "edited in the range": "UPDATE proj_retention_segments SET size = 1 "
    "WHERE segment_id = '{held}'",
    # moved to the other camera: gone from the lobby's list
    "edited out of the camera": "UPDATE proj_retention_segments SET camera_id = 'Stairs-2' "
    "WHERE segment_id = '{held}'",
    # the other camera's segment moved to the lobby: it would be listed there
    "edited into the camera": "UPDATE proj_retention_segments SET camera_id = 'lobby-1' "
    "WHERE segment_id = '{stairs}'",
    # spelt otherwise: the lobby's list (lower-case match) would still find it
    "edited to another spelling": "UPDATE proj_retention_segments SET camera_id = 'LOBBY-1' "
    "WHERE segment_id = '{held}'",
    # a lobby segment made up (a copy under another id)
    "inserted": f"INSERT INTO proj_retention_segments ({COLUMNS}) SELECT 'forged-3', "
    "'forged-aggregate-3', sha256, camera_id, recorded_start, recorded_end, captured_at, size, "
    "deadline, keep_until, open_flags, active_holds, purged, purged_at, notification_id, "
    "asof_from, retention_days FROM proj_retention_segments WHERE segment_id = '{held}'",
}


@pytest.mark.parametrize("forgery", list(CAMERA_FORGERIES))
def test_one_cameras_list_refuses_a_row_changed_in_its_buckets(
    two_cameras: tuple[Path, Scenario, str], forgery: str
) -> None:
    data_dir, sc, stairs = two_cameras
    assert sc.held in _camera(data_dir, "lobby-1") and len(_camera(data_dir, "lobby-1")) == 2
    assert _camera(data_dir, STAIRS, status="retained") == [stairs]
    execute(data_dir, CAMERA_FORGERIES[forgery].format(held=sc.held, stairs=stairs))
    _refused(_camera, data_dir, "lobby-1")
    _refused(_camera, data_dir, "lobby-1", None)  # the whole list, unlimited


def test_another_cameras_row_is_left_to_the_pages_that_show_it(
    two_cameras: tuple[Path, Scenario, str], opened: Ledger
) -> None:
    data_dir, _sc, stairs = two_cameras
    held = _camera(data_dir, "lobby-1")
    execute(data_dir, f"UPDATE proj_retention_segments SET size = 1 WHERE segment_id = '{stairs}'")
    assert _camera(data_dir, "LOBBY-1") == held  # as typed: the registered camera's
    _refused(_camera, data_dir, STAIRS, 501, "retained")  # the camera that shows it
    _refused(_footage, data_dir, None)  # every camera's list
    assert _whole_check(opened) == ["proj_retention_segments"]


def _drop_bucketing(ledger: Ledger, name: str) -> None:
    """The retention seal as a ledger sealed before bucketing ``name`` was declared has it."""
    old = _seal(ledger)
    buckets = {t: {b: d for b, d in have.items() if b != name} for t, have in old.buckets.items()}
    views = open_views(ledger)
    try:
        with views.engine.begin() as conn:
            _store_seal(
                conn, views.seal_key(), Seal(old.projection, old.position, old.tables, buckets)
            )
    finally:
        views.close()


def test_a_bucketing_declared_after_the_seal_is_added_whole_never_from_deltas(
    two_cameras: tuple[Path, Scenario, str], opened: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, _sc, _stairs = two_cameras
    want = _seal(opened).buckets[segments.name]["camera_kept_recorded"]
    _drop_bucketing(opened, "camera_kept_recorded")
    # this process has seen the seal's buckets (no add_buckets): a new segment's deltas
    # must not start the missing bucketing from the new row alone
    opened.clock.set(REPORT_NOW)
    item = CaptureItem(sha(98), 1098, "lobby-1", REPORT_NOW - timedelta(minutes=30), MEDIA, "l.mp4")
    new = opened.record_capture(item, actor=S).segment_id
    assert new in _camera(data_dir, "lobby-1", status="retained")  # read whole, it matches
    assert "camera_kept_recorded" not in _seal(opened).buckets[segments.name]
    monkeypatch.setattr(base, "_BUCKETED", set())  # a new process opens it
    assert new in _camera(data_dir, "lobby-1", status="retained")
    got = _seal(opened).buckets[segments.name]["camera_kept_recorded"]
    assert set(got) - set(want) == {f"lobby-1|{REPORT_NOW.date()}"}


# ---- the home page's overdue footage: the first shown, the others counted ----------------


def _home_shown(data_dir: Path, shown: int = 1) -> tuple[list[str], int]:
    """The overdue segments the home page lists when it shows ``shown``, and the count of
    the others."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        d = desk(ledger, REPORT_NOW, shown=shown)
        overdue = [i.subject_id for i in d.attention if "days overdue" in i.text]
        return overdue, d.overdue_unlisted
    finally:
        ledger.close()


@pytest.mark.parametrize("forgery", list(HOME_FORGERIES))
def test_the_overdue_segments_counted_not_listed_are_checked_too(
    scenario: tuple[Path, Scenario], forgery: str
) -> None:
    data_dir, sc = scenario
    assert _home_shown(data_dir) == ([sc.overdue[0]], 1)  # the oldest recording listed
    assert _home_shown(data_dir, 5) == (list(sc.overdue), 0)
    # the one only counted changed
    execute(
        data_dir,
        HOME_FORGERIES[forgery].format(overdue=sc.overdue[1], kept=sc.flagged, late=sc.purged_late),
    )
    _refused(_home_shown, data_dir)
