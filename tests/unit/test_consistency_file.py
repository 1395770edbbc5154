"""The consistency proof file (custodes-consistency-proof/1) and verify-proof's checks,
for every pair of sizes up to 64 against RFC 9162's PROOF written out independently
(tests/unit/test_merkle_properties.py), and the published RFC 9162 vectors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import InvalidInput
from ledger.integrity import LedgerTampered, MerkleProofFailed
from ledger.merkle import MemoryNodeStore, MerkleAppender, leaf_hash
from ledger.proof_files import (
    CONSISTENCY_FORMAT,
    ConsistencyProof,
    consistency_from_store,
    verify_proof_data,
)
from tests.soak import SOAK
from tests.unit.test_merkle import CONSISTENCY_VECTORS, LEAVES
from tests.unit.test_merkle_properties import mth, proof

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
ORIGIN = "custodes/00000000-0000-4000-8000-000000000001"
KEY = Ed25519PrivateKey.from_private_bytes(b"\x05" * 32)
MAX_SIZE = 64


def tree(entries: list[bytes]) -> MemoryNodeStore:
    store = MemoryNodeStore()
    store.put_many(MerkleAppender().append([leaf_hash(e) for e in entries]))
    return store


def signed(size: int, entries: list[bytes]) -> tuple[Checkpoint, str]:
    cp = Checkpoint(ORIGIN, size, mth(entries[:size]), NOW)
    return cp, sign_checkpoint(cp, KEY, ORIGIN)


ENTRIES = [b"chain entry %d" % i for i in range(MAX_SIZE)]
STORE = tree(ENTRIES)
CHECKPOINTS = [signed(n, ENTRIES) for n in range(MAX_SIZE + 1)]


@pytest.mark.heavy(seconds=5)
def test_every_pair_of_sizes_up_to_64_is_the_rfc_proof_and_verifies_from_its_file() -> None:
    public = KEY.public_key()
    for new in range(1, MAX_SIZE + 1):
        for old in range(1, new + 1):
            (old_cp, old_note), (new_cp, new_note) = CHECKPOINTS[old], CHECKPOINTS[new]
            made = consistency_from_store(STORE, MAX_SIZE, old_cp, old_note, new_cp, new_note)
            expected = proof(old, ENTRIES[:new]) if old < new else []
            assert made.path == expected, (old, new)
            data = json.loads(json.dumps(made.to_json()))
            report = verify_proof_data(data, public)
            assert (report.old_size, report.checkpoint_size) == (old, new)
            # Each hash of the path changed in turn under CUSTODES_SOAK=1; in the suite one
            # per pair, a different index from pair to pair (old mod the path's length).
            path = range(len(made.path))
            for i in path if SOAK else path[old % len(path) :][:1] if path else []:
                bad = json.loads(json.dumps(data))
                raw = bytearray(made.path[i])
                raw[i % 32] ^= 0x80
                bad["consistency_path"][i] = ConsistencyProof(
                    0, b"", 0, b"", [bytes(raw)], "", ""
                ).to_json()["consistency_path"][0]
                with pytest.raises(MerkleProofFailed, match="consistency proof fails"):
                    verify_proof_data(bad, public)


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_the_rfc_9162_vectors_through_the_file_format(
    old: int, new: int, expected: list[str]
) -> None:
    store = tree(LEAVES)
    (old_cp, old_note), (new_cp, new_note) = signed(old, LEAVES), signed(new, LEAVES)
    made = consistency_from_store(store, len(LEAVES), old_cp, old_note, new_cp, new_note)
    assert [h.hex() for h in made.path] == expected
    assert made.to_json()["format"] == CONSISTENCY_FORMAT
    verify_proof_data(made.to_json(), KEY.public_key())


def test_a_ledger_that_no_longer_extends_the_old_checkpoint_cannot_prove_it() -> None:
    rewritten = [b"rewritten %d" % i for i in range(10)]
    old_cp, old_note = CHECKPOINTS[4]
    new_cp, new_note = signed(10, rewritten)
    with pytest.raises(LedgerTampered, match="today's ledger does not extend it"):
        consistency_from_store(tree(rewritten), 10, old_cp, old_note, new_cp, new_note)
    with pytest.raises(LedgerTampered, match="does not have the root its signed checkpoint has"):
        consistency_from_store(STORE, MAX_SIZE, old_cp, old_note, new_cp, new_note)


def test_checkpoints_in_the_wrong_order_or_beyond_the_tree_are_refused() -> None:
    (a, a_note), (b, b_note) = CHECKPOINTS[3], CHECKPOINTS[9]
    with pytest.raises(InvalidInput, match="is larger than the new one"):
        consistency_from_store(STORE, MAX_SIZE, b, b_note, a, a_note)
    with pytest.raises(InvalidInput, match="this ledger's verified tree 8"):
        consistency_from_store(STORE, 8, a, a_note, b, b_note)


def test_a_proof_between_other_checkpoints_than_the_one_held_is_refused() -> None:
    made = consistency_from_store(STORE, MAX_SIZE, *CHECKPOINTS[3], *CHECKPOINTS[9])
    with pytest.raises(
        InvalidInput, match="starts from a tree of size 3, the old checkpoint is of size 5"
    ):
        verify_proof_data(made.to_json(), KEY.public_key(), trusted=CHECKPOINTS[5][1])
    verify_proof_data(made.to_json(), KEY.public_key(), trusted=CHECKPOINTS[3][1])


def test_a_checkpoint_signed_by_another_key_fails_as_tampering() -> None:
    made = consistency_from_store(STORE, MAX_SIZE, *CHECKPOINTS[3], *CHECKPOINTS[9])
    other = Ed25519PrivateKey.from_private_bytes(b"\x06" * 32).public_key()
    with pytest.raises(MerkleProofFailed, match="the old checkpoint does not verify"):
        verify_proof_data(made.to_json(), other)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "x"}, "format is 'x'"),
        ({"old_size": -1}, "non-negative integers"),
        ({"new_size": "9"}, "non-negative integers"),
        ({"old_root": "AAAA"}, "old_root is not a 32-byte hash"),
        ({"consistency_path": "AAAA"}, "must be a list"),
        ({"consistency_path": ["!"]}, r"consistency_path\[0\] is not base64"),
    ],
)
def test_malformed_files_are_refused(change: dict, message: str) -> None:
    data = consistency_from_store(STORE, MAX_SIZE, *CHECKPOINTS[3], *CHECKPOINTS[9]).to_json()
    with pytest.raises(InvalidInput, match=message):
        ConsistencyProof.from_json({**data, **change})
