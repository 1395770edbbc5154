"""`restore --against` checks the kept checkpoint's cosignatures under a witness policy
the RESTORING operator brings (issue 13, item 8): the backup cannot vouch for its own
witnesses. The policy comes as a file (--witness-policy) or as its SHA-256
(--witness-policy-sha256): the text is then the one the backup's ledger recorded with
that digest, read with the events key. Backups are of the embedded SQLite ledger."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.identity import DIRECTOR
from tests.integration.test_witness_loopback import Running, _add_entries, cli, write_policy
from tests.integration.test_witness_loopback import witnesses as witnesses  # noqa: F401

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Backups are of the embedded SQLite ledger only (PostgreSQL: pg_dump, whose copy
    is checked with verify --against), so this module's ledger is on SQLite."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}?timeout=15"


def _recorded_and_backed_up(data: Path, tmp: Path, witnesses: dict[str, Running]) -> Path:
    policy = write_policy(tmp / "board.policy", data, witnesses, "quorum board")
    cli(data, "witness", "policy", "set", str(policy), "--reason", "board resolution 7",
        "--as", DIRECTOR)  # fmt: skip
    _add_entries(data, 2)
    made = cli(data, "checkpoint", "--witness", "board", "--out", str(tmp / "kept.checkpoint"))
    assert "Witness quorum (witness board) met" in made.stderr
    _add_entries(data, 1)
    cli(data, "backup", "--out", str(tmp / "b.backup"))
    return policy


def _restore(tmp: Path, target: str, *args: str, code: int = 0):  # noqa: ANN202
    return cli(tmp / "unused", "restore", str(tmp / "b.backup"), "--data-dir", str(tmp / target),
               "--against", str(tmp / "kept.checkpoint"), *args, code=code)  # fmt: skip


def test_the_policy_is_the_operators_by_file_or_by_its_digest(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    policy = _recorded_and_backed_up(data_dir, tmp_path, witnesses)
    digest = hashlib.sha256(policy.read_bytes()).hexdigest()
    keys = ("--keys-from", str(data_dir / "keys"))

    by_digest = _restore(tmp_path, "r1", "--witness-policy-sha256", digest.upper(), *keys)
    assert "cosigned as the witness policy requires by: board" in by_digest.stdout
    assert f"Witness policy SHA-256 {digest}, from the backup's ledger" in by_digest.stdout
    as_json = json.loads(
        _restore(tmp_path, "r2", "--witness-policy-sha256", digest, *keys, "--json").stdout
    )
    assert as_json["against"]["policy_source"] == "ledger"
    assert as_json["against"]["policy_sha256"] == digest
    assert set(as_json["against"]["witnesses"]) == {"board"}

    by_file = _restore(tmp_path, "r3", "--witness-policy", str(policy))
    assert f"Witness policy SHA-256 {digest}, from your file" in by_file.stdout

    # A digest the ledger recorded no policy for (the operator's policy is not the
    # backup's): refused, nothing restored; the backup cannot substitute its own.
    stricter = write_policy(tmp_path / "both.policy", data_dir, witnesses, "quorum neighbour")
    other = hashlib.sha256(stricter.read_bytes()).hexdigest()
    refused = _restore(tmp_path, "r4", "--witness-policy-sha256", other, *keys, code=1)
    assert f"records no witness policy with SHA-256 {other}" in refused.stderr
    assert digest[:16] in refused.stderr  # what it does record, to compare with the minutes
    assert not (tmp_path / "r4").exists()

    # The stricter policy as a file: the kept checkpoint lacks the neighbour's cosignature.
    short = _restore(tmp_path, "r5", "--witness-policy", str(stricter), code=None)
    assert short.exit_code != 0 and "neighbour" in short.stderr
    assert not (tmp_path / "r5").exists()

    # The digest needs the events key (the recorded text is encrypted) and --against.
    no_keys = _restore(tmp_path, "r6", "--witness-policy-sha256", digest, code=1)
    assert "needs the events key (--keys-from DIR)" in no_keys.stderr
    both = _restore(tmp_path, "r7", "--witness-policy-sha256", digest, "--witness-policy",
                    str(policy), *keys, code=2)  # fmt: skip
    assert "not both" in both.stderr
    bad = _restore(tmp_path, "r8", "--witness-policy-sha256", "abc", *keys, code=1)
    assert "64 hexadecimal digits" in bad.stderr
    assert not any((tmp_path / f"r{i}").exists() for i in range(6, 9))
