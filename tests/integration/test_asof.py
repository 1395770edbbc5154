"""``--as-of T`` from the kept read models' row versions and the time index (issue 18)
gives exactly what replaying the log up to T gives: every read-model table, and what
``footage list``, ``history``, ``report compliance --format json`` and ``report
disclosures --json`` show, at random times, before the first event, in the future, on
an event's own recorded time and on an hour's edge, through a DST change in the site's
time zone (America/Chicago), and when recorded times step back across T. The version
tables are sealed: forging one is caught. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, create_engine, select, text

from cli.common import to_jsonable
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotFound
from projections.asof import TimeIndexProjection, resolve, views_as_of
from projections.base import Projection, Views
from projections.compliance import build_compliance_report, report_projections
from projections.compliance_model import Integrity
from projections.disclosures import disclosures
from projections.history import read_history, subject_history
from projections.registry import all_projections, open_views, read_views
from projections.render_data import to_json
from projections.retention import segment_rows
from projections.seal import ReadModelTampered
from projections.versions import version_of
from tests.cli.db_helpers import execute
from tests.conftest import copy_of_data_dir, database_for, new_data_dir
from tests.identity import DIRECTOR, fast_kdf_while_building, open_test_ledger
from tests.integration.test_rebuild import _build

T = TypeVar("T")
CHICAGO = ZoneInfo("America/Chicago")
# The simulated days run 2026-10-29 to 2026-11-05: Chicago leaves CDT on 1 November.
START = datetime(2026, 10, 28, 15, 0, tzinfo=UTC)
DST_DAY = date(2026, 11, 1)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, datetime]]:
    """The week's ledger and its kept read models, built once per database (2.5-13 s,
    as test_rebuild.py builds its ledger); each test gets a copy (``led``: 0.6-0.8 s),
    so a test that changes its ledger or its tables changes no other test's."""
    base = tmp_path_factory.mktemp("asof")
    with database_for(request.param, base) as url:
        with fast_kdf_while_building():
            data = new_data_dir(base / "data", url)
            ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(START))
            views = Views(ledger, all_projections())
            _build(ledger, views, START)
            # Decisions, a day apart, so a request shows pending before and decided after.
            refs = [r.ref for r in read_views(ledger, lambda c: disclosures(c))]
            for i, ref in enumerate(refs[:3]):
                ledger.clock.advance(hours=20 + i)
                ledger.decide(ref, approve=i % 2 == 0, reason=f"decision {i}", actor=DIRECTOR)
            views.catch_up()
            views.close()
            end = ledger.clock()
            ledger.close()
        yield data, end


@pytest.fixture
def led(built_once: tuple[Path, datetime], tmp_path: Path) -> Iterator[Ledger]:
    source, end = built_once
    with copy_of_data_dir(source, tmp_path / "data") as data:
        ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(end))
        yield ledger
        ledger.close()


def _replayed(led: Ledger, projections: list[Projection], at: datetime) -> Views:
    views = Views(led, projections, as_of=at)  # today's way: replay the log into memory
    views.catch_up()
    return views


def _both(led: Ledger, at: datetime, query: Callable[[Connection], T]) -> tuple[T, T]:
    """``query`` on the as-of views (versions) and on the replay, at ``at``."""
    kept = views_as_of(led, all_projections(), at)
    replay = _replayed(led, all_projections(), at)
    try:
        assert kept.position_read is not None, "resolved to a position, not replayed"
        with kept.connect() as a, replay.connect() as b:
            return query(a), query(b)
    finally:
        kept.close()
        replay.close()


