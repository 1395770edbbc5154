"""RFC 9162 Merkle tree: published vectors, then exhaustive checks on small trees."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    MemoryNodeStore,
    MerkleAppender,
    MerkleError,
    NodeMissing,
    TreeSizeInvalid,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)

# Test vectors copied from transparency-dev/merkle, proof/verify_test.go (the RFC 6962
# vectors of google/certificate-transparency's merkle_tree_test). Leaf numbers there are
# 1-based; the indexes below are 0-based.
LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

MAX_SIZE = 64


def naive_mth(hashes: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, written straight from its recursive definition."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(naive_mth(hashes[:k]), naive_mth(hashes[k:]))


def build(entries: list[bytes]) -> tuple[MemoryNodeStore, list[bytes]]:
    """A store holding every perfect subtree, and the root at every size 0..len."""
    store = MemoryNodeStore()
    appender = MerkleAppender()
    roots = [appender.root()]
    for entry in entries:
        store.put_many(appender.append([leaf_hash(entry)]))
        roots.append(appender.root())
    return store, roots


def flipped(value: bytes, position: int = 0) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


ENTRIES = [b"entry %d" % i for i in range(MAX_SIZE)]
STORE, ROOTS_BY_SIZE = build(ENTRIES)
LEAF_HASHES = [leaf_hash(e) for e in ENTRIES]
VECTOR_STORE, _ = build(LEAVES)


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleAppender().root() == EMPTY_ROOT
    assert root_at(0, MemoryNodeStore()) == EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"").hex() == ROOTS[0]
    assert (
        node_hash(b"\x00" * 32, b"\x11" * 32)
        == hashlib.sha256(b"\x01" + b"\x00" * 32 + b"\x11" * 32).digest()
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert root_at(size, VECTOR_STORE).hex() == ROOTS[size - 1]
    appender = MerkleAppender()
    appender.append([leaf_hash(e) for e in LEAVES[:size]])
    assert appender.root().hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_the_published_vectors(
    index: int, size: int, expected: list[str]
) -> None:
    proof = inclusion_proof(index, size, VECTOR_STORE)
    assert [p.hex() for p in proof] == expected
    root = bytes.fromhex(ROOTS[size - 1])
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_the_published_vectors(
    old: int, new: int, expected: list[str]
) -> None:
    proof = consistency_proof(old, new, VECTOR_STORE)
    assert [p.hex() for p in proof] == expected
    verify_consistency(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof
    )


def test_the_appender_root_equals_the_recursive_mth_at_every_size() -> None:
    for size in range(MAX_SIZE + 1):
        assert ROOTS_BY_SIZE[size] == naive_mth(LEAF_HASHES[:size]), size
        assert root_at(size, STORE) == ROOTS_BY_SIZE[size], size


def test_the_appender_stores_each_perfect_subtree_exactly_once() -> None:
    appender = MerkleAppender()
    nodes = appender.append(LEAF_HASHES[:8])
    assert [(level, index) for level, index, _ in nodes] == [
        (0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0),
        (0, 4), (0, 5), (1, 2), (0, 6), (0, 7), (1, 3), (2, 1), (3, 0),
    ]  # fmt: skip
    assert nodes[-1][2] == naive_mth(LEAF_HASHES[:8])


@pytest.mark.parametrize("size", range(MAX_SIZE + 1))
def test_an_appender_rebuilt_from_the_store_continues_identically(size: int) -> None:
    store = MemoryNodeStore()
    original = MerkleAppender()
    store.put_many(original.append(LEAF_HASHES[:size]))
    resumed = MerkleAppender(size, store)
    assert resumed.size == size
    assert resumed.root() == original.root()
    rest = LEAF_HASHES[size:] + [leaf_hash(b"one more")]
    assert resumed.append(rest) == original.append(rest)
    assert resumed.root() == original.root() == naive_mth(LEAF_HASHES + [leaf_hash(b"one more")])


def test_batched_and_single_appends_produce_the_same_nodes() -> None:
    one_by_one = MerkleAppender()
    singles = [node for h in LEAF_HASHES for node in one_by_one.append([h])]
    assert MerkleAppender().append(LEAF_HASHES) == singles


def test_inclusion_proofs_verify_for_every_leaf_of_every_size_and_a_flipped_byte_fails() -> None:
    for size in range(1, MAX_SIZE + 1):
        root = ROOTS_BY_SIZE[size]
        for index in range(size):
            leaf = LEAF_HASHES[index]
            proof = inclusion_proof(index, size, STORE)
            verify_inclusion(leaf, index, size, proof, root)
            with pytest.raises(InclusionProofInvalid):
                verify_inclusion(flipped(leaf), index, size, proof, root)
            with pytest.raises(InclusionProofInvalid):
                verify_inclusion(leaf, index, size, proof, flipped(root, 31))
            for i in range(len(proof)):
                bad = proof[:i] + [flipped(proof[i], i)] + proof[i + 1 :]
                with pytest.raises(InclusionProofInvalid):
                    verify_inclusion(leaf, index, size, bad, root)
            if size > 1:
                other = (index + 1) % size
                with pytest.raises(InclusionProofInvalid):
                    verify_inclusion(leaf, other, size, proof, root)


def test_consistency_proofs_verify_for_every_pair_of_sizes_and_wrong_roots_fail() -> None:
    for new in range(1, MAX_SIZE + 1):
        new_root = ROOTS_BY_SIZE[new]
        for old in range(1, new + 1):
            old_root = ROOTS_BY_SIZE[old]
            proof = consistency_proof(old, new, STORE)
            verify_consistency(old, new, old_root, new_root, proof)
            with pytest.raises(ConsistencyProofInvalid):
                verify_consistency(old, new, flipped(old_root), new_root, proof)
            with pytest.raises(ConsistencyProofInvalid):
                verify_consistency(old, new, old_root, flipped(new_root), proof)
            for i in range(len(proof)):
                bad = proof[:i] + [flipped(proof[i])] + proof[i + 1 :]
                with pytest.raises(ConsistencyProofInvalid):
                    verify_consistency(old, new, old_root, new_root, bad)
            if proof:
                with pytest.raises(ConsistencyProofInvalid):
                    verify_consistency(old, new, old_root, new_root, proof[:-1])
                with pytest.raises(ConsistencyProofInvalid):
                    verify_consistency(old, new, old_root, new_root, [*proof, new_root])


@given(st.data())
def test_an_inclusion_proof_does_not_verify_for_another_size(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, MAX_SIZE))
    index = data.draw(st.integers(0, size - 1))
    other = data.draw(st.integers(index + 1, MAX_SIZE).filter(lambda s: s != size))
    proof = inclusion_proof(index, size, STORE)
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(LEAF_HASHES[index], index, other, proof, ROOTS_BY_SIZE[other])


def test_an_inclusion_failure_names_the_expected_root() -> None:
    proof = inclusion_proof(5, 8, VECTOR_STORE)
    wrong = bytes.fromhex(ROOTS[6])
    with pytest.raises(InclusionProofInvalid) as excinfo:
        verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof, wrong)
    assert str(excinfo.value) == (
        f"inclusion proof for leaf 5 in a tree of size 8 computes root {ROOTS[7]}, "
        f"expected {ROOTS[6]}"
    )


def test_an_inclusion_proof_of_the_wrong_length_says_how_long_it_must_be() -> None:
    proof = inclusion_proof(5, 8, VECTOR_STORE)
    with pytest.raises(InclusionProofInvalid) as excinfo:
        verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof[:2], bytes.fromhex(ROOTS[7]))
    assert str(excinfo.value) == (
        "inclusion proof for leaf 5 in a tree of size 8 must have 3 hashes, got 2"
    )


def test_a_leaf_outside_the_tree_is_refused() -> None:
    with pytest.raises(InclusionProofInvalid) as excinfo:
        verify_inclusion(LEAF_HASHES[0], 8, 8, [], ROOTS_BY_SIZE[8])
    assert str(excinfo.value) == "leaf index 8 is not in a tree of size 8"
    with pytest.raises(TreeSizeInvalid) as generation:
        inclusion_proof(8, 8, STORE)
    assert str(generation.value) == "leaf index 8 is not in a tree of size 8"


def test_a_shrinking_tree_is_not_consistent() -> None:
    with pytest.raises(ConsistencyProofInvalid) as excinfo:
        verify_consistency(5, 4, ROOTS_BY_SIZE[5], ROOTS_BY_SIZE[4], [])
    assert str(excinfo.value) == "a tree of size 4 cannot extend a tree of size 5"
    with pytest.raises(TreeSizeInvalid):
        consistency_proof(5, 4, STORE)


def test_the_trivial_consistency_cases() -> None:
    verify_consistency(0, 7, EMPTY_ROOT, ROOTS_BY_SIZE[7], [])
    verify_consistency(7, 7, ROOTS_BY_SIZE[7], ROOTS_BY_SIZE[7], [])
    assert consistency_proof(0, 7, STORE) == []
    with pytest.raises(ConsistencyProofInvalid) as excinfo:
        verify_consistency(7, 7, ROOTS_BY_SIZE[7], ROOTS_BY_SIZE[6], [])
    assert str(excinfo.value) == (
        "trees of equal size 7 must have equal roots, "
        f"got {ROOTS_BY_SIZE[7].hex()} and {ROOTS_BY_SIZE[6].hex()}"
    )
    with pytest.raises(ConsistencyProofInvalid) as excinfo:
        verify_consistency(0, 7, ROOTS_BY_SIZE[1], ROOTS_BY_SIZE[7], [])
    assert str(excinfo.value) == (
        f"old root of the empty tree must be {EMPTY_ROOT.hex()}, got {ROOTS_BY_SIZE[1].hex()}"
    )
    with pytest.raises(ConsistencyProofInvalid) as excinfo:
        verify_consistency(3, 7, ROOTS_BY_SIZE[3], ROOTS_BY_SIZE[7], [])
    assert str(excinfo.value) == "consistency proof from size 3 to 7 must not be empty"


def test_a_consistency_failure_names_the_expected_old_root() -> None:
    proof = consistency_proof(6, 8, VECTOR_STORE)
    with pytest.raises(ConsistencyProofInvalid) as excinfo:
        verify_consistency(6, 8, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[7]), proof)
    assert str(excinfo.value) == (
        f"consistency proof computes old root {ROOTS[5]}, expected {ROOTS[4]}"
    )


def test_hashes_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(MerkleError) as excinfo:
        verify_inclusion(b"short", 0, 1, [], LEAF_HASHES[0])
    assert str(excinfo.value) == "leaf hash must be 32 bytes, got 5"
    with pytest.raises(MerkleError) as appended:
        MerkleAppender().append([b"\x00" * 31])
    assert str(appended.value) == "leaf hash must be 32 bytes, got 31"


def test_a_store_behind_the_requested_size_reports_the_missing_node() -> None:
    with pytest.raises(NodeMissing) as excinfo:
        root_at(MAX_SIZE + 1, STORE)
    assert (excinfo.value.level, excinfo.value.index) == (0, MAX_SIZE)


def test_a_stored_node_is_never_rewritten() -> None:
    store = MemoryNodeStore()
    store.put_many([(0, 0, LEAF_HASHES[0])])
    store.put_many([(0, 0, LEAF_HASHES[0])])
    with pytest.raises(MerkleError) as excinfo:
        store.put_many([(0, 0, LEAF_HASHES[1])])
    assert str(excinfo.value) == (
        "Merkle node (level 0, index 0) is already stored with another hash; "
        "perfect subtrees are append-only"
    )


class CountingStore(MemoryNodeStore):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    def get(self, level: int, index: int) -> bytes:
        self.gets += 1
        return super().get(level, index)


def test_proofs_read_a_logarithmic_number_of_nodes() -> None:
    store = CountingStore()
    store.put_many(MerkleAppender().append([leaf_hash(b"%d" % i) for i in range(1000)]))
    for index in (0, 499, 997, 998):
        store.gets = 0
        inclusion_proof(index, 999, store)
        assert store.gets <= 2 * 10, (index, store.gets)
    store.gets = 0
    consistency_proof(333, 999, store)
    assert store.gets <= 2 * 10
    store.gets = 0
    MerkleAppender(999, store)
    assert store.gets == bin(999).count("1")


def test_the_planned_nodes_are_exactly_the_nodes_a_proof_reads() -> None:
    from ledger.merkle import inclusion_nodes

    class Recording(MemoryNodeStore):
        def __init__(self) -> None:
            super().__init__()
            self.read: list[tuple[int, int]] = []

        def get(self, level: int, index: int) -> bytes:
            self.read.append((level, index))
            return super().get(level, index)

    store = Recording()
    appender = MerkleAppender()
    store.put_many(appender.append([leaf_hash(bytes([i])) for i in range(64)]))
    for size in range(1, 65):
        for index in range(size):
            store.read.clear()
            inclusion_proof(index, size, store)
            assert inclusion_nodes(index, size) == store.read


def test_the_planned_nodes_of_a_consistency_proof_are_exactly_the_nodes_it_reads() -> None:
    from ledger.merkle import consistency_nodes

    class Recording(MemoryNodeStore):
        def __init__(self) -> None:
            super().__init__()
            self.read: list[tuple[int, int]] = []

        def get(self, level: int, index: int) -> bytes:
            self.read.append((level, index))
            return super().get(level, index)

    store = Recording()
    store.put_many(MerkleAppender().append([leaf_hash(bytes([i])) for i in range(64)]))
    for new in range(1, 65):
        for old in range(0, new + 1):
            store.read.clear()
            root_at(new, store)
            consistency_proof(old, new, store)
            assert consistency_nodes(old, new) == list(dict.fromkeys(store.read)), (old, new)


@pytest.mark.parametrize("sizes", [(1,), (3, 4), (7, 1, 8), (1024, 3), (5, 0, 600)])
def test_append_by_level_completes_the_same_nodes_as_append(sizes: tuple[int, ...]) -> None:
    import hashlib as _h

    plain, by_level = MerkleAppender(), MerkleAppender()
    n = 0
    for count in sizes:
        leaves = [_h.sha256(str(n + i).encode()).digest() for i in range(count)]
        n += count
        nodes = plain.append(leaves)
        out: dict[int, list[tuple[int, bytes]]] = {}
        by_level.append_by_level(leaves, out)
        assert sorted(nodes) == sorted((lvl, i, h) for lvl, got in out.items() for i, h in got)
        assert all(got == sorted(got) for got in out.values())  # each level in index order
        assert by_level.size == plain.size and by_level.root() == plain.root()
