"""`projections rebuild`'s fast path (issue 18, item 2): raw pages, decoding in worker
processes, batched writes. A ledger built through the application, its read models kept
incrementally as commands ran; every proj_* table dumped; rebuilt; dumped again: equal
row for row. Killed with SIGKILL part-way, the rebuild resumes and still equals.
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic, register_topic
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    make_url,
    select,
)
from sqlalchemy.sql.util import find_tables

from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import LedgerError
from ledger.footage import MediaFacts, Segment
from ledger.footage_commands import CaptureItem
from ledger.retention_commands import PurgeRecord
from projections import scratch
from projections.base import (
    REBUILDING,
    PageWriter,
    Projection,
    RawBatch,
    ReadModelsRebuilding,
    RebuildRunning,
    UtcDateTime,
    Views,
    _only_kinds,
    insert_row,
    most_rows_first,
    rebuild_batch,
    rebuild_groups,
    rebuild_lock,
    tracking,
)
from projections.registry import all_projections
from projections.retention import flags, holds, segments
from projections.seal import UNKNOWN, BoundForms, Sealer, check_projections, read_back, seals
from tests.conftest import NOW, SETUP, copy_of_data_dir, database_for, new_data_dir
from tests.identity import DIRECTOR, enrol, fast_kdf_while_building, open_test_ledger

pytestmark = pytest.mark.heavy(seconds=4)  # started first (tests/conftest.py)

STAFF = "Sam Staff"
CAMERAS = ("lobby-1", "stacks-1", "desk-1")
MEDIA = MediaFacts("mp4", "mp4v", 50, 5.0, 600.0, 160, 120)
DAYS = 8


def _build(led: Ledger, views: Views, start: datetime = SETUP) -> None:
    """About 450 events of every kind the read models keep, over DAYS days after
    ``start``; the read models caught up now and then, as commands do (several
    incremental pages)."""
    enrol(led, STAFF, "staff")
    enrol(led, "Bo Manager", "business_manager")
    for cam in CAMERAS:
        led.register_camera(cam, location=cam, zone="public", signage_posted=True, actor=DIRECTOR)
    # Short retention so the sweep purges within the simulated days.
    segments: list[str] = []
    n = 0
    for d in range(DAYS):
        day = start + timedelta(days=d + 1)
        led.clock.set(day + timedelta(hours=20))
        items = []
        for cam in CAMERAS:
            for k in range(16):
                n += 1
                items.append(
                    CaptureItem(
                        hashlib.sha256(f"segment {n}".encode()).hexdigest(), 1000 + n, cam,
                        day + timedelta(minutes=10 * k), MEDIA, f"{cam}_{n}.mp4",
                    )
                )  # fmt: skip
        infos = led.record_captures(items, actor=STAFF)
        segments += [i.segment_id for i in infos]
        today = [i.segment_id for i in infos]
        flag = led.flag(today[0], incident="IR-7 fall", reason="fall at the desk", actor=STAFF,
                        retain_until=day + timedelta(days=60))  # fmt: skip
        if d % 2:
            led.clear_flag(today[0], flag, reason="no claim", actor=DIRECTOR)
        permit = led.check_viewing(today[1], reason="incident", purpose="safety", actor=DIRECTOR)
        led.record_viewing(permit, kind="view", remote=d % 3 == 0)
        try:  # staff may not view archived footage: a refusal, recorded
            led.check_viewing(segments[0], reason="curious", purpose="safety", actor=STAFF)
        except LedgerError:
            pass
        if d == 2:
            hold = led.place_hold(today[2:5], kind="legal", reason="claim letter",
                                  reference="CLAIM-1", actor=DIRECTOR)  # fmt: skip
        if d == 5:
            led.release_hold(hold, reason="claim settled", actor=DIRECTOR)
        if d == 4:  # one segment's flags and holds changed again and again in one page
            _change_flags_and_holds_again_and_again(led, today[8], today[9], day)
        if d >= 3:  # the sweep: the oldest unflagged, unheld segments of three days ago
            old = segments[(d - 3) * 48 + 5 : (d - 3) * 48 + 40]
            led.record_purges(
                [PurgeRecord(s, "file removed, key destroyed", True, True, False) for s in old],
                sweep_run=f"sweep-{d}", actor=led.act_as_service(),
            )  # fmt: skip
        led.open_request(
            requester_kind="public", requester="A reporter", received_by=STAFF,
            records=["footage"], description="lobby footage", actor=STAFF, footage=[today[6]],
        )  # fmt: skip
        if d % 3 == 0:
            views.catch_up()
    views.catch_up()


def _change_flags_and_holds_again_and_again(
    led: Ledger, seg: str, other: str, day: datetime
) -> None:
    """Segment ``seg`` flagged until a date (then extended) and open-ended (then cleared),
    held with ``other`` and released (``_build``'s day 4)."""
    first = led.flag(seg, incident="IR-9 slip", reason="slip by the door", actor=STAFF,
                     retain_until=day + timedelta(days=40))  # fmt: skip
    second = led.flag(seg, incident="IR-10 claim", reason="claim expected", actor=STAFF)
    led.extend_flag(seg, first, until=day + timedelta(days=90), reason="claim filed",
                    actor=DIRECTOR)  # fmt: skip
    led.clear_flag(seg, second, reason="claim withdrawn", actor=DIRECTOR)
    held = led.place_hold([seg, other], kind="legal", reason="subpoena",
                          reference="SUB-2", actor=DIRECTOR)  # fmt: skip
    led.release_hold(held, reason="subpoena quashed", actor=DIRECTOR)


def _build_one_day_of_flags_and_holds(led: Ledger, views: Views) -> None:
    """``_build``'s day 4 on one camera, about 40 events: the segment whose flags and
    holds change again and again (``_change_flags_and_holds_again_and_again``), among
    other segments flagged, cleared, held, released, viewed and purged in the same page,
    the read models caught up before and after."""
    enrol(led, STAFF, "staff")
    cam = CAMERAS[0]
    led.register_camera(cam, location=cam, zone="public", signage_posted=True, actor=DIRECTOR)
    day = SETUP + timedelta(days=5)
    led.clock.set(day + timedelta(hours=20))
    items = [
        CaptureItem(hashlib.sha256(f"segment {n}".encode()).hexdigest(), 1000 + n, cam,
                    day + timedelta(minutes=10 * n), MEDIA, f"{cam}_{n}.mp4")
        for n in range(16)
    ]  # fmt: skip
    today = [i.segment_id for i in led.record_captures(items, actor=STAFF)]
    views.catch_up()
    flag = led.flag(today[0], incident="IR-7 fall", reason="fall at the desk", actor=STAFF,
                    retain_until=day + timedelta(days=60))  # fmt: skip
    led.clear_flag(today[0], flag, reason="no claim", actor=DIRECTOR)
    permit = led.check_viewing(today[1], reason="incident", purpose="safety", actor=DIRECTOR)
    led.record_viewing(permit, kind="view", remote=False)
    hold = led.place_hold(today[2:5], kind="legal", reason="claim letter",
                          reference="CLAIM-1", actor=DIRECTOR)  # fmt: skip
    _change_flags_and_holds_again_and_again(led, today[8], today[9], day)
    led.release_hold(hold, reason="claim settled", actor=DIRECTOR)
    led.record_purges(
        [PurgeRecord(s, "file removed, key destroyed", True, True, False) for s in today[12:]],
        sweep_run="sweep-4", actor=led.act_as_service(),
    )  # fmt: skip
    views.catch_up()


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table (proj_*, tracking aside), whichever projection owns it,
    columns as the database has them, rows in a canonical order."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name.startswith("proj_") and name != tracking.name:
                out[name] = sorted(map(tuple, conn.execute(select(table))), key=repr)
    engine.dispose()
    return out


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, datetime, dict[str, list[tuple[Any, ...]]]]]:
    """The ledger and its incrementally kept read models, built once per database; each
    test gets a copy (``built``)."""
    base = tmp_path_factory.mktemp("rebuild")
    with database_for(request.param, base) as url:
        with fast_kdf_while_building():
            data = new_data_dir(base / "data", url)
            led = open_test_ledger(DataDir.open(data), clock=ManualClock(SETUP))
            views = Views(led, all_projections())
            _build(led, views)
            views.close()
        incremental = dump(url)
        assert sum(map(len, incremental.values())) > 1000  # a real ledger, every table
        assert all(incremental[t] for t in ("proj_retention_segments", "proj_refusals",
                                             "proj_retention_flags", "proj_subject_index"))  # fmt: skip
        end = led.clock()
        led.close()
        yield data, end, incremental


