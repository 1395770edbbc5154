"""Checkpoints, inclusion proofs and consistency against a signed checkpoint (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cli.main import custodes
from ledger.app import open_ledger
from ledger.chain import GENESIS, chain_columns
from ledger.checkpoint import generate_signing_key, sign_checkpoint
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import (
    InclusionProof,
    MerkleProofFailed,
    check_inclusion,
    issue_checkpoint,
    open_chain,
    prove,
    read_checkpoint,
    verify_chain,
)
from tests.conftest import NOW

TABLE = "ledger_events"


def _add_staff(data_dir: Path, *names: str) -> None:
    ledger = open_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    for name in names:
        ledger.clock.set(NOW)
        ledger.add_staff(name, "staff", actor="Dana Director")
    ledger.close()


def _cli(data_dir: Path, *args: str):  # noqa: ANN202
    return CliRunner().invoke(custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW))


def _checkpoint(data_dir: Path, out: Path) -> Path:
    result = _cli(data_dir, "checkpoint", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _drop_tree(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}_tree_nodes"))
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}_tree"))
    engine.dispose()


def _rechain_from(url: str, first_id: int) -> None:
    """What a careful insider does: rewrite every chain column from first_id on."""
    engine = create_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                f"SELECT id, originator_id, originator_version, topic, state FROM {TABLE} ORDER BY id"
            )
        ).all()
        head = conn.execute(
            text(f"SELECT position, entry_hash FROM {TABLE} WHERE id = :i"), {"i": first_id - 1}
        ).one_or_none()
        later = [r for r in rows if r[0] >= first_id]
        oid = lambda o: o.bytes if hasattr(o, "bytes") else bytes(o)  # noqa: E731
        links = chain_columns(
            ((r[0], oid(r[1]), r[2], r[3], bytes(r[4])) for r in later),
            head[0] if head else 0,
            bytes(head[1]) if head else GENESIS,
        )
        for r, (position, digest, prev, h) in zip(later, links, strict=True):
            conn.execute(
                text(
                    f"UPDATE {TABLE} SET position = :p, state_digest = :d, prev_hash = :v, "
                    "entry_hash = :h WHERE id = :i"
                ),
                {"p": position, "d": digest, "v": prev, "h": h, "i": r[0]},
            )
    engine.dispose()


def test_an_inclusion_proof_recomputes_to_the_signed_root(data_dir: Path, tmp_path: Path) -> None:
    _add_staff(data_dir, "Ann", "Ben", "Cy")
    dd = DataDir.open(data_dir)
    origin = open_ledger(dd, clock=ManualClock(NOW)).site().log_origin
    cp, note = issue_checkpoint(
        open_chain(dd), origin=origin, signing_key=dd.signing_key(None), now=NOW
    )
    assert cp.size == 5
    for event in range(1, 6):
        proof = prove(open_chain(dd), event, cp, note)
        again = InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
        check_inclusion(again, cp)
    tampered = proof.to_json()
    tampered["entry"]["topic"] = "ledger.staff:StaffMember.StaffMemberDeactivated"
    with pytest.raises(MerkleProofFailed, match="do not hash to its entry hash"):
        check_inclusion(InclusionProof.from_json(tampered), cp)


def test_prove_writes_a_proof_that_reveals_only_its_own_entry(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_staff(data_dir, "Ann", "Ben")
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")
    result = _cli(
        data_dir, "prove", "3", "--checkpoint", str(cp), "--out", str(tmp_path / "p.json")
    )
    assert result.exit_code == 0, result.output
    proof = json.loads((tmp_path / "p.json").read_text())
    assert proof["entry"]["position"] == 3
    assert proof["tree_size"] == 4
    assert len(proof["inclusion_path"]) == 2  # log2(4): two sibling subtree hashes
    assert "state" not in proof["entry"]


def test_verify_against_a_checkpoint_sees_a_consistent_truncation_plain_verify_cannot(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_staff(data_dir, "Ann", "Ben", "Cy", "Di")
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")  # 6 entries
    url = DataDir.open(data_dir).database_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {TABLE} WHERE id > 4"))
    engine.dispose()
    _drop_tree(url)  # the insider rewrites the head and witness consistently

    plain = _cli(data_dir, "verify")
    assert plain.exit_code == 0, plain.output
    assert "OK: 4 entries verify" in plain.stdout

    against = _cli(data_dir, "verify", "--against", str(cp))
    assert against.exit_code == 3
    assert "covers 6 entries but the ledger now has 4 (truncated at position 5)" in against.stderr


def test_verify_against_a_checkpoint_sees_a_consistent_rewrite(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_staff(data_dir, "Ann", "Ben", "Cy")
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")
    url = DataDir.open(data_dir).database_url
    engine = create_engine(url)
    with engine.begin() as conn:  # swap two payloads, then re-chain everything after
        s3, s4 = (
            bytes(conn.execute(text(f"SELECT state FROM {TABLE} WHERE id = {i}")).scalar_one())
            for i in (3, 4)
        )
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 3"), {"s": s4})
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 4"), {"s": s3})
    engine.dispose()
    _rechain_from(url, 3)
    _drop_tree(url)

    assert _cli(data_dir, "verify").exit_code == 0
    against = _cli(data_dir, "verify", "--against", str(cp))
    assert against.exit_code == 3
    assert "does not extend it" in against.stderr


def test_a_rewrite_that_leaves_the_old_tree_is_caught_against_the_checkpoint(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_staff(data_dir, "Ann", "Ben", "Cy")
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")
    url = DataDir.open(data_dir).database_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {TABLE} SET topic = 'forged' WHERE id = 4"))
    engine.dispose()
    _rechain_from(url, 4)
    against = _cli(data_dir, "verify", "--against", str(cp))
    assert against.exit_code == 3
    assert "the stored Merkle tree does not match the chain entries" in against.stderr


def test_a_checkpoint_signed_by_another_key_is_refused(data_dir: Path, tmp_path: Path) -> None:
    dd = DataDir.open(data_dir)
    origin = open_ledger(dd, clock=ManualClock(NOW)).site().log_origin
    cp, _ = issue_checkpoint(
        open_chain(dd), origin=origin, signing_key=dd.signing_key(None), now=NOW
    )
    forged = sign_checkpoint(cp, generate_signing_key(), origin)
    (tmp_path / "forged.txt").write_text(forged)
    result = _cli(data_dir, "verify", "--against", str(tmp_path / "forged.txt"))
    assert result.exit_code == 1
    assert "checkpoint rejected" in result.stderr
    with pytest.raises(Exception, match="checkpoint rejected"):
        read_checkpoint(forged, dd.public_key(), origin)


def test_the_tree_grows_with_each_verification(data_dir: Path) -> None:
    dd = DataDir.open(data_dir)
    reader = open_chain(dd)
    assert verify_chain(reader).count == 2
    assert reader.tree_state()[0] == 2
    _add_staff(data_dir, "Ann")
    assert verify_chain(reader).count == 3
    assert reader.tree_state()[0] == 3
