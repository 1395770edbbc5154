"""One proof for many leaves (ledger.merkle.multi_inclusion_proof): a provable report's
entries share the upper nodes of their paths. Checked against the naive RFC 9162 MTH."""

from __future__ import annotations

import random

import pytest

from ledger.merkle import (
    InclusionProofInvalid,
    leaf_hash,
    multi_inclusion_nodes,
    multi_inclusion_proof,
    root_from_multi_proof,
)
from tests.unit.test_merkle import build, flipped, naive_mth


def _leaves(entries: list[bytes], indices: list[int]) -> dict[int, bytes]:
    return {i: leaf_hash(entries[i]) for i in indices}


def test_every_subset_of_small_trees_recomputes_the_naive_root() -> None:
    for size in range(1, 13):
        entries = [f"entry {i}".encode() for i in range(size)]
        store, _roots = build(entries)
        root = naive_mth([leaf_hash(e) for e in entries])
        for mask in range(1, 1 << size):
            indices = [i for i in range(size) if mask >> i & 1]
            proof = multi_inclusion_proof(indices, size, store)
            assert root_from_multi_proof(_leaves(entries, indices), size, proof) == root


def test_a_changed_leaf_or_hash_and_a_proof_of_the_wrong_length_fail() -> None:
    rng = random.Random(13)
    entries = [f"e{i}".encode() for i in range(1000)]
    store, _roots = build(entries)
    root = naive_mth([leaf_hash(e) for e in entries])
    indices = sorted(rng.sample(range(1000), 40))
    proof = multi_inclusion_proof(indices, 1000, store)
    leaves = _leaves(entries, indices)
    assert root_from_multi_proof(leaves, 1000, proof) == root
    changed = {**leaves, indices[3]: leaf_hash(b"forged")}
    assert root_from_multi_proof(changed, 1000, proof) != root
    for k in range(len(proof)):
        bad = [*proof[:k], flipped(proof[k]), *proof[k + 1 :]]
        assert root_from_multi_proof(leaves, 1000, bad) != root
    with pytest.raises(InclusionProofInvalid, match="too few"):
        root_from_multi_proof(leaves, 1000, proof[:-1])
    with pytest.raises(InclusionProofInvalid, match="more hashes"):
        root_from_multi_proof(leaves, 1000, [*proof, proof[0]])
    with pytest.raises(InclusionProofInvalid, match="within a tree"):
        root_from_multi_proof({1000: leaf_hash(b"x")}, 1000, proof)
    # a leaf claimed at another index gives another root
    moved = {i + 1 if i == indices[0] else i: h for i, h in leaves.items()}
    if indices[0] + 1 not in leaves:
        assert root_from_multi_proof(moved, 1000, proof) != root


def test_shared_paths_make_the_proof_smaller_than_separate_paths() -> None:
    size = 1 << 14
    entries = [i.to_bytes(4, "big") for i in range(size)]
    store, _roots = build(entries)
    recent = list(range(size - 300, size, 3))  # a month's entries at the log's end
    proof = multi_inclusion_proof(recent, size, store)
    assert len(proof) < len(recent) * 14 / 4
    assert len(multi_inclusion_nodes(recent, size)) >= len(proof)
    assert root_from_multi_proof(_leaves(entries, recent), size, proof) == naive_mth(
        [leaf_hash(e) for e in entries]
    )
