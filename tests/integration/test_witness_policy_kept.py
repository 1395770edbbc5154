"""The ledger keeps its witness policy (issue 13, item 8): the Director records it, then
`checkpoint` asks its witnesses and `verify --against` checks the cosignatures without
--witness-policy; anyone else is refused (WITNESS-POLICY, recorded), and a policy that
does not list this ledger with its key records nothing."""

from __future__ import annotations

from pathlib import Path

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.witness.cosignature import cosignatures
from tests.conftest import NOW
from tests.identity import DIRECTOR, enrol, open_test_ledger
from tests.integration.test_witness_loopback import Running, _add_entries, cli, write_policy
from tests.integration.test_witness_loopback import witnesses as witnesses  # noqa: F401


def test_the_recorded_policy_is_the_one_checkpoint_and_verify_use(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    policy = write_policy(tmp_path / "p", data_dir, witnesses, "quorum board")
    assert cli(data_dir, "witness", "policy", "show", code=1).exit_code == 1
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    enrol(ledger, "Sam Staff", "staff")
    ledger.close()
    refused = cli(
        data_dir, "witness", "policy", "set", str(policy), "--reason", "board", "--as",
        "Sam Staff", code=1,
    )  # fmt: skip
    assert "WITNESS-POLICY" in refused.stderr
    set_ = cli(
        data_dir, "witness", "policy", "set", str(policy), "--reason", "board resolution",
        "--as", DIRECTOR,
    )  # fmt: skip
    assert "Witness policy recorded" in set_.stderr
    assert cli(data_dir, "witness", "policy", "show").stdout == policy.read_text()

    _add_entries(data_dir, 1)
    made = cli(data_dir, "checkpoint", "--out", str(tmp_path / "c"))
    assert "Witness quorum (witness board) met" in made.stderr
    note = (tmp_path / "c").read_text()
    assert set(cosignatures(note, [witnesses["board"].witness.vkey])) == {"board.example/witness"}
    ok = cli(data_dir, "verify", "--against", str(tmp_path / "c"))
    assert "Cosigned as the witness policy requires by: board" in ok.stdout

    # A checkpoint without the board's cosignature does not meet the recorded policy.
    uncosigned = note.split("\n\n")[0] + "\n\n" + note.split("\n\n")[1].splitlines()[0] + "\n"
    (tmp_path / "bare").write_text(uncosigned)
    short = cli(data_dir, "verify", "--against", str(tmp_path / "bare"), code=None)
    assert short.exit_code != 0
    assert "board" in short.stderr


def test_a_policy_that_does_not_list_this_ledger_records_nothing(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    other = tmp_path / "other"
    lines = write_policy(tmp_path / "p", data_dir, witnesses, "quorum board").read_text()
    log_line = next(line for line in lines.splitlines() if line.startswith("log "))
    other.write_text(lines.replace(log_line, "log other.example/log+00000000+" + "A" * 44))
    before = cli(data_dir, "status", "--json").stdout
    refused = cli(
        data_dir, "witness", "policy", "set", str(other), "--reason", "x", "--as", DIRECTOR,
        code=None,
    )  # fmt: skip
    assert refused.exit_code in (1, 2)
    assert cli(data_dir, "status", "--json").stdout == before
