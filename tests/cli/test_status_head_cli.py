"""`custodes status` says its chain head is as stored, and checks the head row itself.

An edited `position` used to show as the chain length, exit 0. Now status checks the
head row's own entry hash, state digest and link to the entry before it (one row, no
walk): a failed check is shown and the command exits 3; an intact head is shown with
a note that the chain was not verified here, and how far the stored Merkle tree (last
verify, checkpoint or backup) reaches. Both databases; the quick path (DB-API alone) and
the ledger's path say the same.
"""

from __future__ import annotations

import json
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


def run(data_dir: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW)
    )
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    run(path, "init", "--director", DIRECTOR, "--library", "Test Library")
    return path


def _slow(data: Path) -> dict[str, object]:
    ctx = Context(data_dir=data, clock=ManualClock(NOW))
    try:
        return _status_from_the_ledger(ctx)
    finally:
        ctx.close()


def test_an_intact_head_is_checked_and_said_to_be_unverified(data: Path) -> None:
    from ledger.status import NOT_VERIFIED

    shown = json.loads(run(data, "status", "--json").stdout)
    assert shown["head_check"] == "ok (the head row's own hash and link)"
    assert shown["chain_note"] == NOT_VERIFIED
    before = shown["verified_tree_size"]
    run(data, "verify")
    after = json.loads(run(data, "status", "--json").stdout)
    assert after["verified_tree_size"] == after["chain_length"] != before
    text = run(data, "status").stdout.splitlines()
    assert f"chain note               {NOT_VERIFIED}" in text
    assert quick_status(DataDir.open(data)) == _slow(data)


@pytest.mark.parametrize(
    "sql,problem",
    [
        (
            "UPDATE ledger_events SET position = 999 WHERE position = {n}",
            "the head row's entry hash does not match its fields (position 999)",
        ),
        (
            "UPDATE ledger_events SET entry_hash = prev_hash WHERE position = {n}",
            "the head row's entry hash does not match its fields (position {n})",
        ),
    ],
)
def test_an_edited_head_is_exit_3_not_a_longer_chain(data: Path, sql: str, problem: str) -> None:
    n = json.loads(run(data, "status", "--json").stdout)["chain_length"]
    execute(data, sql.format(n=n))
    failed = run(data, "status", "--json", code=3)
    shown = json.loads(failed.stdout)
    assert shown["head_check"] == "FAILED: " + problem.format(n=n)
    # Only then is the whole chain walked, to name the first damaged position.
    assert f"ledger verification FAILED at position {n}: " in failed.stderr
    assert "the chain head as stored fails its own check" in failed.stderr
    assert _slow(data)["head_check"] == shown["head_check"]
