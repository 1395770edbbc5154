"""One clear line and the right exit code, nothing recorded (issue 14, finding 11):
`footage frame --at nan`, `log --start 99999999999999999999`, a read-only data directory,
a full disk. The read-only and full cases are real: a read-only bind mount and a small
tmpfs (this needs root, as on the development machines and CI; without it the tests fail
rather than skip)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import count_events
from tests.conftest import NOW
from tests.identity import CustodesRunner

D = "Dana Director"


def run(data: Path, *args: str, code: int) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(NOW)
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )  # a clean exit, never an exception escaping the command
    return result


def one_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@contextmanager
def mounted(*args: str) -> Iterator[None]:
    """A mount for the length of a test (root only: fail, never skip, without it)."""
    target = args[-1]
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount ({done.stderr.strip()}): these tests need root, as CI has")
    try:
        yield
    finally:
        subprocess.run(["umount", "--lazy", target], check=True)  # open SQLite handles


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    with mounted("--bind", str(path), str(path)):
        remount = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(path)], capture_output=True, text=True
        )
        assert remount.returncode == 0, remount.stderr
        yield


@contextmanager
def full_disk(path: Path, size: str = "2m") -> Iterator[Path]:
    """A small tmpfs at ``path``; the yielded filler takes all its free space."""
    path.mkdir(parents=True, exist_ok=True)
    with mounted("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)):
        yield path / ".filler"


def fill(filler: Path) -> None:
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    st = os.statvfs(filler.parent)
    assert st.f_bavail * st.f_frsize < 8192


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    run(path, "init", "--director", D, code=0)
    return path


@pytest.mark.parametrize("at", ["nan", "inf", "-inf", "-1"])
def test_a_frame_time_that_is_not_a_time_is_a_usage_error(data: Path, at: str) -> None:
    before = count_events(data)
    result = run(data, "footage", "frame", "0123456789ab", "--at", at, "--out",
                 str(data.parent / "s.png"), "--reason", "r", "--as", D, code=2)  # fmt: skip
    assert "is not a time in the clip: give seconds as a number from 0" in result.stderr
    assert count_events(data) == before and not (data.parent / "s.png").exists()


def test_a_start_beyond_any_event_number_is_a_usage_error(data: Path) -> None:
    result = run(data, "log", "--start", "99999999999999999999", code=2)
    assert "99999999999999999999 is not in the range 1<=x<=9223372036854775807" in result.stderr
    assert run(data, "log", "--start", "9223372036854775807", code=0).stdout.count("\n") == 2


@pytest.mark.sqlite_only  # the embedded database lives in the data directory
def test_a_read_only_data_directory_is_one_line_not_a_traceback(data: Path) -> None:
    before = count_events(data)
    with read_only(data):
        verify = run(data, "verify", code=1)
        assert "is in a read-only place (its file system is mounted read-only)" in one_line(verify)
        flag = run(data, "staff", "add", "Sam Staff", "--role", "staff", "--as", D, code=1)
        assert "read-only" in one_line(flag) and "nothing was recorded" in flag.stderr
    assert count_events(data) == before


def test_a_read_only_data_directory_with_the_ledger_elsewhere_still_verifies(
    data: Path, cli_database: str
) -> None:
    if cli_database == "sqlite":
        return  # the case above
    with read_only(data):
        verify = run(data, "verify", "--json", code=0)
    assert '"ok": true' in verify.stdout


def test_a_full_disk_at_the_output_is_one_line_and_leaves_nothing(
    data: Path, tmp_path: Path
) -> None:
    before = count_events(data)
    with full_disk(tmp_path / "small") as filler:
        fill(filler)
        for args in (
            ["checkpoint", "--out"],
            ["keys", "export-public", "--out"],
            [
                "report",
                "compliance",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "--format",
                "pdf",
                "--as",
                D,
                "--out",
            ],  # fmt: skip
        ):
            out = filler.parent / "out.file"
            result = run(data, *args, str(out), code=1)
            assert f"cannot write {out}: No space left on device; nothing was written" in (
                one_line(result)
            ), args
            assert sorted(p.name for p in filler.parent.iterdir()) == [".filler"]
    assert count_events(data) == before  # no report was written, so none recorded as issued


@pytest.mark.sqlite_only  # the embedded database on the full disk
def test_a_full_disk_under_the_database_is_one_line_and_records_nothing(tmp_path: Path) -> None:
    with full_disk(tmp_path / "small", size="4m") as filler:
        data = filler.parent / "data"
        run(data, "init", "--director", D, code=0)
        before = rows(data)
        fill(filler)
        result = run(data, "staff", "add", "Sam Staff", "--role", "staff", "--as", D, code=1)
        assert f"the disk holding the ledger database {data / 'ledger.sqlite'} is full" in (
            one_line(result)
        )
        assert "nothing was recorded" in result.stderr
        filler.unlink()
        assert rows(data) == before


def rows(data: Path) -> int:
    """Events in the embedded database, through a connection closed at once (the tmpfs
    under it is unmounted after the test)."""
    conn = sqlite3.connect(data / "ledger.sqlite")
    try:
        return int(conn.execute("SELECT count(*) FROM ledger_events").fetchone()[0])
    finally:
        conn.close()
