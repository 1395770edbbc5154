"""`custodes verify --record` records what it found (issue 17 review): as the member
signed in at this terminal, else (cron) as the service identity; a failure too; and where
the ledger cannot take the event, it says so and the exit code is the verification's.
Without --record, verify writes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.app import open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.unlock import UnlockStore
from tests.cli.db_helpers import execute
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, session


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


def _verifications(data: Path) -> list[dict[str, object]]:
    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    try:
        from ledger.verification_records import VerificationRecord

        return [
            {k: getattr(e, k) for k in ("actor", "actor_role", "entries", "via")}
            for e in led._events_of(VerificationRecord.LedgerVerified)
        ]
    finally:
        led.close()


def test_an_unattended_verify_is_recorded_by_the_service_identity(data: Path) -> None:
    shown = json.loads(run(data, "verify", "--record", "--json").stdout)
    assert shown["recorded"] == "in the ledger"
    [recorded] = _verifications(data)
    assert recorded == {"actor": "Custodes service", "actor_role": "service",
                        "entries": shown["entries"], "via": "command line"}  # fmt: skip
    run(data, "verify")  # the recorded verification itself verifies (its role may sign it)


def test_a_member_signed_in_at_the_terminal_signs_it(data: Path) -> None:
    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    signer = session(led, DIRECTOR)
    led.close()
    UnlockStore(data).save(signer, NOW + timedelta(minutes=10), NOW)
    run(data, "verify", "--record")
    assert [v["actor"] for v in _verifications(data)] == [DIRECTOR]


def test_a_failed_verification_is_kept_beside_the_chain_and_exits_3(data: Path) -> None:
    """Never appended to the damaged chain: an entry after a truncated tail would change
    how the damage shows."""
    execute(data, "UPDATE ledger_events SET prev_hash = entry_hash WHERE id = 3")
    result = run(data, "verify", "--record", "--json", code=3)
    assert json.loads(result.stdout)["recorded"].startswith("kept in ")
    assert "nothing is appended to a chain that fails verification" in result.stderr
    assert _verifications(data) == []
    kept = json.loads((data / "verification-failure.json").read_text())
    assert kept["actor"] == "command line"
    assert kept["problem"].startswith("ledger verification FAILED at position 3")


@pytest.mark.sqlite_only
def test_an_ok_verification_the_ledger_cannot_take_is_said_and_kept_nowhere(data: Path) -> None:
    execute(data, "CREATE TRIGGER refuse BEFORE INSERT ON ledger_events "
            "BEGIN SELECT RAISE(ABORT, 'appends refused'); END")  # fmt: skip
    result = run(data, "verify", "--record")
    assert "warning: this verification was not recorded in the ledger (" in result.stderr
    assert "appends refused" in result.stderr
    assert not (data / "verification-failure.json").exists()


def test_without_record_verify_writes_nothing(data: Path) -> None:
    """A copy handed to a lawyer stays as it was: no event, no file, the head unchanged."""
    before = json.loads(run(data, "status", "--json").stdout)["chain_length"]
    assert json.loads(run(data, "verify", "--json").stdout)["recorded"] is None
    assert _verifications(data) == []
    assert json.loads(run(data, "status", "--json").stdout)["chain_length"] == before
    execute(data, "UPDATE ledger_events SET prev_hash = entry_hash WHERE id = 3")
    run(data, "verify", code=3)
    assert not (data / "verification-failure.json").exists()


def test_record_is_for_whole_chain_verifications(data: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.checkpoint"
    run(data, "checkpoint", "--out", str(kept))
    refused = run(data, "verify", "--record", "--against", str(kept), code=2)
    assert "--record keeps whole-chain verifications" in refused.stderr
