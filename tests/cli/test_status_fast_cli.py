"""``custodes status`` answers with the DB-API alone (issue 16, speed a person feels):
without SQLAlchemy or eventsourcing, with the same answer the ledger application gives,
on SQLite and on PostgreSQL (also in a consortium member's schema); and where anything is
amiss it opens the ledger, which reports the problem as before."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from cli.common import Context
from cli.main import custodes
from cli.status_cmd import _status_from_the_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.status import quick_status
from tests.cli.db_helpers import execute
from tests.conftest import NOW
from tests.identity import CustodesRunner

DIRECTOR = "Dana Director"
HEAVY = ("sqlalchemy", "eventsourcing", "eventsourcing_sqlalchemy", "argon2", "ledger.app")


def run(data_dir: Path, *args: str) -> Result:
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW)
    )


def _ledger(tmp_path: Path) -> Path:
    """A ledger whose site has more than its first event (a recorded settings change)."""
    path = tmp_path / "data dir #1"  # a path a SQLite URI must quote
    made = run(path, "init", "--director", DIRECTOR, "--library", "Bibliothèque d'Été")
    assert made.exit_code == 0, made.output
    changed = run(
        path, "retention", "settings", "--schedule-id", "25-012", "--schedule-item", "7",
        "--certificate-ref", "LRA-DC-2026", "--reason", "board resolution", "--as", DIRECTOR,
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    return path


def _status_in_a_process(data_dir: Path, *args: str) -> tuple[int, str, str, set[str]]:
    """``custodes status`` as a person runs it, and every module it imported."""
    probe = (
        "import sys; from cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "--data-dir", str(data_dir), "status", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    lines = done.stderr.split()
    return done.returncode, done.stdout, done.stderr, set(lines)


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY)


def _schemas(cli_database: str) -> list[str | None]:
    # A consortium member's schema exists only on PostgreSQL.
    return [None] if cli_database == "sqlite" else [None, "lib_mahomet"]


def test_status_reads_without_the_ledger_and_says_what_the_ledger_says(
    tmp_path: Path, cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for schema in _schemas(cli_database):
        if schema is not None:
            monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", schema)
        data_dir = _ledger(tmp_path / (schema or "plain"))
        full = _status_from_the_ledger(Context(data_dir=data_dir, clock=ManualClock(NOW)))
        assert full["events"] == 6 and full["library"] == "Bibliothèque d'Été"
        assert full["database_schema"] == (schema or "")
        assert quick_status(DataDir.open(data_dir)) == full

        code, out, err, modules = _status_in_a_process(data_dir, "--json")
        assert code == 0, err[-2000:]
        assert json.loads(out) == full
        assert _heavy(modules) == [], schema
        assert "ledger.status" in modules
        code, text, err, _ = _status_in_a_process(data_dir)
        assert code == 0, err[-2000:]
        assert f"chain head               {full['chain_head']}" in text.splitlines()
        assert "library                  Bibliothèque d'Été" in text.splitlines()


def test_a_damaged_site_event_is_left_to_the_ledger_which_reports_it(tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path)
    execute(
        data_dir,
        "UPDATE ledger_events SET topic = 'ledger.site:Site.PolicyAdopted' "
        "WHERE topic = 'ledger.site:Site.SiteInitialised'",
    )
    assert quick_status(DataDir.open(data_dir)) is None
    code, _out, err, modules = _status_in_a_process(data_dir)
    assert code == 3, err[-2000:]
    assert "verification FAILED" in err
    assert "eventsourcing" in modules  # the ledger was opened to say what is wrong


def test_a_wrong_events_key_is_left_to_the_ledger_which_names_it(tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path)
    key = data_dir / "keys" / "events.key"
    key.write_bytes(base64.b64encode(secrets.token_bytes(32)))  # a key, not this ledger's
    assert quick_status(DataDir.open(data_dir)) is None
    code, _out, err, _modules = _status_in_a_process(data_dir)
    assert code == 1
    assert "does not belong to this ledger" in err
