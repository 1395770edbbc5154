"""The data directory stays private (issue 14, finding 9): `init` into an existing 0755
directory leaves it 0700 and the database 0600, and every later command takes group and
other permissions off the directory, keys/ and the database, saying what it changed."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.conftest import NOW
from tests.identity import CustodesRunner

DIRECTOR = "Dana Director"


def run(data_dir: Path, *args: str) -> Result:
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW)
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_into_an_existing_0755_directory_makes_it_private(
    tmp_path: Path, cli_database: str
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    result = run(data, "init", "--director", DIRECTOR)
    assert result.exit_code == 0, result.output
    assert f"tightened {data} from mode 0755 to 0700" in result.stderr
    assert mode(data) == 0o700
    assert mode(data / "keys") == 0o700
    for key in ("events.key", "signing.pem", "pseudonym.key", "footage_site.key"):
        assert mode(data / "keys" / key) == 0o600
    if cli_database == "sqlite":
        for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
            if (data / name).exists():
                assert mode(data / name) == 0o600, name
        assert (data / "ledger.sqlite").stat().st_size > 0


def test_every_command_takes_group_and_other_permissions_away_and_says_so(
    tmp_path: Path, cli_database: str
) -> None:
    data = tmp_path / "data"
    assert run(data, "init", "--director", DIRECTOR).exit_code == 0
    fresh = run(data, "status")
    assert fresh.exit_code == 0 and "tightened" not in fresh.stderr  # init left it private
    loosened = [data, data / "keys", data / "keys" / "events.key", data / "keys" / "pseudonym.key"]
    if cli_database == "sqlite":
        loosened.append(data / "ledger.sqlite")
    for path in loosened:
        path.chmod(0o755 if path.is_dir() else 0o644)

    result = run(data, "status")
    assert result.exit_code == 0, result.output
    for path in loosened:
        was = "0755" if path.is_dir() else "0644"
        now = "0700" if path.is_dir() else "0600"
        assert f"tightened {path} from mode {was} to {now} (private data)" in result.stderr
        assert mode(path) == int(now, 8)
    again = run(data, "status")
    assert again.exit_code == 0
    assert "tightened" not in again.stderr


def test_an_owner_read_only_directory_stays_read_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "init", "--director", DIRECTOR).exit_code == 0
    patrons = data / "keys" / "patrons"
    patrons.mkdir()
    patrons.chmod(0o555)
    result = run(data, "staff", "list")
    assert result.exit_code == 0, result.output
    assert f"tightened {patrons} from mode 0555 to 0500" in result.stderr
    assert mode(patrons) == 0o500
