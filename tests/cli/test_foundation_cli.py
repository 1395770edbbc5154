"""The foundation's commands through click and through the installed `custodes` script."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import count_events, write_lock_held
from tests.conftest import NOW
from tests.identity import CustodesRunner, passphrase_file

DIRECTOR = "Dana Director"
INIT = 5  # init's one act: the site, the Director and her key, the service and its key


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], env=env, obj=ManualClock(NOW)
    )


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    result = run(path, "init", "--director", DIRECTOR, "--library", "Test Library")
    assert result.exit_code == 0, result.output
    return path


def _count_events(data_dir: Path) -> int:
    return count_events(data_dir)


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    if group is custodes:
        custodes.load()  # every command module, as a run of each command would
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.sqlite_only  # help text touches no database
@pytest.mark.parametrize(
    "path, command", _commands(custodes), ids=[" ".join(p) for p, _ in _commands(custodes)]
)
def test_every_command_has_help_with_an_example(
    path: tuple[str, ...], command: click.Command
) -> None:
    result = CustodesRunner().invoke(custodes, [*path, "-h"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "Example" in result.output, f"custodes {' '.join(path)} -h shows no example"


def test_init_creates_the_data_directory_with_private_keys(ledger_dir: Path) -> None:
    mode = stat.S_IMODE((ledger_dir / "keys" / "events.key").stat().st_mode)
    assert mode == 0o600
    assert json.loads((ledger_dir / "custodes.json").read_text())["format"] == "custodes-data-dir/1"
    assert _count_events(ledger_dir) == INIT


def test_init_twice_is_refused_and_changes_nothing(ledger_dir: Path) -> None:
    before = (ledger_dir / "keys" / "events.key").read_bytes()
    result = run(ledger_dir, "init", "--director", "Someone Else")
    assert result.exit_code == 1
    assert "is already a Custodes data directory; nothing changed" in result.stderr
    assert (ledger_dir / "keys" / "events.key").read_bytes() == before


def test_init_on_a_database_holding_a_ledger_is_refused_by_name_and_leaves_nothing(
    ledger_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_database: str
) -> None:
    """Red team (session 17): refused with "Invalid cipher tag" (the other ledger's first
    event), the new data directory and its keys left behind."""
    if cli_database == "sqlite":  # on PostgreSQL the URL already names the same database
        monkeypatch.setenv("CUSTODES_DATABASE_URL", f"sqlite:///{ledger_dir / 'ledger.sqlite'}")
    before = _count_events(ledger_dir)
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o700)
    for second, left in ((tmp_path / "second", False), (empty, True)):
        result = run(second, "init", "--director", "Erin Else", "--library", "Another")
        assert result.exit_code == 1, result.output
        assert f"holds a ledger already ({before} entries): nothing was recorded" in result.stderr
        assert second.exists() is left and (not left or not any(second.iterdir()))
    assert _count_events(ledger_dir) == before


def test_a_directory_that_is_not_a_ledger_is_named_with_the_fix(tmp_path: Path) -> None:
    result = run(tmp_path, "status")
    assert result.exit_code == 1
    assert f"{tmp_path} is not a Custodes data directory" in result.stderr
    assert "custodes init --director NAME" in result.stderr


def test_a_missing_events_key_is_reported_and_verify_still_works(ledger_dir: Path) -> None:
    (ledger_dir / "keys" / "events.key").rename(ledger_dir / "moved.key")
    result = run(ledger_dir, "staff", "list")
    assert result.exit_code == 1
    assert "events key" in result.stderr and "is missing" in result.stderr
    verified = run(ledger_dir, "verify")
    assert verified.exit_code == 0
    assert f"OK: {INIT} entries verify" in verified.stdout


def test_a_wrong_events_key_is_refused_before_use(ledger_dir: Path) -> None:
    (ledger_dir / "keys" / "events.key").write_bytes(
        b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY="
    )
    result = run(ledger_dir, "staff", "add", "Sam", "--role", "staff", "--as", DIRECTOR)
    assert result.exit_code == 1
    assert "does not belong to this ledger" in result.stderr
    assert _count_events(ledger_dir) == INIT


def test_an_unknown_option_value_is_a_usage_error(ledger_dir: Path) -> None:
    result = run(ledger_dir, "staff", "add", "Sam", "--role", "janitor", "--as", DIRECTOR)
    assert result.exit_code == 2
    assert "'janitor' is not one of" in result.stderr
    assert _count_events(ledger_dir) == INIT


def test_an_unknown_actor_is_refused_and_the_refusal_recorded(ledger_dir: Path) -> None:
    result = run(ledger_dir, "staff", "add", "Sam", "--role", "staff", "--as", "Mallory")
    assert result.exit_code == 1
    assert (
        "STAFF-ACTIVE (Policy V-A, V-B): 'Mallory' is not a registered staff member"
        in result.stderr
    )
    log = json.loads(run(ledger_dir, "log", "--kind", "AccessDenied", "--json").stdout)
    # what a stranger typed is not kept (web red team, session 16: a passphrase typed in the
    # name box was): its length, and the member it is near, if any
    assert [(e["actor"], e["details"]["rule_id"], e["details"]["action"]) for e in log] == [
        ("(an unknown name of 7 characters: not recorded)", "STAFF-ACTIVE", "sign in")
    ]
    assert log[0]["details"]["authenticated"] is False


def test_only_a_director_adds_staff_and_a_deactivated_member_cannot_act(ledger_dir: Path) -> None:
    assert (
        run(ledger_dir, "staff", "add", "Sam", "--role", "staff", "--as", DIRECTOR).exit_code == 0
    )
    refused = run(ledger_dir, "staff", "add", "Eve", "--role", "director", "--as", "Sam")
    assert refused.exit_code == 1
    assert (
        "STAFF-KEY-ENROLMENT (Policy V-A, V-B (attribution)): Sam (staff) may not add staff "
        "members; only director may" in refused.stderr
    )
    assert (
        run(
            ledger_dir, "staff", "deactivate", "Sam", "--reason", "left", "--as", DIRECTOR
        ).exit_code
        == 0
    )
    gone = run(ledger_dir, "staff", "add", "Eve", "--role", "staff", "--as", "Sam")
    assert gone.exit_code == 1
    assert "'Sam' is deactivated" in gone.stderr
    staff = json.loads(run(ledger_dir, "staff", "list", "--json").stdout)
    assert [(m["name"], m["role"], m["active"]) for m in staff] == [
        ("Custodes service", "service", True),
        ("Dana Director", "director", True),
        ("Sam", "staff", False),
    ]
    assert staff[2]["key_id"] is None  # deactivation revoked Sam's key


def test_the_actor_can_come_from_the_environment(ledger_dir: Path) -> None:
    result = run(
        ledger_dir, "staff", "add", "Sam", "--role", "staff", env={"CUSTODES_ACTOR": DIRECTOR}
    )
    assert result.exit_code == 0, result.output
    entries = json.loads(run(ledger_dir, "log", "--by", DIRECTOR, "--json").stdout)
    assert [e["kind"] for e in entries] == [
        "SiteInitialised",
        *["StaffMemberAdded", "KeyEnrolled"] * 3,  # the Director, the service, Sam
        "ConfidentialRecordRead",  # this very reading of the log, recorded before it (R27)
    ]
    assert all(e["actor_role"] == "director" for e in entries)


def test_log_pages_and_filters_by_date(ledger_dir: Path) -> None:
    for n in range(3):
        later = ManualClock(datetime(2026, 11, 3 + n, 10, 0, tzinfo=UTC))
        args = [
            "--data-dir",
            str(ledger_dir),
            "staff",
            "add",
            f"S{n}",
            "--role",
            "staff",
            "--as",
            DIRECTOR,
        ]
        assert CustodesRunner().invoke(custodes, args, obj=later).exit_code == 0

    def run(data_dir: Path, *args: str) -> Result:  # after those acts: time moves forward
        return CustodesRunner().invoke(
            custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW + timedelta(4))
        )

    page = json.loads(run(ledger_dir, "log", "--start", "2", "--limit", "2", "--json").stdout)
    assert [e["notification_id"] for e in page] == [2, 3]
    window = json.loads(
        run(
            ledger_dir, "log", "--kind", "StaffMemberAdded", "--from", "2026-11-04",
            "--to", "2026-11-04", "--json",
        ).stdout
    )  # fmt: skip
    assert [e["details"]["name"] for e in window] == ["S1"]  # --to includes its whole day
    bad = run(ledger_dir, "log", "--from", "yesterday")
    assert bad.exit_code == 2
    assert "'yesterday' is not a date or a time" in bad.stderr


def test_status_reports_where_and_how_big_without_the_password(ledger_dir: Path) -> None:
    data = json.loads(run(ledger_dir, "status", "--json").stdout)
    assert data["events"] == INIT and data["chain_length"] == INIT
    assert data["library"] == "Test Library"
    assert len(data["events_key_fingerprint"]) == 16
    from ledger.store import redact_url

    assert redact_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_a_locked_database_fails_cleanly_and_records_nothing(ledger_dir: Path) -> None:
    with write_lock_held(ledger_dir):
        result = run(
            ledger_dir,
            "staff",
            "add",
            "Sam",
            "--role",
            "staff",
            "--as",
            DIRECTOR,
            env={"CUSTODES_LOCK_TIMEOUT": "0.2", "CUSTODES_LOCK_RETRIES": "1"},
        )
    assert result.exit_code == 75  # EX_TEMPFAIL: nothing recorded, safe to run again
    assert "stayed locked by another writer" in result.stderr
    assert "2 attempts" in result.stderr
    assert "safe to run the same command again" in result.stderr
    assert _count_events(ledger_dir) == INIT
    again = run(ledger_dir, "staff", "add", "Sam", "--role", "staff", "--as", DIRECTOR)
    assert again.exit_code == 0, again.output
    assert _count_events(ledger_dir) == INIT + 2  # the member and their key


@pytest.mark.sqlite_only  # a read-only SQLite URI
def test_a_read_only_database_fails_cleanly(ledger_dir: Path) -> None:
    url = f"sqlite:///file:{ledger_dir / 'ledger.sqlite'}?mode=ro&uri=true"
    result = run(
        ledger_dir,
        "staff",
        "add",
        "Sam",
        "--role",
        "staff",
        "--as",
        DIRECTOR,
        env={"CUSTODES_DATABASE_URL": url},
    )
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert _count_events(ledger_dir) == INIT


def test_the_installed_script_runs_init_and_verify(tmp_path: Path) -> None:
    script = shutil.which("custodes", path=str(Path(sys.executable).parent)) or shutil.which(
        "custodes"
    )
    assert script, "the console script `custodes` is not installed"
    env = {
        **os.environ,
        "CUSTODES_DATA_DIR": str(tmp_path / "d"),
        "CUSTODES_NEW_PASSPHRASE_FILE": str(passphrase_file(DIRECTOR)),
    }
    init = subprocess.run(
        [script, "init", "--director", DIRECTOR], env=env, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    verify = subprocess.run([script, "verify", "--json"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["entries"] == INIT
    usage = subprocess.run([script, "staff", "add"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2


def test_a_passphrase_protected_signing_key_is_needed_for_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "data"
    secret = {"CUSTODES_SIGNING_PASSPHRASE": "correct horse battery"}
    made = run(path, "init", "--director", DIRECTOR, "--protect-signing-key", env=secret)
    assert made.exit_code == 0, made.output
    assert b"ENCRYPTED PRIVATE KEY" in (path / "keys" / "signing.pem").read_bytes()
    signed = run(path, "checkpoint", env=secret)
    assert signed.exit_code == 0, signed.output
    assert signed.stdout.splitlines()[1] == str(INIT)  # tree size line of the signed note
    wrong = run(path, "checkpoint", env={"CUSTODES_SIGNING_PASSPHRASE": "wrong horse"})
    assert wrong.exit_code == 1
    assert "cannot use the signing key" in wrong.stderr


@pytest.mark.sqlite_only  # a read-only SQLite URI
def test_a_read_only_database_still_verifies(ledger_dir: Path) -> None:
    url = f"sqlite:///file:{ledger_dir / 'ledger.sqlite'}?mode=ro&uri=true"
    result = run(ledger_dir, "verify", env={"CUSTODES_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert f"OK: {INIT} entries verify" in result.stdout
