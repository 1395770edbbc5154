"""What the dashboard keeps between pages, and the counts it asks the database for (issue 17,
latency), on SQLite and PostgreSQL: a long-running process must still see what another
process records after it read, the read models' tables are created again when dropped
after the process found them, and a period's late purges are judged exactly as the
report always judged them, at the boundary too."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from projections.registry import open_views
from projections.retention import OVERDUE_AFTER, metadata, purges_in, segments
from tests.conftest import NOW
from tests.identity import open_test_ledger
from tests.integration.footage_helpers import DIRECTOR, footage_ledger


def _issue(ledger: Ledger, day: date, size: int) -> None:
    ledger.record_report_issued(
        period_from=day, period_to=day, as_of=None, format="pdf", output_sha256="ab" * 32,
        checkpoint_size=size, checkpoint_root="cd" * 32, actor=DIRECTOR,
    )  # fmt: skip


def test_a_report_or_camera_recorded_after_a_page_read_them_is_seen(data_dir: Path) -> None:
    ledger = footage_ledger(data_dir)
    assert ledger.last_report_issued() is None
    before = [c.camera_id for c in ledger.cameras()]
    _issue(ledger, date(2026, 10, 1), 7)
    assert ledger.last_report_issued()["checkpoint_size"] == 7  # type: ignore[index]
    ledger.register_camera(
        "stacks-2", location="Stacks", zone="public", signage_posted=True, actor=DIRECTOR
    )
    _issue(ledger, date(2026, 10, 2), 9)
    # Another process (another ledger object on the same database) records a third one.
    other = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    _issue(other, date(2026, 10, 3), 11)
    other.close()
    last = ledger.last_report_issued()
    assert last is not None and (last["checkpoint_size"], last["period_from"]) == (
        11,
        "2026-10-03",
    )
    assert [c.camera_id for c in ledger.cameras()] == sorted([*before, "stacks-2"])


def test_a_read_model_table_dropped_after_the_process_saw_it_is_created_again(
    data_dir: Path,
) -> None:
    ledger = footage_ledger(data_dir)
    open_views(ledger).close()  # this process has seen every table now
    engine = create_engine(ledger.chained_recorder.datastore.engine.url)  # type: ignore[union-attr]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE proj_retention_missing"))
    views = open_views(ledger)
    views.close()
    assert "proj_retention_missing" in inspect(engine).get_table_names()
    engine.dispose()


def test_late_purges_are_counted_as_the_report_judged_them(database_url: str) -> None:
    """Purges around the boundary (the deadline after flags plus a day), with and without
    a flag's later keep-until, in and out of the period: ``purges_in`` counts them as
    reading every purge of the period and judging each one does."""
    engine = create_engine(database_url)
    metadata.create_all(engine)
    start, end = NOW - timedelta(days=7), NOW
    deadline = NOW - timedelta(days=3)
    offsets = [
        timedelta(0),
        timedelta(microseconds=-1),
        timedelta(microseconds=1),
        timedelta(seconds=-30),  # within the database's minute of margin: not late
        timedelta(hours=-5),
        timedelta(hours=20),
    ]
    rows = []
    for n, off in enumerate(offsets):
        for flagged in (False, True):
            keep_until = deadline + timedelta(hours=6) if flagged else None
            purged_at = (keep_until or deadline) + OVERDUE_AFTER + off
            rows.append((f"s{n}{int(flagged)}", deadline, keep_until, purged_at))
    rows.append(("early", deadline, None, start - timedelta(seconds=1)))  # before the period
    with engine.begin() as conn:
        for i, (sid, dl, keep, purged_at) in enumerate(rows):
            conn.execute(
                segments.insert().values(
                    segment_id=sid,
                    aggregate_id=f"agg-{i}",
                    sha256="0" * 64,
                    camera_id="c",
                    recorded_start=dl - timedelta(days=30),
                    recorded_end=dl - timedelta(days=30),
                    captured_at=dl - timedelta(days=30),
                    size=1,
                    deadline=dl,
                    retention_days=30,
                    keep_until=keep,
                    open_flags=0,
                    active_holds=0,
                    purged=True,
                    purged_at=purged_at,
                    notification_id=i + 1,
                    asof_from=i + 1,
                )  # fmt: skip
            )
    in_period = [r for r in rows if start <= r[3] < end]
    late = [r for r in in_period if r[3] >= (r[2] or r[1]) + OVERDUE_AFTER]
    with engine.connect() as conn:
        assert purges_in(conn, start, end) == (len(in_period), len(late))
    assert len(late) == 6 and len(in_period) == len(rows) - 1  # the cases are all there
    engine.dispose()


def test_a_camera_retired_or_registered_after_the_list_was_kept_is_seen(data_dir: Path) -> None:
    """``cameras()`` is kept between calls, and made again after any camera's event,
    recorded here or by another process."""
    ledger = footage_ledger(data_dir)
    [lobby] = ledger.cameras()
    assert not lobby.retired and ledger.cameras() == [lobby]
    ledger.retire_camera(lobby.camera_id, reason="moved", actor=DIRECTOR)
    assert [c.retired for c in ledger.cameras()] == [True]
    other = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    other.register_camera(
        "stacks-3", location="Stacks", zone="public", signage_posted=True, actor=DIRECTOR
    )
    other.close()
    assert [(c.camera_id, c.retired) for c in ledger.cameras()] == [
        (lobby.camera_id, True),
        ("stacks-3", False),
    ]
