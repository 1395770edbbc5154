"""Properties of the RFC 9162 tree for arbitrary sizes, against the RFC's own definitions.

tests/unit/test_merkle.py checks the published vectors and every size up to 64. Here the
tree is larger and drawn at random, and MTH, PATH and PROOF are re-written below straight
from RFC 9162 §2.1 with hashlib alone, so they share no code with ledger.merkle.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    MemoryNodeStore,
    MerkleAppender,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from tests.soak import size

MAX_SIZE = 1100  # past 2**10: ten levels, ragged right edges
PROPERTY = settings(max_examples=size(75, 150), deadline=None)  # CUSTODES_SOAK=1: 150


# ---- RFC 9162 §2.1, written out --------------------------------------------------------------


def rfc_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def rfc_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return rfc_leaf(d[0])
    k = split_point(len(d))
    return rfc_node(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1 (':' appends, so the leaf's sibling comes first)."""
    if len(d) == 1:
        return []
    k = split_point(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split_point(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


# ---- trees ----------------------------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn, min_size: int = 1) -> list[bytes]:
    """Distinct entries (the chain's entry hashes are distinct)."""
    size = draw(st.integers(min_size, MAX_SIZE))
    salt = draw(st.binary(max_size=8))
    return [salt + i.to_bytes(4, "big") for i in range(size)]


def stored(entries: list[bytes], batches: list[int] | None = None) -> MemoryNodeStore:
    store = MemoryNodeStore()
    appender = MerkleAppender()
    leaves = [leaf_hash(e) for e in entries]
    start = 0
    for width in [*(batches or []), len(leaves)]:
        store.put_many(appender.append(leaves[start : start + width]))
        start = min(start + width, len(leaves))
    return store


def flipped(value: bytes, index: int, mask: int) -> bytes:
    index %= len(value)
    return value[:index] + bytes([value[index] ^ mask]) + value[index + 1 :]


byte_flips = st.tuples(st.integers(0, 31), st.integers(1, 255))


# ---- roots ----------------------------------------------------------------------------------


@PROPERTY
@given(trees(min_size=0), st.lists(st.integers(0, 40), max_size=12), st.data())
def test_the_root_at_every_size_is_the_rfc_mth_however_the_leaves_were_batched(
    entries: list[bytes], batches: list[int], data: st.DataObject
) -> None:
    store = stored(entries, batches)
    assert root_at(len(entries), store) == mth(entries)
    m = data.draw(st.integers(0, len(entries)))
    assert root_at(m, store) == mth(entries[:m])
    assert mth([]) == EMPTY_ROOT


@PROPERTY
@given(trees(min_size=0), st.data())
def test_an_appender_resumed_from_the_store_at_any_size_ends_at_the_same_root(
    entries: list[bytes], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(entries)))
    store = stored(entries[:cut])
    resumed = MerkleAppender(cut, store)
    store.put_many(resumed.append([leaf_hash(e) for e in entries[cut:]]))  # never rewrites
    assert resumed.root() == mth(entries) == root_at(len(entries), store)


# ---- inclusion ------------------------------------------------------------------------------


@PROPERTY
@given(trees(), st.data())
def test_an_inclusion_proof_is_the_rfc_path_and_verifies(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    index = data.draw(st.integers(0, n - 1))
    size = data.draw(st.integers(index + 1, n))
    p = inclusion_proof(index, size, stored(entries))
    assert p == path(index, entries[:size])
    verify_inclusion(rfc_leaf(entries[index]), index, size, p, mth(entries[:size]))


@PROPERTY
@given(trees(), st.data())
def test_an_inclusion_proof_fails_for_another_leaf_index_or_root(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    index = data.draw(st.integers(0, n - 1))
    root = mth(entries)
    p = inclusion_proof(index, n, stored(entries))
    leaf = rfc_leaf(entries[index])
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(flipped(leaf, *data.draw(byte_flips)), index, n, p, root)
    if n > 1:
        other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index))
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(rfc_leaf(entries[other]), index, n, p, root)
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(leaf, other, n, p, root)
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(leaf, index, n, p, flipped(root, *data.draw(byte_flips)))


@PROPERTY
@given(trees(min_size=2), st.data())
def test_an_inclusion_proof_with_any_byte_changed_or_a_hash_dropped_or_added_fails(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    index = data.draw(st.integers(0, n - 1))
    root, leaf = mth(entries), rfc_leaf(entries[index])
    p = inclusion_proof(index, n, stored(entries))
    at = data.draw(st.integers(0, len(p) - 1))
    bad = [*p[:at], flipped(p[at], *data.draw(byte_flips)), *p[at + 1 :]]
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(leaf, index, n, bad, root)
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(leaf, index, n, [*p[:at], *p[at + 1 :]], root)
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(leaf, index, n, [*p[:at], root, *p[at:]], root)


# ---- consistency ----------------------------------------------------------------------------


@PROPERTY
@given(trees(), st.data())
def test_a_consistency_proof_is_the_rfc_proof_and_verifies_for_any_old_size(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    m = data.draw(st.integers(0, n))
    p = consistency_proof(m, n, stored(entries))
    assert p == ([] if m == 0 else proof(m, entries))
    verify_consistency(m, n, mth(entries[:m]), mth(entries), p)


@PROPERTY
@given(trees(min_size=2), st.data())
def test_a_consistency_proof_fails_when_a_root_or_any_proof_byte_is_changed(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    m = data.draw(st.integers(1, n - 1))
    old, new = mth(entries[:m]), mth(entries)
    p = consistency_proof(m, n, stored(entries))
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(m, n, flipped(old, *data.draw(byte_flips)), new, p)
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(m, n, old, flipped(new, *data.draw(byte_flips)), p)
    at = data.draw(st.integers(0, len(p) - 1))
    bad = [*p[:at], flipped(p[at], *data.draw(byte_flips)), *p[at + 1 :]]
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(m, n, old, new, bad)
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(m, n, old, new, [*p[:at], *p[at + 1 :]])
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(m, n, old, new, [*p[:at], new, *p[at:]])


@PROPERTY
@given(trees(min_size=2), st.data())
def test_rewriting_history_breaks_consistency_and_appending_does_not(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    m = data.draw(st.integers(1, n - 1))
    at = data.draw(st.integers(0, n - 1))
    rewritten = [*entries[:at], b"rewritten " + entries[at], *entries[at + 1 :]]
    p = consistency_proof(m, n, stored(rewritten))
    if at < m:
        # An entry the old tree committed to changed: no proof from today's tree links
        # back to the old root.
        with pytest.raises(ConsistencyProofInvalid):
            verify_consistency(m, n, mth(entries[:m]), mth(rewritten), p)
    else:
        # Only entries after the old tree changed: that is an append, and it is consistent.
        verify_consistency(m, n, mth(entries[:m]), mth(rewritten), p)


@PROPERTY
@given(trees(min_size=3), st.data())
def test_a_consistency_proof_does_not_verify_for_another_old_size(
    entries: list[bytes], data: st.DataObject
) -> None:
    n = len(entries)
    m = data.draw(st.integers(1, n - 1))
    other = data.draw(st.integers(1, n - 1).filter(lambda s: s != m))
    store = stored(entries)
    p = consistency_proof(m, n, store)
    assume(p != consistency_proof(other, n, store))
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(other, n, mth(entries[:other]), mth(entries), p)
