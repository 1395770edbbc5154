"""`verify --against` judges cosignatures by the witness policy in force AT the checkpoint,
and says which policy and where it came from.

It used to take the policy in force now from the very ledger being checked: whoever
controls that ledger could record `quorum none` after the board cosigned, and an
uncosigned copy of the board's checkpoint then passed. Now, without --witness-policy, the
policy is the one recorded within the checkpoint's size, with a warning that it is the
checked ledger's own claim; --witness-policy FILE and --witness-policy-sha256 HEX (as
`restore --against` takes them) bring the operator's own. Both databases.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.identity import DIRECTOR
from tests.integration.test_witness_loopback import Running, _add_entries, cli, write_policy
from tests.integration.test_witness_loopback import witnesses as witnesses  # noqa: F401


def _set(data_dir: Path, policy: Path) -> str:
    cli(data_dir, "witness", "policy", "set", str(policy), "--reason", "board resolution",
        "--as", DIRECTOR)  # fmt: skip
    return hashlib.sha256(policy.read_bytes()).hexdigest()


def _uncosigned(note: str) -> str:
    head, sigs = note.split("\n\n", 1)
    return head + "\n\n" + sigs.splitlines()[0] + "\n"


def test_the_policy_in_force_at_the_checkpoint_judges_it_and_is_named(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    board = write_policy(tmp_path / "board.policy", data_dir, witnesses, "quorum board")
    board_sha = _set(data_dir, board)
    _add_entries(data_dir, 1)
    cli(data_dir, "checkpoint", "--out", str(tmp_path / "c"))
    # Later, whoever holds the ledger records a policy that asks for nobody.
    lax = write_policy(tmp_path / "lax.policy", data_dir, witnesses, "quorum none")
    lax_sha = _set(data_dir, lax)
    _add_entries(data_dir, 1)
    bare = tmp_path / "bare"
    bare.write_text(_uncosigned((tmp_path / "c").read_text()))

    # The board's policy was in force at the checkpoint: the missing cosignature counts.
    refused = cli(data_dir, "verify", "--against", str(bare), code=None)
    assert refused.exit_code == 1, (refused.stdout, refused.stderr)
    assert "board" in refused.stderr

    ok = json.loads(cli(data_dir, "verify", "--against", str(tmp_path / "c"), "--json").stdout)
    assert "board" in ok["witnesses"]
    assert ok["policy_sha256"] == board_sha
    assert ok["policy_source"] == "ledger"
    assert ok["policy_from"].startswith("the checked ledger itself (recorded at position ")
    assert f"in force at the checkpoint's size {ok['checkpoint_size']})" in ok["policy_from"]
    assert any("the checked ledger's own claim" in w for w in ok["warnings"])
    text = cli(data_dir, "verify", "--against", str(tmp_path / "c"))
    assert f"Witness policy SHA-256 {board_sha}, from the checked ledger itself" in text.stdout
    assert "warning: the witness policy is the checked ledger's own claim" in text.stderr
    assert "--witness-policy-sha256 HEX" in text.stderr

    # The operator's own file: named as such, no warning.
    mine = json.loads(
        cli(
            data_dir,
            "verify",
            "--against",
            str(tmp_path / "c"),
            "--witness-policy",
            str(board),
            "--json",
        ).stdout  # fmt: skip
    )
    assert (mine["policy_sha256"], mine["policy_source"]) == (board_sha, "file")
    assert mine["policy_from"] == str(board)
    assert mine["warnings"] == []

    # A digest the operator holds picks that recorded text, whichever version it is.
    by_digest = json.loads(
        cli(
            data_dir,
            "verify",
            "--against",
            str(bare),
            "--witness-policy-sha256",
            lax_sha.upper(),
            "--json",
        ).stdout  # fmt: skip
    )
    assert (by_digest["policy_sha256"], by_digest["policy_source"]) == (lax_sha, "ledger")
    assert "accepted because its SHA-256 is the one you gave" in by_digest["policy_from"]
    assert by_digest["warnings"] == []

    unknown = cli(data_dir, "verify", "--against", str(bare),
                  "--witness-policy-sha256", "0" * 64, code=1)  # fmt: skip
    assert f"the checked ledger records no witness policy with SHA-256 {'0' * 64}" in (
        unknown.stderr
    )
    assert board_sha[:16] in unknown.stderr and lax_sha[:16] in unknown.stderr


def test_no_policy_at_the_checkpoint_checks_no_cosignatures_and_says_so(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    _add_entries(data_dir, 1)
    cli(data_dir, "checkpoint", "--out", str(tmp_path / "c"))
    _set(data_dir, write_policy(tmp_path / "p", data_dir, witnesses, "quorum board"))
    ok = json.loads(cli(data_dir, "verify", "--against", str(tmp_path / "c"), "--json").stdout)
    assert "witnesses" not in ok and "policy_sha256" not in ok
    assert ok["warnings"][0].startswith(
        f"no witness policy was in force at the checkpoint's size {ok['checkpoint_size']}"
    )


def test_a_digest_without_a_checkpoint_is_a_usage_error(data_dir: Path) -> None:
    usage = cli(data_dir, "verify", "--witness-policy-sha256", "0" * 64, code=2)
    assert "--witness-policy-sha256 checks the checkpoint named by --against" in usage.stderr
