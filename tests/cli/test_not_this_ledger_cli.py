"""``custodes verify`` on a database holding another ledger fails, exit 3 (red team,
session 17): the chain verified OK, as it is intact and signed by its own library's
members; only two warnings said this data directory's keys could not read it. On
PostgreSQL (another library's schema): tests/integration/test_consortium.py."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import custodes
from ledger.verification_commands import FAILURE
from tests.conftest import new_data_dir


@pytest.mark.sqlite_only
def test_verify_fails_on_another_ledgers_database_file(tmp_path: Path) -> None:
    ours, theirs = (new_data_dir(tmp_path / n, None) for n in ("ours", "theirs"))  # type: ignore[arg-type]
    verify = ["--data-dir", str(ours), "verify"]
    assert CliRunner().invoke(custodes, verify).exit_code == 0
    # their whole database, intact, in place of ours (SQLite's own backup: WAL included)
    with (
        closing(sqlite3.connect(theirs / "ledger.sqlite")) as src,
        closing(sqlite3.connect(ours / "ledger.sqlite")) as dst,
    ):
        src.backup(dst)
    swapped = CliRunner().invoke(custodes, [*verify, "--record"])
    assert swapped.exit_code == 3, swapped.output
    assert "FAILED at position 1: not this ledger" in swapped.output
    assert "another ledger" in swapped.output
    # --record keeps the failure in the data directory, never in the chain it judged
    kept = json.loads((ours / FAILURE).read_text())
    assert "position 1: not this ledger" in kept["problem"], kept


@pytest.mark.sqlite_only
def test_every_command_says_not_this_ledger_not_a_cipher_tag(tmp_path: Path) -> None:
    """Before session 18 every other command failed with "database error: Failed to
    deserialise state of stored event ...: Invalid cipher tag" (exit 1), and a rebuild
    with a child process's traceback."""
    ours, theirs = (new_data_dir(tmp_path / n, None) for n in ("ours", "theirs"))  # type: ignore[arg-type]
    with (
        closing(sqlite3.connect(theirs / "ledger.sqlite")) as src,
        closing(sqlite3.connect(ours / "ledger.sqlite")) as dst,
    ):
        src.backup(dst)
    for command in (
        ["backup", "--out", str(tmp_path / "backup.tar")],
        ["checkpoint"],
        ["status"],
        ["log"],
        ["footage", "list"],
        ["clock", "show"],
        ["projections", "rebuild"],
    ):
        result = CliRunner().invoke(custodes, ["--data-dir", str(ours), *command])
        assert result.exit_code == 3, (command, result.output)
        assert "Error: not this ledger: the ledger's first entry does not decrypt" in (
            result.output
        ), command
        assert "cipher tag; nothing" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "backup.tar").exists()
