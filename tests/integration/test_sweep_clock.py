"""The retention sweep's clock (R26, R13-R15), on both databases.

Outside review, session 17 (left then, taken up in session 18): the sweep decided what is
due by its host's clock alone. Under a clock set back it destroyed files and then failed
to record their purge (the ledger refuses an act timed before its last one), leaving
footage gone without its event until the next sweep after the clock was put right; under
a clock set ahead it destroyed footage early. Now it checks its clock before it touches a
file: the ledger must accept an act timed by it, and on PostgreSQL the database server's
clock must agree with it (within the clocks' two minutes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from capture.ingest import ingest_paths, open_vault
from capture.sweep import sweep
from cli.main import custodes
from ledger.app import Ledger
from ledger.clock import ManualClock, system_clock
from ledger.datadir import DataDir
from ledger.errors import ClockBehind, ClockDisagrees, DataDirError, ServerClockReplaced
from projections.registry import read_views
from projections.retention import due_for_purge
from tests.conftest import NOW, fresh_postgres_database, new_data_dir
from tests.identity import CustodesRunner, open_test_ledger
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip, footage_ledger

LATER = NOW + timedelta(days=40)  # the clip (recorded 1 November) is due


@pytest.fixture
def postgres_data_dir(tmp_path: Path) -> Iterator[Path]:
    with fresh_postgres_database() as url:
        yield new_data_dir(tmp_path / "data", url)


@pytest.fixture
def sqlite_data_dir(tmp_path: Path) -> Path:
    return new_data_dir(tmp_path / "data", f"sqlite:///{tmp_path / 'ledger.sqlite'}?timeout=15")


def _ingested(data_dir: Path, tmp_path: Path) -> tuple[Ledger, str, str]:
    ledger = footage_ledger(data_dir)
    summary = ingest_paths(ledger, [clip(tmp_path / "in")], camera=CAMERA, actor=STAFF)
    sid = summary.outcomes[0].segment_id or ""
    return ledger, sid, ledger.segment_info(sid).sha256


def _purges(ledger: Ledger) -> list[dict]:
    return [e.details for e in ledger.read_log(kinds=["FootagePurged"])]


def _untouched(ledger: Ledger, sha: str) -> None:
    vault = open_vault(ledger)
    assert vault.has_blob(sha) and vault.has_key(sha) and not vault.is_shredding(sha)
    assert _purges(ledger) == []


def test_a_sweep_behind_the_last_act_destroys_nothing(data_dir: Path, tmp_path: Path) -> None:
    ledger, _, sha = _ingested(data_dir, tmp_path)
    ledger.clock.set(LATER + timedelta(days=5))  # the last act, timed ahead of the sweep
    ledger.register_camera("c-2", location="Hall", zone="public", signage_posted=True,
                           actor=DIRECTOR)  # fmt: skip
    due = read_views(ledger, lambda conn: due_for_purge(conn, LATER))
    assert due  # by the sweep's own clock the clip is due
    ledger.clock.set(LATER)
    head = ledger.chain_head()[0]

    with pytest.raises(ClockBehind, match="behind the ledger's last recorded act"):
        sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())

    _untouched(ledger, sha)  # before: blob and key gone, the purge "failed" to record
    assert ledger.chain_head()[0] == head  # and nothing recorded
    ledger.close()


def test_the_command_says_so_and_exits_1_before_touching_a_file(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger, _, sha = _ingested(data_dir, tmp_path)
    ledger.clock.set(LATER + timedelta(days=5))
    ledger.register_camera("c-2", location="Hall", zone="public", signage_posted=True,
                           actor=DIRECTOR)  # fmt: skip
    ledger.close()
    for extra in (["--yes"], ["--dry-run"]):
        result = CustodesRunner().invoke(
            custodes,
            ["--data-dir", str(data_dir), "retention", "sweep", *extra, "--service"],
            obj=ManualClock(LATER),
        )
        assert result.exit_code == 1, result.output
        assert "behind the ledger's last recorded act" in result.stderr
        assert "custodes clock correct" in result.stderr and "Traceback" not in result.output
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER))
    _untouched(ledger, sha)
    ledger.close()


def _ahead(days: float) -> Callable[[], datetime]:
    """This host's clock, set ``days`` ahead (as ``faketime`` sets it for one process): a
    plain clock, not the simulated time of a ManualClock."""
    return lambda: datetime.now(UTC) + timedelta(days=days)


@pytest.mark.postgres
def test_on_postgresql_a_clock_the_server_contradicts_destroys_nothing(
    postgres_data_dir: Path, tmp_path: Path
) -> None:
    ledger, _, sha = _ingested(postgres_data_dir, tmp_path)
    ledger.clock = system_clock  # type: ignore[method-assign]
    assert abs(ledger.check_clock_to_destroy() - datetime.now(UTC)) < timedelta(seconds=5)
    before, server, after = ledger.server_time() or (None, None, None)
    assert before is not None and before <= server + timedelta(seconds=1)
    assert after is not None and server <= after + timedelta(seconds=1)

    # 31 days ahead: the clip (recorded 1 November) is due by that clock today
    ledger.clock = _ahead(31)  # type: ignore[method-assign]
    due = read_views(ledger, lambda conn: due_for_purge(conn, ledger.clock()))
    assert due
    head = ledger.chain_head()[0]
    with pytest.raises(ClockDisagrees, match="ahead of the database server's clock") as e:
        sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    assert timedelta(days=30) < e.value.moment - e.value.reference < timedelta(days=32)
    _untouched(ledger, sha)
    assert ledger.chain_head()[0] == head

    # three minutes behind: past the two minutes two clocks may differ by
    ledger.clock = _ahead(-3 / 1440)  # type: ignore[method-assign]
    with pytest.raises(ClockDisagrees, match="behind the database server's clock"):
        ledger.check_clock_to_destroy()
    ledger.clock = _ahead(1 / 1440)  # one minute: within them  # type: ignore[method-assign]
    ledger.check_clock_to_destroy()
    ledger.close()


@pytest.mark.postgres
def test_clock_show_gives_the_database_servers_clock(
    postgres_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = CustodesRunner()
    base = ["--data-dir", str(postgres_data_dir), "clock", "show"]
    shown = run.invoke(custodes, base)
    assert shown.exit_code == 0, shown.output
    assert "database server's:" in shown.stdout and "agrees with this host's" in shown.stdout
    server = json.loads(run.invoke(custodes, [*base, "--json"]).stdout)
    assert server["database_server"]["agrees"] is True
    assert abs(server["database_server"]["offset_seconds"]) < 5

    # the command's own clock, as faketime sets it (the command takes no clock option)
    monkeypatch.setattr("ledger.clock.system_clock", _ahead(31))
    ahead = run.invoke(custodes, base)
    assert ahead.exit_code == 1, ahead.output
    assert "DISAGREES by 30 days" in ahead.stdout
    data = json.loads(run.invoke(custodes, [*base, "--json"]).stdout)
    assert data["database_server"]["agrees"] is False
    assert data["database_server"]["offset_seconds"] < -30 * 86400
    swept = run.invoke(custodes, ["--data-dir", str(postgres_data_dir), "retention", "sweep",
                                  "--yes", "--service"])  # fmt: skip
    assert swept.exit_code == 1 and "ahead of the database server's clock" in swept.stderr


def test_sqlite_has_no_server_clock_to_ask(sqlite_data_dir: Path) -> None:
    ledger = open_test_ledger(DataDir.open(sqlite_data_dir), clock=_ahead(31))
    assert ledger.server_time() is None  # SQLite's time is this host's own
    ledger.check_clock_to_destroy()  # nothing independent to contradict it (docs/FOOTAGE.md)
    ledger.close()
    shown = CustodesRunner().invoke(
        custodes, ["--data-dir", str(sqlite_data_dir), "clock", "show", "--json"]
    )
    assert shown.exit_code == 0 and json.loads(shown.stdout)["database_server"] is None


@pytest.fixture
def own_postgres_database() -> Iterator[tuple[str, str]]:
    """A database of this test's own, DROPPED afterwards (never recycled: the test
    redefines a function in its ``pg_catalog``, which the recycling's check does not
    see): its SQLAlchemy URL and libpq conninfo."""
    import uuid

    import psycopg
    from sqlalchemy import make_url

    from tests.conftest import _conninfo, postgres_admin_url

    admin = _conninfo(postgres_admin_url())
    name = f"custodes_clock_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url, _conninfo(url)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_a_redefined_server_clock_vouches_for_nothing(
    own_postgres_database: tuple[str, str], tmp_path: Path
) -> None:
    """Red team (session 18): a superuser redefined ``pg_catalog.clock_timestamp()`` as
    ``now() + 40 days`` and a sweep 40 days ahead then agreed with "the server's clock".
    And a connection's ``DateStyle`` (SQL, DMY) made reading the server's time fail with a
    driver's traceback; it is read as seconds since the epoch now."""
    import psycopg

    url, conninfo = own_postgres_database
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{conninfo.rsplit('/', 1)[-1]}\" SET DateStyle = 'SQL, DMY'")
    data = new_data_dir(tmp_path / "data", url)
    ledger, _, sha = _ingested(data, tmp_path)
    ledger.clock = system_clock  # type: ignore[method-assign]
    ledger.check_clock_to_destroy()  # agrees, whatever the DateStyle
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # the session 18 review: the epoch seconds came from date_part, redefinable too
        conn.execute(
            "CREATE OR REPLACE FUNCTION pg_catalog.date_part(text, timestamptz) RETURNS "
            "double precision LANGUAGE sql AS "
            "$$ SELECT extract(epoch FROM $2)::double precision + 40 * 86400 $$"
        )
    (tmp_path / "data" / "clock.anchor").unlink()  # so only the server's clock can tell
    ledger.clock = _ahead(40)  # type: ignore[method-assign]
    with pytest.raises(ClockDisagrees, match="ahead of the database server's clock"):
        ledger.check_clock_to_destroy()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION pg_catalog.clock_timestamp() RETURNS timestamptz "
            "LANGUAGE sql AS $$ SELECT now() + interval '40 days' $$"
        )
    ledger.clock = _ahead(40)  # type: ignore[method-assign]
    due = read_views(ledger, lambda conn: due_for_purge(conn, ledger.clock()))
    assert due
    with pytest.raises(ServerClockReplaced, match="is not PostgreSQL's own"):
        sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    _untouched(ledger, sha)
    ledger.close()


