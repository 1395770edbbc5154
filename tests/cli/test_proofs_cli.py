"""`custodes prove --consistency`, `verify-proof` and the offline `witness cosign`
through click: exit codes, stderr text and --json."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner


def invoke(data: Path | None, *args: str, code: int | None = 0, env: dict | None = None) -> Result:
    head = ["--data-dir", str(data)] if data is not None else []
    result = CustodesRunner().invoke(custodes, [*head, *args], obj=ManualClock(NOW), env=env)
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    invoke(path, "init", "--director", DIRECTOR, "--library", "Test Library")
    return path


def grow(data: Path, n: int) -> None:
    """``n`` more entries, one act each (init writes 5)."""
    for _ in range(n):
        name = f"cam-{uuid.uuid4().hex[:8]}"
        invoke(data, "camera", "add", name, "--location", "Lobby", "--zone", "public",
               "--signage-posted", "--as", DIRECTOR)  # fmt: skip


def checkpoint(data: Path, out: Path) -> Path:
    invoke(data, "checkpoint", "--out", str(out))
    return out


def test_a_consistency_proof_to_a_fresh_checkpoint_verifies_without_the_ledger(
    data: Path, tmp_path: Path
) -> None:
    old = checkpoint(data, tmp_path / "old.checkpoint")
    grow(data, 3)
    made = invoke(data, "prove", "--consistency", str(old), "--out", str(tmp_path / "c.json"))
    assert "the checkpoint of 8 entries extends the one of 5 entries" in made.stderr
    proof = json.loads((tmp_path / "c.json").read_text())
    assert proof["format"] == "custodes-consistency-proof/1"
    assert (proof["old_size"], proof["new_size"]) == (5, 8)
    assert proof["old_checkpoint"] == old.read_text()
    pem = tmp_path / "library.pem"
    invoke(data, "keys", "export-public", "--out", str(pem))
    vkey = tmp_path / "library.vkey"
    vkey.write_text(invoke(data, "keys", "export-public", "--vkey").stdout)
    # Someone with no ledger at all: no data directory exists where they run it.
    elsewhere = tmp_path / "nowhere"
    for key in (pem, vkey):
        ok = invoke(
            elsewhere,
            "verify-proof",
            str(tmp_path / "c.json"),
            "--key",
            str(key),
            "--checkpoint",
            str(old),
            "--json",
        )
        result = json.loads(ok.stdout)
        assert (result["ok"], result["old_size"], result["checkpoint_size"]) == (True, 5, 8)
    assert not elsewhere.exists()


def test_a_consistency_proof_between_two_given_checkpoints(data: Path, tmp_path: Path) -> None:
    grow(data, 1)
    old = checkpoint(data, tmp_path / "old")
    grow(data, 2)
    new = checkpoint(data, tmp_path / "new")
    grow(data, 1)  # the ledger has grown past the new checkpoint: no matter
    invoke(data, "prove", "--consistency", str(old), str(new), "--out", str(tmp_path / "c.json"))
    proof = json.loads((tmp_path / "c.json").read_text())
    assert (proof["old_size"], proof["new_size"]) == (6, 8)
    assert proof["new_checkpoint"] == new.read_text()
    out = invoke(data, "verify-proof", str(tmp_path / "c.json"))
    assert out.stdout.startswith("OK: the signed checkpoint of 8 entries extends the one of 6")
    wrong = invoke(
        data, "prove", "--consistency", str(new), str(old), "--out", str(tmp_path / "x"), code=1
    )
    assert "name the older checkpoint first" in wrong.stderr


def test_verify_proof_exits_3_when_the_proof_or_a_signature_was_changed(
    data: Path, tmp_path: Path
) -> None:
    old = checkpoint(data, tmp_path / "old")
    grow(data, 2)
    invoke(data, "prove", "--consistency", str(old), "--out", str(tmp_path / "c.json"))
    proof = json.loads((tmp_path / "c.json").read_text())
    raw = bytearray(base64.b64decode(proof["consistency_path"][0]))
    raw[0] ^= 1
    bad = {
        **proof,
        "consistency_path": [base64.b64encode(bytes(raw)).decode(), *proof["consistency_path"][1:]],
    }
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    failed = invoke(data, "verify-proof", str(tmp_path / "bad.json"), code=3)
    assert "consistency proof fails" in failed.stderr
    resigned = {**proof, "new_checkpoint": proof["new_checkpoint"].replace("\n7\n", "\n8\n", 1)}
    (tmp_path / "resigned.json").write_text(json.dumps(resigned))
    forged = invoke(data, "verify-proof", str(tmp_path / "resigned.json"), code=3)
    assert "the new checkpoint does not verify" in forged.stderr
    (tmp_path / "junk.json").write_text('{"format": "something/1"}')
    junk = invoke(data, "verify-proof", str(tmp_path / "junk.json"), code=1)
    assert "not a Custodes proof file: format 'something/1'" in junk.stderr


def test_an_inclusion_proof_checks_against_the_checkpoint_the_verifier_holds(
    data: Path, tmp_path: Path
) -> None:
    grow(data, 2)
    cp = checkpoint(data, tmp_path / "cp")
    invoke(data, "prove", "3", "--checkpoint", str(cp), "--out", str(tmp_path / "p.json"))
    pem = tmp_path / "library.pem"
    invoke(data, "keys", "export-public", "--out", str(pem))
    ok = invoke(
        None, "verify-proof", str(tmp_path / "p.json"), "--key", str(pem), "--checkpoint", str(cp)
    )
    assert ok.stdout.startswith("OK: entry 3 is in the signed checkpoint of 7 entries of custodes/")
    grow(data, 1)
    later = checkpoint(data, tmp_path / "later")
    other = invoke(
        None,
        "verify-proof",
        str(tmp_path / "p.json"),
        "--key",
        str(pem),
        "--checkpoint",
        str(later),
        code=1,
    )
    assert "the proof is for a tree of size 7, the checkpoint for 8" in other.stderr
    proof = json.loads((tmp_path / "p.json").read_text())
    proof["entry"]["topic"] = "ledger.staff:StaffMember.StaffMemberDeactivated"
    (tmp_path / "edited.json").write_text(json.dumps(proof))
    edited = invoke(None, "verify-proof", str(tmp_path / "edited.json"), "--key", str(pem), code=3)
    assert "the entry's fields do not hash to its entry hash" in edited.stderr


def test_verify_proof_needs_a_key_when_there_is_no_ledger(data: Path, tmp_path: Path) -> None:
    cp = checkpoint(data, tmp_path / "cp")
    invoke(data, "prove", "1", "--checkpoint", str(cp), "--out", str(tmp_path / "p.json"))
    missing = invoke(tmp_path / "none", "verify-proof", str(tmp_path / "p.json"), code=2)
    assert "name the library's public key: --key FILE" in missing.stderr


def test_prove_usage_errors(data: Path, tmp_path: Path) -> None:
    cp = checkpoint(data, tmp_path / "cp")
    assert "needs --checkpoint" in invoke(data, "prove", "1", "--out", "x", code=2).stderr
    assert "name the event" in invoke(data, "prove", "--out", "x", code=2).stderr
    both = invoke(
        data, "prove", "--consistency", str(cp), "--checkpoint", str(cp), "--out", "x", code=2
    )
    assert "name the new checkpoint as the argument" in both.stderr


def test_a_rewritten_ledger_cannot_prove_it_extends_an_old_checkpoint(
    data: Path, tmp_path: Path, cli_database: str
) -> None:
    from sqlalchemy import create_engine, text

    from ledger.datadir import DataDir
    from tests.chain_rewrite import rechain_from
    from tests.integration.test_proofs import TABLE, _drop_tree

    grow(data, 2)
    old = checkpoint(data, tmp_path / "old")
    url = DataDir.open(data).database_url
    engine = create_engine(url)
    with engine.begin() as conn:  # swap two payloads, re-chain and re-sign from there
        s6, s7 = (
            bytes(conn.execute(text(f"SELECT state FROM {TABLE} WHERE id = {i}")).scalar_one())
            for i in (6, 7)
        )
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 6"), {"s": s7})
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 7"), {"s": s6})
    engine.dispose()
    rechain_from(data, 6)
    _drop_tree(url)
    refused = invoke(data, "prove", "--consistency", str(old), "--out", str(tmp_path / "c"), code=3)
    assert "today's ledger does not extend it" in refused.stderr
    assert not (tmp_path / "c").exists()


def test_the_offline_witness_cosigns_from_files_and_refuses_a_stale_proof(
    data: Path, tmp_path: Path
) -> None:
    wdir = tmp_path / "board-laptop"
    env = {"CUSTODES_WITNESS_DIR": str(wdir)}
    vkey = invoke(None, "witness", "init", "--name", "board.example/laptop", env=env).stdout.strip()
    log = invoke(data, "keys", "export-public", "--vkey").stdout.strip()
    invoke(None, "witness", "add-log", log, env=env)
    first = checkpoint(data, tmp_path / "first")
    invoke(None, "witness", "cosign", str(first), "--out", str(tmp_path / "board-1"), env=env)
    grow(data, 2)
    invoke(
        data,
        "prove",
        "--consistency",
        str(tmp_path / "board-1"),
        "--out",
        str(tmp_path / "for-board.json"),
    )
    made = invoke(
        None,
        "witness",
        "cosign",
        str(tmp_path / "for-board.json"),
        "--out",
        str(tmp_path / "board-2"),
        env=env,
    )
    assert "Cosigned by board.example/laptop" in made.stderr
    shown = json.loads(invoke(None, "witness", "show", "--json", env=env).stdout)
    assert shown["vkey"] == vkey
    assert shown["logs"][0]["cosigned_size"] == 7
    (tmp_path / "policy").write_text(f"log {log}\nwitness board {vkey}\nquorum board\n")
    ok = invoke(
        data,
        "verify",
        "--against",
        str(tmp_path / "board-2"),
        "--witness-policy",
        str(tmp_path / "policy"),
    )
    assert "Cosigned as the witness policy requires by: board" in ok.stdout
    # The same proof again starts from 5, the witness is at 7 now: 409, exit 1.
    stale = invoke(None, "witness", "cosign", str(tmp_path / "for-board.json"), env=env, code=1)
    assert "this witness last cosigned 7 entries of that log" in stale.stderr
    # A proof whose path was altered is a rewrite as far as the witness can tell: exit 3.
    grow(data, 1)
    invoke(
        data,
        "prove",
        "--consistency",
        str(tmp_path / "board-2"),
        "--out",
        str(tmp_path / "next.json"),
    )
    proof = json.loads((tmp_path / "next.json").read_text())
    raw = bytearray(base64.b64decode(proof["consistency_path"][-1]))
    raw[5] ^= 1
    proof["consistency_path"][-1] = base64.b64encode(bytes(raw)).decode()
    (tmp_path / "next.json").write_text(json.dumps(proof))
    refused = invoke(None, "witness", "cosign", str(tmp_path / "next.json"), env=env, code=3)
    assert "not cosigned (422)" in refused.stderr


@pytest.mark.sqlite_only
def test_restore_against_a_cosigned_checkpoint_checks_the_witness_policy(
    data: Path, tmp_path: Path
) -> None:
    wdir = tmp_path / "w"
    env = {"CUSTODES_WITNESS_DIR": str(wdir)}
    vkey = invoke(None, "witness", "init", "--name", "board.example/laptop", env=env).stdout.strip()
    log = invoke(data, "keys", "export-public", "--vkey").stdout.strip()
    invoke(None, "witness", "add-log", log, env=env)
    grow(data, 1)
    cp = checkpoint(data, tmp_path / "cp")
    invoke(None, "witness", "cosign", str(cp), "--out", str(tmp_path / "cosigned"), env=env)
    invoke(data, "backup", "--out", str(tmp_path / "b.backup"))
    (tmp_path / "policy").write_text(f"log {log}\nwitness board {vkey}\nquorum board\n")
    restored = invoke(
        None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(tmp_path / "r1"),
        "--against", str(tmp_path / "cosigned"), "--witness-policy", str(tmp_path / "policy"),
    )  # fmt: skip
    assert "cosigned as the witness policy requires by: board" in restored.stdout
    unwitnessed = invoke(
        None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(tmp_path / "r2"),
        "--against", str(cp), "--witness-policy", str(tmp_path / "policy"), code=1,
    )  # fmt: skip
    assert "is not cosigned as the witness policy requires (witness board)" in unwitnessed.stderr
    assert not (tmp_path / "r2").exists()