def _tables(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for p in all_projections():
        if not p.versioned:
            continue
        for table in p.metadata.sorted_tables:
            if version_of(table) is None:
                continue
            out[table.name] = sorted(map(tuple, conn.execute(select(table))), key=repr)
    return out


def _times(led: Ledger) -> list[datetime]:
    """Recorded times of every event, in log order."""
    return [
        led.mapper.to_domain_event(n).timestamp for n in led.recorder.select_notifications(1, 10**6)
    ]  # type: ignore[attr-defined]


def _moments(led: Ledger) -> list[datetime]:
    times = _times(led)
    rng = random.Random(18)  # noqa: S311 - test dates
    first, last = times[0], times[-1]
    # random times among the events (the ledger was set up weeks before its first day)
    picks = [rng.choice(times) + timedelta(seconds=rng.uniform(-7200, 7200)) for _ in range(5)]
    exact = times[len(times) // 2]  # an event's own recorded time: it is in
    edge = exact.replace(minute=0, second=0, microsecond=0)  # an hour of the index begins
    return [*picks, exact, edge, first - timedelta(days=1), last + timedelta(days=3)]


def test_every_read_model_as_of_equals_a_replay(led: Ledger) -> None:
    nonempty = 0
    for at in _moments(led):
        kept, replay = _both(led, at, _tables)
        assert kept == replay, at
        nonempty += sum(map(len, kept.values())) > 0
    assert nonempty >= 6  # the dates before the first event give empty tables


def test_before_the_first_event_and_in_the_future(led: Ledger) -> None:
    times = _times(led)
    views = Views(led, [TimeIndexProjection()])
    views.catch_up()
    try:
        assert resolve(led, views, times[0] - timedelta(seconds=1)) == 0
        top = led.recorder.max_notification_id()
        assert resolve(led, views, times[-1] + timedelta(days=1)) == top
        # exactly on an event's recorded time: it is included, the next one is not
        i = next(k for k in range(1, len(times) - 1) if times[k] < times[k + 1])
        assert resolve(led, views, times[i]) == i + 1  # notification ids from 1
    finally:
        views.close()
    rows, replayed = _both(
        led, times[0] - timedelta(seconds=1), lambda c: segment_rows(c, times[0])
    )
    assert rows == replayed == []


def test_the_four_commands_as_of_equal_a_replay(led: Ledger) -> None:
    at_values = _moments(led)[:5] + [
        # the end of the DST change day, site time (what `--as-of 2026-11-01` means)
        datetime(2026, 11, 2, tzinfo=CHICAGO).astimezone(UTC) - timedelta(microseconds=1),
        datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO, fold=1).astimezone(UTC),  # 01:30 CST
    ]
    integrity = Integrity(True, 1, "00", 1, "00", "note", "fp")
    histories = 0
    for at in at_values:
        # One as-of view and one replay (as ``_both`` makes them) for the three read-only
        # queries: not a replay of the log for each.
        kept_views = views_as_of(led, all_projections(), at)
        replay_views = _replayed(led, all_projections(), at)
        try:
            assert kept_views.position_read is not None, "resolved to a position, not replayed"
            with kept_views.connect() as a, replay_views.connect() as b:
                # footage list
                assert segment_rows(a, at) == segment_rows(b, at)
                # report disclosures --json
                kept_d, replay_d = (
                    json.dumps(to_jsonable(disclosures(c, None, None)), sort_keys=True)
                    for c in (a, b)
                )
                assert kept_d == replay_d
                # history: the events about a subject recorded by then (checked below)
                want = [e for e in subject_history(led, b, "camera:lobby-1") if e.recorded_at <= at]
        finally:
            kept_views.close()
            replay_views.close()
        # report compliance --format json, over the DST week
        docs = []
        for views in (
            views_as_of(led, report_projections(), at),
            _replayed(led, report_projections(), at),
        ):
            try:
                report = build_compliance_report(
                    led,
                    views,
                    period_from=date(2026, 10, 29),
                    period_to=DST_DAY + timedelta(days=3),
                    now=at,
                    generated_by=DIRECTOR,
                    integrity=integrity,
                    as_of=at,
                )
            finally:
                views.close()
            docs.append(to_json(report))
        assert docs[0] == docs[1]
        assert json.loads(docs[0])["header"]["as_of"] is not None
        if not want:
            with pytest.raises(NotFound):
                read_history(led, "lobby-1", actor=DIRECTOR, as_of=at)
            continue
        _key, got = read_history(led, "lobby-1", actor=DIRECTOR, as_of=at)
        assert [e.notification_id for e in got] == [e.notification_id for e in want]
        histories += 1
    assert histories >= 3


def test_recorded_times_stepping_back_across_t_still_equal_a_replay(led: Ledger) -> None:
    """The clock rule lets an act's time fall up to 2 minutes behind the one before: at a T
    between the two, the events recorded by T are not a prefix of the log; the as-of
    views are then replayed, and still give the replay's answer."""
    base = led.clock.advance(hours=30)
    refs = [r.ref for r in read_views(led, lambda c: disclosures(c))]
    led.decide(refs[3], approve=True, reason="later", actor=DIRECTOR)
    led.clock.set(base - timedelta(seconds=60))  # back one minute (allowed)
    led.decide(refs[4], approve=False, reason="earlier", actor=DIRECTOR)
    at = base - timedelta(seconds=30)
    views = Views(led, [TimeIndexProjection()])
    views.catch_up()
    try:
        assert resolve(led, views, at) is None
    finally:
        views.close()
    kept = views_as_of(led, all_projections(), at)
    replay = _replayed(led, all_projections(), at)
    try:
        assert kept.position_read is None  # replayed
        with kept.connect() as a, replay.connect() as b:
            assert _tables(a) == _tables(b)
    finally:
        kept.close()
        replay.close()


def test_a_forged_version_row_is_caught(led: Ledger) -> None:
    """The version tables are read models like the others: sealed, checked on a checked
    as-of read (R29)."""
    at = _moments(led)[5]
    assert led.datadir is not None
    changed = execute(
        led.datadir.path,
        "UPDATE proj_retention_segments_asof SET purged = TRUE "
        "WHERE segment_id = (SELECT min(segment_id) FROM proj_retention_segments_asof)",
    )
    assert changed >= 1
    with pytest.raises(ReadModelTampered) as raised:
        read_views(led, lambda c: segment_rows(c, at), as_of=at, checked=True)
    assert "proj_retention_segments_asof" in str(raised.value)
    # and the current state's check does not read the versions: still fine
    views = open_views(led)
    views.close()


def test_a_forged_asof_from_is_caught(led: Ledger) -> None:
    """A row's ``asof_from`` decides which past states show it: moved later, the row
    vanishes from every as-of read before then. It is sealed with the row and checked on
    a checked as-of read (R29), which reads the table whole, not its buckets."""
    at = _moments(led)[5]
    assert led.datadir is not None
    changed = execute(
        led.datadir.path,
        "UPDATE proj_retention_segments SET asof_from = asof_from + 1000000 "
        "WHERE segment_id = (SELECT min(segment_id) FROM proj_retention_segments)",
    )
    assert changed == 1
    with pytest.raises(ReadModelTampered) as raised:
        read_views(led, lambda c: segment_rows(c, at), as_of=at, checked=True)
    assert "proj_retention_segments" in str(raised.value)


def test_read_models_from_before_versions_replay_until_rebuilt(led: Ledger) -> None:
    """A ledger whose read models were kept before versions existed: their version tables
    are created empty, so they hold no past. ``--as-of`` replays the log (still exact)
    until ``projections rebuild`` fills them."""
    url = led.datadir.database_url  # type: ignore[union-attr]
    engine = create_engine(url)
    with engine.begin() as conn:
        for p in all_projections():
            for table in p.metadata.sorted_tables:
                if version_of(table) is not None:
                    conn.execute(text(f"DROP TABLE {version_of(table).name}"))  # type: ignore[union-attr]
    engine.dispose()
    at = _moments(led)[0]
    kept = views_as_of(led, all_projections(), at)
    try:
        assert kept.position_read is None  # replayed: the versions cannot answer
    finally:
        kept.close()
    views = Views(led, all_projections())
    views.rebuild(workers=0)
    views.close()
    kept, replay = _both(led, at, _tables)  # resolved to a position again, and equal
    assert kept == replay