def test_footage_is_due_only_once_past_its_deadline_by_the_clocks_tolerance(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team (session 18): a sweep whose clock was 110 s ahead, within the two minutes
    clocks may differ by, destroyed footage a minute before its deadline."""
    ledger, sid, sha = _ingested(data_dir, tmp_path)
    deadline = ledger.segment_info(sid).retention_deadline
    assert deadline is not None
    for offset, status in ((timedelta(minutes=1), "skipped"), (timedelta(minutes=3), "purged")):
        ledger.clock.set(deadline + offset)
        due = read_views(ledger, lambda conn: due_for_purge(conn, ledger.clock()))
        done = sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
        assert [o.status for o in done.outcomes] == [status], done.outcomes
    assert not open_vault(ledger).has_blob(sha)
    ledger.close()


def test_a_clock_stepped_back_mid_run_stops_the_run_before_the_next_batch(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team (session 18): NTP stepped the clock back 5 minutes after the first batch;
    the next batches destroyed files whose purge the ledger then refused to record. The
    clock is checked again before each batch."""
    ledger = footage_ledger(data_dir)
    summary = ingest_paths(ledger, [clip(tmp_path / "in", i) for i in range(3)], camera=CAMERA,
                           actor=STAFF)  # fmt: skip
    shas = [ledger.segment_info(o.segment_id or "").sha256 for o in summary.outcomes]
    ledger.clock.set(LATER)
    due = read_views(ledger, lambda conn: due_for_purge(conn, LATER))

    def step_back(step: str, _segment: str) -> None:
        if step == "recorded":
            ledger.clock.set(LATER - timedelta(minutes=5))

    done = sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service(), batch=1,
                 fail_at=step_back)  # fmt: skip
    # the first batch's purge is reported, not hidden behind the refusal (the session 18
    # review), and the refusal says what was done and what was not
    assert [o.status for o in done.outcomes] == ["purged"]
    assert done.stopped is not None and "behind the ledger's last recorded act" in done.stopped
    assert "the 2 segments still due were not touched" in done.stopped
    assert "nothing was" not in done.stopped
    vault = open_vault(ledger)
    assert [vault.has_blob(s) for s in shas] == [False, True, True]
    assert len(_purges(ledger)) == 1 and vault.interrupted_destroys() == []
    ledger.close()