@pytest.fixture
def built(
    built_once: tuple[Path, datetime, dict[str, list[tuple[Any, ...]]]], tmp_path: Path
) -> Iterator[tuple[Ledger, dict[str, list[tuple[Any, ...]]]]]:
    source, end, incremental = built_once
    with copy_of_data_dir(source, tmp_path / "data") as data:
        led = open_test_ledger(DataDir.open(data), clock=ManualClock(end))
        yield led, incremental
        led.close()


@pytest.mark.parametrize(
    "workers,batch,seal_at_end,processes",
    [
        (2, 37, False, 1),
        (0, 10000, False, 1),
        (2, 37, True, 1),
        (0, 500, True, 1),
        (0, 37, False, 2),
        (0, 500, True, 3),
    ],
)
def test_rebuild_equals_the_incremental_read_models(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
    workers: int,
    batch: int,
    seal_at_end: bool,
    processes: int,
) -> None:
    """Row for row, proj_seals included: sealed batch by batch or once at the end, by
    one writer or by groups of projections in their own processes."""
    led, incremental = built
    url = led.datadir.database_url  # type: ignore[union-attr]
    total = led.recorder.max_notification_id()
    indexed = indexes(url)
    assert any(name.endswith("_asof") for name in indexed)
    views = Views(led, all_projections())
    seen: list[int] = []
    read = views.rebuild(
        progress=seen.append,
        workers=workers,
        batch=batch,
        seal_at_end=seal_at_end,
        processes=processes,
    )
    assert read == total
    assert sum(seen) == total
    batches = -(-total // batch)  # one transaction (and progress step) per batch
    # With groups, the slowest group's progress: each group reports each batch it
    # finishes, so the least of them rises one whole batch at a time, through every one.
    assert views.rebuilt_by == processes
    assert len(seen) == batches
    assert all(n == batch for n in seen[:-1]) and 0 < seen[-1] <= batch
    assert not views.rebuilding()
    assert {views.position(p) for p in views.projections} == {total}
    views.close()
    assert dump(url) == incremental
    # The version tables' indexes, left out while loading, are all there again.
    assert indexes(url) == indexed
    if url.startswith("postgresql"):
        # The tables it dropped and filled again have planner statistics (``_analyze``):
        # without them a checked read's cursor scanned the whole segments table.
        assert _analyzed(url) >= {"proj_retention_segments", "proj_refusals"}


def test_a_second_rebuild_while_one_runs_is_refused_and_drops_nothing(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """Two `projections rebuild` at once on one ledger dropped and created each other's
    tables and both failed on a raw SQL error ("index ... already exists"). One holds
    the ledger's rebuild lock; the other is refused at once, nothing dropped."""
    led, incremental = built
    url = led.datadir.database_url  # type: ignore[union-attr]
    views = Views(led, all_projections())
    with rebuild_lock(views.engine):  # as a rebuild in another process holds it
        other = Views(led, all_projections())
        with pytest.raises(RebuildRunning, match="another `custodes projections rebuild`"):
            other.rebuild(workers=0)
        other.close()
        assert dump(url) == incremental  # nothing dropped or written
    assert views.rebuild(workers=0) == led.recorder.max_notification_id()  # released
    views.close()
    assert dump(url) == incremental


def test_a_rebuild_without_a_batch_takes_its_databases_default(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``projections rebuild`` without --batch: 30,000 events per transaction on SQLite
    (its connections reread their pages after another process's commit), 10,000 on
    PostgreSQL; made small here to be seen in the progress steps, one per batch."""
    import projections.base

    monkeypatch.setattr(projections.base, "REBUILD_BATCH_SQLITE", 70)
    monkeypatch.setattr(projections.base, "REBUILD_BATCH", 50)
    led, incremental = built
    url = led.datadir.database_url  # type: ignore[union-attr]
    batch = 70 if url.startswith("sqlite") else 50
    assert rebuild_batch(url.split(":")[0].split("+")[0]) == batch
    views = Views(led, all_projections())
    seen: list[int] = []
    assert views.rebuild(progress=seen.append, workers=0) == sum(seen)
    assert len(seen) > 2 and all(n == batch for n in seen[:-1]) and 0 < seen[-1] <= batch
    views.close()
    assert dump(url) == incremental


@pytest.mark.postgres
@pytest.mark.parametrize("built_once", ["postgres"], indirect=True)
def test_a_rebuild_on_postgresql_finds_rows_by_key_not_by_scanning(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """The tables a rebuild has just made have no statistics until its end, and the
    planner took the handlers' and seals' lists of keys (``IN``) for most of a table and
    scanned it, page after page: at 1M events 2,000 scans of each version table, half the
    server's CPU. Each page's transaction forbids sequential scans where an index
    serves: the subject index's aggregates (looked up by a list of keys in every page,
    with no index built at the end) are scanned only by the end's ANALYZE, with one
    process or two. On a copy of the module's PostgreSQL ledger (``built``)."""
    led, incremental = built
    url = led.datadir.database_url  # type: ignore[union-attr]
    views = Views(led, all_projections())
    engine = create_engine(url)
    for processes in (1, 2):  # each rebuild makes the table (and its counts) anew
        pages = views.rebuild(batch=37, processes=processes) // 37
        assert pages > 10
        counted = _scans(engine, "proj_subject_aggregates", pages)
        assert counted is not None
        scans, lookups = counted
        assert lookups >= pages  # every page looked its aggregates up by key
        # the end's only: its index on subjects built (a scan by each of the build's
        # parallel workers) and its ANALYZE; a scan per page would be more than 10
        assert scans <= 5
    views.close()
    engine.dispose()
    assert dump(url) == incremental


def test_footage_handlers_never_read_rows_their_page_still_queues(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that reads its own table has the rows queued for it written first
    (``PageWriter.execute``). On SQLite a transaction holds the write lock from its
    first write to its commit: in a rebuild in several processes that write held the
    lock through the rest of its group's handlers, and the other group waited. The
    footage read models (most of a rebuild's work) look up what a page needs before
    its writes (``prepare``), so none of their statements finds rows still queued."""
    led, _incremental = built
    views = Views(led, all_projections())
    execute = PageWriter.execute
    early: list[str] = []

    def noting(self: PageWriter, statement: Any, *args: Any, **kwargs: Any) -> Any:
        tables = {t.name for t in find_tables(statement, include_crud=True)}
        early.extend(
            name for name in tables & self._queue.keys()  # noqa: SLF001
            if name.startswith(("proj_retention", "proj_access"))
        )  # fmt: skip
        return execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(PageWriter, "execute", noting)
    pages = views.rebuild(workers=0, batch=50) // 50
    views.close()
    assert pages > 5
    assert early == []


def _scans(engine: Any, table: str, lookups: int) -> tuple[int, int] | None:
    """A table's (sequential scans, index scans) since it was made, once its index scans
    reach ``lookups``: a backend's counts reach the statistics when it ends or commits
    (at most each second), so they are read again for up to 10 s."""
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while True:
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            row = conn.exec_driver_sql(
                "SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname = %s",
                (table,),
            ).one_or_none()
            got = None if row is None else (int(row[0]), int(row[1] or 0))
            if (got is not None and got[1] >= lookups) or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


def _analyzed(url: str) -> set[str]:
    """The read-model tables PostgreSQL has planner statistics for."""
    engine = create_engine(url)
    with engine.connect() as conn:
        names = conn.exec_driver_sql(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()"
        )
        found = {str(n) for (n,) in names if str(n).startswith("proj_")}
    engine.dispose()
    return found


def indexes(url: str) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Every read-model table's indexes: (name, columns), sorted."""
    engine = create_engine(url)
    found = inspect(engine)
    out = {
        name: sorted(
            (str(i["name"]), tuple(map(str, i["column_names"]))) for i in found.get_indexes(name)
        )
        for name in found.get_table_names()
        if name.startswith("proj_")
    }
    engine.dispose()
    return out


def _positions(url: str) -> dict[str, int]:
    """Every projection's position, in the ledger's database or (SQLite) in a rebuild's
    scratch file (``projections.scratch``)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(tracking.c.projection, tracking.c.position)).all())
    engine.dispose()
    if url.startswith("sqlite"):
        for path in scratch.scratch_files(str(make_url(url).database)):
            rows.update({k: v for k, v in _scratch_positions(path).items() if k not in rows})
    return rows


def _scratch_positions(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT projection, position FROM proj_tracking").fetchall())


@pytest.mark.parametrize(
    "flags,resume",
    [
        (("--processes", "1"), ()),
        (("--processes", "1", "--seal-at-end"), ()),
        (("--processes", "2"), ()),
        (("--processes", "3", "--seal-at-end"), ()),
        # resumed in other groups: the scratch files of the first run merged first
        (("--processes", "2"), ("--processes", "1")),
        (("--processes", "2"), ("--processes", "3")),
    ],
)
def test_a_rebuild_killed_part_way_resumes_and_equals(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
    flags: tuple[str, ...],
    resume: tuple[str, ...],
) -> None:
    led, incremental = built
    dd = led.datadir
    assert dd is not None
    url = dd.database_url
    total = led.recorder.max_notification_id()
    custodes = Path(sys.executable).parent / "custodes"
    cmd = [
        str(custodes),
        "--data-dir",
        str(dd.path),
        "projections",
        "rebuild",
        "--batch",
        "12",
        *flags,
    ]
    proc = subprocess.Popen([*cmd, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    at_kill: dict[str, int] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            at_kill = _positions(url)
        except Exception:  # tables being dropped and created: try again
            continue
        built_to = min((v for k, v in at_kill.items() if k != REBUILDING), default=0)
        if REBUILDING in at_kill and built_to > 0:  # a batch or more committed
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()  # type: ignore[union-attr]
    # Killed between batches: some read models part-built, the mark still there. No
    # process of the rebuild writes on after it (each group dies with its parent). A
    # group killed inside its commit may have written the commit to the write-ahead log
    # and not yet announced it (SQLite's shared-memory index): readers see it once the
    # group is gone (the log's recovery). So first a moment for the kill to land.
    time.sleep(0.3)
    after = _positions(url)
    time.sleep(0.5)
    assert _positions(url) == after
    assert REBUILDING in after
    built_to = min(v for k, v in after.items() if k != REBUILDING)
    assert 0 < built_to < total
    assert dump(url) != incremental
    database = str(make_url(url).database)
    if url.startswith("sqlite") and flags[1] != "1":
        # Every group but the first wrote into a scratch file of its own, kept for the
        # resume, readable by the ledger's owner only.
        files = scratch.scratch_files(database)
        assert len(files) == int(flags[1]) - 1
        assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
        # each with its committed progress (a light group may have read the whole log)
        assert all(0 < n <= total for f in files for n in _scratch_positions(f).values())
    # Run again: it resumes from there and ends equal to the incremental read models.
    again = [*cmd[: cmd.index("--processes")], *(resume or flags)]
    done = subprocess.run([*again, "--json"], capture_output=True, text=True, check=True)
    assert '"resumed": true' in done.stdout
    assert REBUILDING not in _positions(url)
    assert dump(url) == incremental
    if url.startswith("sqlite"):
        assert not scratch.scratch_files(database)
        assert not list(Path(database).parent.glob("*.rebuild-[0-9]*"))  # nor their -wal, -shm


# A start with microseconds, in a zone east of UTC (the read models store UTC).
ODD_START = datetime(2026, 9, 19, 21, 0, 7, 123457, tzinfo=timezone(timedelta(hours=5, minutes=45)))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def one_day_built_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, datetime, dict[str, list[tuple[Any, ...]]]]]:
    """``_build_one_day_of_flags_and_holds``'s ledger, built once per database."""
    base = tmp_path_factory.mktemp("one-day")
    with database_for(request.param, base) as url:
        with fast_kdf_while_building():
            data = new_data_dir(base / "data", url)
            led = open_test_ledger(DataDir.open(data), clock=ManualClock(SETUP))
            views = Views(led, all_projections())
            _build_one_day_of_flags_and_holds(led, views)
            views.close()
        incremental = dump(url)
        end = led.clock()
        led.close()
        yield data, end, incremental


@pytest.fixture
def one_day_built(
    one_day_built_once: tuple[Path, datetime, dict[str, list[tuple[Any, ...]]]], tmp_path: Path
) -> Iterator[tuple[Ledger, dict[str, list[tuple[Any, ...]]]]]:
    source, end, incremental = one_day_built_once
    with copy_of_data_dir(source, tmp_path / "data") as data:
        led = open_test_ledger(DataDir.open(data), clock=ManualClock(end))
        yield led, incremental
        led.close()


@pytest.mark.parametrize("batch", [10000, 1])
def test_flags_and_holds_changed_within_one_page_rebuild_to_their_dates(
    one_day_built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]], batch: int
) -> None:
    """One segment flagged until a date (then extended) and open-ended (then cleared),
    held and released, every change in one page of the rebuild (or each in its own):
    kept until the extended date with one flag open and no hold active (R13, R14). The
    handlers look these up from the page, not from rows still queued. On a ledger of
    that day only (``_build_one_day_of_flags_and_holds``): with ``batch`` 1 a rebuild of
    ``_build``'s whole ledger took 20 s on PostgreSQL."""
    led, incremental = one_day_built
    views = Views(led, all_projections())
    views.rebuild(workers=0, batch=batch)
    with views.connect() as conn:
        (flag,) = conn.execute(select(flags).where(flags.c.reason.like("IR-9 slip%"))).all()
        seg = conn.execute(select(segments).where(segments.c.segment_id == flag.segment_id)).one()
        (hold,) = conn.execute(select(holds).where(holds.c.reference == "SUB-2")).all()
    views.close()
    assert dump(led.datadir.database_url) == incremental  # type: ignore[union-attr]
    day = SETUP + timedelta(days=5)
    assert flag.retain_until == day + timedelta(days=90)
    assert (seg.keep_until, seg.open_flags, seg.active_holds) == (day + timedelta(days=90), 1, 0)
    assert hold.released_at is not None and hold.segment_count == 2


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_computed_row_digests_equal_the_rows_read_back(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seal's batch deltas are computed from the values written (``RowPredictor``),
    not read back: every computed row, incremental and rebuilt, is checked here against
    the row as the driver reads it (``Sealer.verify``), on a ledger of odd values:
    datetimes with microseconds given in another zone, NULLs, unicode text, integers
    past 2**53. Every table with rows has rows computed."""
    monkeypatch.setattr(Sealer, "verify", True)
    monkeypatch.setattr(Sealer, "verified", {})
    monkeypatch.setattr(Sealer, "reread", {})
    with database_for(db, tmp_path) as url:
        data = new_data_dir(tmp_path / "data", url)
        led = open_test_ledger(DataDir.open(data), clock=ManualClock(ODD_START))
        views = Views(led, all_projections())
        _build(led, views, start=ODD_START)
        led.clock.set(led.clock() + timedelta(hours=1, microseconds=987654))
        infos = led.record_captures(
            [CaptureItem(hashlib.sha256(b"odd").hexdigest(), 2**62 + 12345, CAMERAS[0],
                         led.clock() - timedelta(minutes=20, microseconds=1),
                         MEDIA, "caméra_東京_🎥.mp4")],
            actor=STAFF,
        )  # fmt: skip
        led.flag(infos[0].segment_id, incident="IR-8 chute à l'accueil — 転倒",
                 reason="glissade près du bureau ✓", actor=STAFF)  # fmt: skip
        led.open_request(
            requester_kind="public", requester="Zoë Ångström", received_by=STAFF,
            records=["footage"], description="vidéo du hall — «entrée»", actor=STAFF,
            footage=[infos[0].segment_id],
        )  # fmt: skip
        views.catch_up()
        incremental = dump(url)
        assert Sealer.verified  # the incremental pages were computed and checked
        Sealer.verified.clear()
        Sealer.reread.clear()
        views.rebuild(workers=0, batch=97)
        assert not check_projections(views, views.projections)
        views.close()
        assert dump(url) == incremental
        with_rows = {t for t, rows in incremental.items() if rows and t != seals.name}
        assert with_rows - Sealer.verified.keys() == set()
        # The rows queued (``insert_row``, ``update_row``, versions) are computed; only
        # those a projection writes with its own UPDATE or INSERT statement are read back.
        assert 0 < sum(Sealer.reread.values()) * 20 < sum(Sealer.verified.values())
        texts = [v for rows in incremental.values() for r in rows for v in r if isinstance(v, str)]
        assert any("転倒" in v for v in texts)
        assert any(v is None for rows in incremental.values() for r in rows for v in r)
        assert any(
            isinstance(v, int) and v > 2**53
            for rows in incremental.values()
            for r in rows
            for v in r
        )
        led.close()


def test_a_row_written_by_someone_else_during_the_rebuild_stays_a_mismatch(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """The default mode seals what each batch wrote (computed, not scanned): a row
    another connection inserts between two batches is in no seal, and the check names
    it, as the extra row it is."""
    led, _incremental = built
    url = led.datadir.database_url  # type: ignore[union-attr]
    other = create_engine(url)
    refusals = next(
        t for p in all_projections() for t in p.metadata.sorted_tables if t.name == "proj_refusals"
    )
    done: list[int] = []

    def meanwhile(n: int) -> None:
        done.append(n)
        if len(done) == 2:
            with other.begin() as conn:
                conn.execute(
                    refusals.insert().values(
                        notification_id=10**12, recorded_at=datetime.now(UTC),
                        actor="Mallory", actor_role="staff", action="footage view",
                        subject="x", rule_id="R1", message="planted", authenticated=True,
                        asof_from=10**12,
                    )
                )  # fmt: skip

    views = Views(led, all_projections())
    views.rebuild(progress=meanwhile, workers=0, batch=100)
    assert len(done) > 2
    findings = check_projections(views, views.projections)
    views.close()
    other.dispose()
    assert [(f.table, f.kind, f.row) for f in findings] == [
        ("proj_refusals", "extra", f"notification_id={10**12}")
    ]


def _sqlite_file(led: Ledger) -> str:
    url = led.datadir.database_url  # type: ignore[union-attr]
    assert url.startswith("sqlite")
    return str(make_url(url).database)


# Scratch files are SQLite's (PostgreSQL has no one-writer lock): these tests build the
# SQLite ledger only.
sqlite_only = pytest.mark.parametrize("built_once", ["sqlite"], indirect=True)


@sqlite_only
def test_a_row_someone_writes_into_a_scratch_file_stays_a_mismatch_after_the_merge(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """The scratch file's rows are copied into the ledger's database as they are, with
    their seals: a row planted in the file while its group writes is in no seal, and
    the check names it, as the extra row it is."""
    led, _incremental = built
    database = _sqlite_file(led)
    planted: list[Path] = []

    def meanwhile(n: int) -> None:
        if not planted:
            (path,) = scratch.scratch_files(database)
            _plant_missing_segment(f"sqlite:///{path}?timeout=30")
            planted.append(path)

    views = Views(led, all_projections())
    assert "retention" in _names(_scratch_group(views.projections))
    views.rebuild(progress=meanwhile, batch=100, processes=2)
    findings = check_projections(views, views.projections)
    views.close()
    assert planted and not planted[0].exists()  # merged, then removed
    assert [(f.table, f.kind, f.row) for f in findings] == [
        ("proj_retention_missing", "extra", "segment_id=planted")
    ]


def _scratch_group(projections: list[Projection]) -> list[Projection]:
    """The group a two-process rebuild on SQLite writes into a scratch file."""
    return most_rows_first(rebuild_groups(projections, 2))[1]


def _names(group: list[Projection]) -> list[str]:
    return [p.name for p in group]


def _plant_missing_segment(url: str) -> None:
    """A row of the retention read model (a scratch group's, on SQLite) that no event
    wrote: a segment said found missing."""
    (table,) = [t for p in all_projections() for t in p.metadata.sorted_tables
                if t.name == "proj_retention_missing"]  # fmt: skip
    values: dict[str, Any] = {
        "segment_id": "planted", "camera_id": "lobby-1", "recorded_start": NOW,
        "found_at": NOW, "blob_missing": True, "key_missing": False, "found_by": "Mallory",
    }  # fmt: skip
    if "asof_from" in table.c:
        values["asof_from"] = 10**12
    other = create_engine(url)
    with other.begin() as conn:
        conn.execute(table.insert().values(**values))
    other.dispose()


@sqlite_only
def test_a_row_someone_writes_into_a_scratch_group_s_ledger_table_is_gone_after_the_merge(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """While a group writes into its scratch file, its tables in the ledger's database
    hold nothing the rebuild wrote; the merge replaces whatever they hold, so a row
    planted there meanwhile is not kept (and nothing unsealed is left to trust)."""
    led, incremental = built
    _sqlite_file(led)  # SQLite
    url = led.datadir.database_url  # type: ignore[union-attr]
    done: list[int] = []

    def meanwhile(n: int) -> None:
        done.append(n)
        if len(done) == 1:
            _plant_missing_segment(url)

    views = Views(led, all_projections())
    assert "retention" in _names(_scratch_group(views.projections))
    views.rebuild(progress=meanwhile, batch=100, processes=2)
    assert not check_projections(views, views.projections)
    views.close()
    assert dump(url) == incremental


@sqlite_only
def test_left_over_scratch_files_merged_or_never_made_whole_are_removed(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """A file whose merge committed before a kill (its projections tracked in the
    ledger's database) and one killed while it was made (no tracking rows) are removed,
    not merged again; a group whose projections the ledger's database tracks writes
    there, not into a new file."""
    led, incremental = built
    database = _sqlite_file(led)
    url = led.datadir.database_url  # type: ignore[union-attr]
    groups = most_rows_first(rebuild_groups(all_projections(), 2))
    tracked = set(_positions(url))
    merged = scratch.create(database, groups[1])
    half = Path(f"{database}.rebuild-9")
    half.write_bytes(b"")  # made, then killed before its first transaction
    assert {p.name for p in groups[1]} <= tracked
    assert scratch.plan(database, groups, tracked) == {}
    assert not merged.exists() and not half.exists()
    assert not scratch.scratch_files(database)
    assert dump(url) == incremental  # nothing merged over the read models


@sqlite_only
def test_a_command_during_a_rebuild_with_scratch_files_is_told_to_wait(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """While a rebuild writes read models into its scratch files, the ledger's database
    lacks them: a command catching up is told so (exit 75, try again), not handed
    tables the rebuild has not filled, nor left to rebuild them itself."""
    led, _incremental = built
    database = _sqlite_file(led)
    views = Views(led, all_projections())
    with rebuild_lock(views.engine):  # as the rebuild's process holds it
        scratch.create(database, _scratch_group(views.projections))
        other = Views(led, all_projections())
        with pytest.raises(ReadModelsRebuilding, match="being rebuilt right now"):
            other.catch_up()
        other.close()
    assert len(scratch.scratch_files(database)) == 1
    views.close()


@sqlite_only
def test_a_command_after_a_killed_rebuild_merges_its_scratch_files_and_catches_up(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """A rebuild stopped part-way (here its progress callback raises: the groups are
    stopped, as by a kill) leaves its scratch files; the next command merges them and
    catches every read model up from where it stands, and the rebuild run again then
    resumes and ends equal to the incremental read models."""
    led, incremental = built
    database = _sqlite_file(led)
    url = led.datadir.database_url  # type: ignore[union-attr]
    total = led.recorder.max_notification_id()

    def stop(n: int) -> None:
        raise KeyboardInterrupt

    views = Views(led, all_projections())
    with pytest.raises(KeyboardInterrupt):
        views.rebuild(progress=stop, batch=100, processes=2)
    (left,) = scratch.scratch_files(database)
    assert all(0 < n <= total for n in _scratch_positions(left).values())
    views.close()
    command = Views(led, all_projections())
    command.catch_up()
    assert not scratch.scratch_files(database)
    assert {command.position(p) for p in command.projections} == {total}
    assert not check_projections(command, command.projections)
    assert command.rebuilding()  # the rebuild itself is not finished: indexes, mark
    command.rebuild(processes=2, batch=100)
    assert not command.rebuilding()
    command.close()
    assert dump(url) == incremental


_BOOM_METADATA = MetaData()
_boom = Table("proj_boom", _BOOM_METADATA, Column("n", BigInteger, primary_key=True))


class _Boom(Projection):
    """Fails at event ``at``: a group of its own (its cost outweighs the others)."""

    name = "boom"
    metadata = _BOOM_METADATA
    versioned = False
    rebuild_cost = 1000.0
    at = 0

    def handle(self, conn: Any, notification_id: int, event: Any) -> None:
        if notification_id == self.at:
            raise RuntimeError(f"boom at {notification_id}")
        insert_row(conn, _boom, n=notification_id)


def test_a_group_that_fails_stops_the_rebuild_which_then_resumes(
    built: tuple[Ledger, dict[str, list[tuple[Any, ...]]]],
) -> None:
    """A group's error reaches the caller with its traceback; the other groups are
    stopped, what they committed stays with the mark, and the next rebuild resumes from
    there and ends equal to the incremental read models."""
    led, incremental = built
    url = led.datadir.database_url  # type: ignore[union-attr]
    total = led.recorder.max_notification_id()
    boom = _Boom()
    boom.at = total // 2
    views = Views(led, [*all_projections(), boom])
    assert [p.name for p in rebuild_groups(views.projections, 2)[0]] == ["boom"]
    with pytest.raises(RuntimeError, match=r"the rebuild of boom failed:(.|\n)*boom at"):
        views.rebuild(processes=2, batch=50)
    assert views.rebuilding()
    positions = _positions(url)
    assert 0 < positions["boom"] < boom.at
    boom.at = -1
    views.rebuild(processes=2, batch=50)
    assert not views.rebuilding()
    assert not check_projections(views, views.projections)
    views.close()
    dumped = dump(url)
    assert dumped.pop("proj_boom") == sorted(((n,) for n in range(1, total + 1)), key=repr)
    dumped[seals.name] = [r for r in dumped[seals.name] if r[0] != "boom"]
    assert dumped == incremental


def test_a_group_decodes_the_kinds_its_projections_read_by_the_topic_s_class() -> None:
    """``_only_kinds`` leaves out (undecrypted) the events of other classes, naming each
    class as ``kinds`` does: by the class a topic resolves to, so a topic registered for
    a renamed class is not left out by its old text."""
    register_topic("ledger.old_footage:Captured", Segment.FootageCaptured)
    rows = [
        (1, b"o" * 16, 1, get_topic(Segment.FootageCaptured), b"s1"),
        (2, b"o" * 16, 2, get_topic(Segment.FootagePurged), b"s2"),
        (3, b"p" * 16, 1, "ledger.old_footage:Captured", b"s3"),
    ]
    kept = _only_kinds(rows, frozenset({"FootageCaptured"}))
    assert kept == [rows[0], (2, None), rows[2]]


def test_rebuild_groups_balance_the_work_and_keep_each_projection_once() -> None:
    projections = all_projections()
    for n in (1, 2, 3, len(projections), len(projections) + 5):
        groups = rebuild_groups(projections, n)
        assert len(groups) == min(n, len(projections))
        assert sorted(p.name for g in groups for p in g) == sorted(p.name for p in projections)
        order = [p.name for p in projections]
        for g in groups:  # each group in the order given (the catch-up's order)
            assert [p.name for p in g] == sorted((p.name for p in g), key=order.index)
    two = [sum(p.rebuild_cost for p in g) for g in rebuild_groups(projections, 2)]
    assert max(two) <= 1.25 * min(two)


def test_the_indexes_handlers_look_rows_up_by_are_indexes_of_their_tables() -> None:
    """``Projection.lookup_indexes`` names indexes that exist: a misspelt one would be
    dropped during a rebuild and its handler's lookups would scan the table."""
    for p in all_projections():
        if p.lookup_indexes is None:
            continue
        names = {i.name for t in p.metadata.sorted_tables for i in t.indexes}
        assert p.lookup_indexes <= names, p.name


class _Kind(StrEnum):
    A = "a"


def test_bound_forms_in_another_column_order_equal_the_rows_read_back(tmp_path: Path) -> None:
    """``BoundForms``: rows given in another order than the table's columns are put in
    the table's order; a value of another Python type (a str enum) is UNKNOWN, read back.
    Each computed form against the row as the driver reads it."""
    meta = MetaData()
    table = Table(
        "proj_bound_test", meta,
        Column("key", String(8), primary_key=True), Column("at", UtcDateTime),
        Column("n", BigInteger), Column("ok", Boolean), Column("note", Text),
    )  # fmt: skip
    engine = create_engine(f"sqlite:///{tmp_path / 'bound.sqlite'}")
    meta.create_all(engine)
    at = datetime(2026, 3, 1, 9, 30, 0, 123, tzinfo=timezone(timedelta(hours=-5)))
    rows = [
        {"note": "é", "ok": True, "n": 2**62, "at": at, "key": "k1"},
        {"note": None, "ok": False, "n": None, "at": None, "key": "k2"},
        {"note": _Kind.A, "ok": True, "n": 1, "at": at, "key": "k3"},
    ]
    columns = tuple(rows[0])
    with engine.begin() as conn:
        raw = RawBatch.of(("insert", table, columns), conn.dialect)
        assert raw is not None
        given, bound = raw.write(conn, rows)
        forms = BoundForms.of(table, columns, conn.dialect)
        assert forms is not None
        computed = dict(forms.rows(given, bound))
        stored = {r[0]: tuple(r) for r in read_back(conn, table, ["key"], [("k1",), ("k2",)])}
    engine.dispose()
    assert computed[("k3",)] is UNKNOWN
    assert {k: v for k, v in computed.items() if v is not UNKNOWN} == {
        (k,): v for k, v in stored.items()
    }