def test_on_sqlite_the_time_since_boot_catches_a_clock_set_ahead_since_the_last_sweep(
    sqlite_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team (session 18): on SQLite, under ``faketime +11d``, the sweep destroyed
    footage ten days early and, once real time passed, nothing showed it. The kernel's
    time since boot does not move with the wall clock: the last sweep's reading, carried
    forward, is a second clock on the same machine (``ledger.host_clock``)."""
    from ledger import host_clock

    boot = ["boot-1", 1000.0]
    monkeypatch.setattr(host_clock, "since_boot", lambda: (boot[0], boot[1]))
    ledger, _, sha = _ingested(sqlite_data_dir, tmp_path)
    anchor = sqlite_data_dir / host_clock.ANCHOR
    real = datetime.now(UTC)
    ledger.clock = lambda: real  # type: ignore[method-assign]
    ledger.check_clock_to_destroy()  # the first sweep: nothing to compare with; kept
    assert json.loads(anchor.read_text())["wall"] == real.isoformat()
    assert oct(anchor.stat().st_mode & 0o777) == "0o600"

    boot[1] += 86400  # a day later, by both clocks: agrees
    ledger.clock = lambda: real + timedelta(days=1, seconds=30)  # type: ignore[method-assign]
    ledger.check_clock_to_destroy()

    boot[1] += 60  # a minute later since boot, eleven days later by the wall clock
    ledger.clock = lambda: real + timedelta(days=12)  # type: ignore[method-assign]
    due = read_views(ledger, lambda conn: due_for_purge(conn, ledger.clock()))
    assert due
    with pytest.raises(ClockDisagrees, match="ahead of where this host's time since boot") as e:
        sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    assert str(anchor) in str(e.value)
    _untouched(ledger, sha)
    # refused: the anchor keeps the reading the checks agreed with
    assert (
        json.loads(anchor.read_text())["wall"] == (real + timedelta(days=1, seconds=30)).isoformat()
    )

    boot[0] = "boot-2"  # after a reboot there is nothing to compare with
    ledger.check_clock_to_destroy()
    ledger.close()


def test_a_data_directory_the_sweep_cannot_write_is_a_clear_refusal(
    sqlite_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session 18 review: a data directory the sweep could not write its clock anchor
    to stopped it with a raw OSError. (The tests run as root, whom file modes do not stop,
    so the write itself is made to fail.)"""
    from ledger import host_clock

    def read_only(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    ledger, _, sha = _ingested(sqlite_data_dir, tmp_path)
    monkeypatch.setattr(host_clock, "since_boot", lambda: ("boot-1", 1000.0))
    monkeypatch.setattr(host_clock.tempfile, "mkstemp", read_only)
    ledger.clock = system_clock  # type: ignore[method-assign]
    due = read_views(ledger, lambda conn: due_for_purge(conn, ledger.clock()))
    with pytest.raises(DataDirError, match="cannot keep this sweep's time in .*Permission denied"):
        sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    _untouched(ledger, sha)
    ledger.close()
