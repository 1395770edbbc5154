"""RFC 9162 (Certificate Transparency v2) Merkle tree over the chain entries.

Hashing (RFC 9162 §2.1.1): ``leaf = SHA-256(0x00 || entry)``,
``node = SHA-256(0x01 || left || right)``, the empty tree hashes to ``SHA-256("")``.

Storage model: only *perfect* subtrees are ever stored. Node ``(level, index)`` is the
hash of the 2**level leaves starting at leaf ``index * 2**level``; level 0 holds the leaf
hashes. A perfect subtree never changes once its last leaf is appended, so the store is
append-only and each node is written exactly once, in the same transaction as its events.

Every node an RFC 9162 proof for a tree of size n needs is either such a perfect subtree
or the root of a subtree on the tree's right edge, which is the fold of at most
log2(n) perfect subtrees (the binary decomposition of its width). So roots and proofs
cost O(log n) ``get`` calls and no in-memory copy of the tree, even right after a restart.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ConsistencyProofInvalid",
    "InclusionProofInvalid",
    "MemoryNodeStore",
    "MerkleAppender",
    "MerkleError",
    "NodeMissing",
    "NodeStore",
    "TreeDamaged",
    "TreeSizeInvalid",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_at",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int, bytes]


class MerkleError(Exception):
    """Base error of the Merkle tree and checkpoint modules."""


class TreeSizeInvalid(MerkleError, ValueError):
    """A leaf index or tree size is out of range for the requested operation."""


class NodeMissing(MerkleError, LookupError):
    """The node store lacks a perfect subtree that must exist for the tree size asked."""

    def __init__(self, level: int, index: int) -> None:
        super().__init__(
            f"Merkle node (level {level}, index {index}) is not in the node store; "
            "the store is behind the tree size asked for"
        )
        self.level = level
        self.index = index


class TreeDamaged(MerkleError):
    """The stored tree (a cache of values recomputed from the entries) holds a value of
    the wrong type, or one that disagrees with the entries."""


class InclusionProofInvalid(MerkleError):
    """An inclusion proof does not prove the leaf is in the tree with the given root."""


class ConsistencyProofInvalid(MerkleError):
    """A consistency proof does not prove the new tree extends the old one."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeStore(Protocol):
    def get(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree (level, index); raises NodeMissing if absent."""
        ...

    def put_many(self, items: Iterable[Node]) -> None: ...


class MemoryNodeStore:
    """A dict-backed NodeStore, for tests and small in-process trees."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, index: int) -> bytes:
        try:
            return self.nodes[(level, index)]
        except KeyError:
            raise NodeMissing(level, index) from None

    def put_many(self, items: Iterable[Node]) -> None:
        for level, index, value in items:
            if self.nodes.setdefault((level, index), value) != value:
                raise MerkleError(
                    f"Merkle node (level {level}, index {index}) is already stored with "
                    "another hash; perfect subtrees are append-only"
                )


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise MerkleError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _range_hash(start: int, end: int, store: NodeStore) -> bytes:
    """MTH(D[start:end]) for a range whose start is aligned to its largest power of 2.

    The range splits into perfect subtrees following the binary decomposition of its
    width, largest first (RFC 9162 splits at the largest power of two smaller than n);
    the MTH folds them right to left.
    """
    width = end - start
    parts: list[bytes] = []
    pos = start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            parts.append(store.get(level, pos >> level))
            pos += 1 << level
    acc = parts[-1]
    for part in reversed(parts[:-1]):
        acc = node_hash(part, acc)
    return acc


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2), RFC 9162 §2.1.1's k."""
    return 1 << ((n - 1).bit_length() - 1)


def root_at(size: int, store: NodeStore) -> bytes:
    """MTH of the first ``size`` leaves."""
    if size < 0:
        raise TreeSizeInvalid(f"tree size must be >= 0, got {size}")
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, store)


def inclusion_proof(index: int, size: int, store: NodeStore) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf-side hash first."""
    if not 0 <= index < size:
        raise TreeSizeInvalid(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        mid = start + k
        if index < mid:
            path.append(_range_hash(mid, end, store))
            end = mid
        else:
            path.append(_range_hash(start, mid, store))
            start = mid
    path.reverse()
    return path


class _Planner:
    """A NodeStore that answers every ``get`` with a placeholder and remembers what was
    asked: which nodes a proof needs depends only on index and size, never on hashes."""

    def __init__(self) -> None:
        self.wanted: list[tuple[int, int]] = []

    def get(self, level: int, index: int) -> bytes:
        self.wanted.append((level, index))
        return bytes(HASH_SIZE)

    def put_many(self, items: Iterable[Node]) -> None:  # pragma: no cover - never called
        raise NotImplementedError


def inclusion_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """The stored nodes ``inclusion_proof(index, size, ...)`` will read, so a store on a
    remote database can fetch them in one round trip."""
    planner = _Planner()
    inclusion_proof(index, size, planner)
    return planner.wanted


def consistency_nodes(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The stored nodes ``root_at(new_size, ...)`` then ``consistency_proof(old_size,
    new_size, ...)`` will read (what a consistency proof file needs), for one round trip."""
    planner = _Planner()
    root_at(new_size, planner)
    consistency_proof(old_size, new_size, planner)
    return list(dict.fromkeys(planner.wanted))


def consistency_proof(old_size: int, new_size: int, store: NodeStore) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1 (SUBPROOF with b = true)."""
    if not 0 <= old_size <= new_size:
        raise TreeSizeInvalid(
            f"consistency proof needs 0 <= old size <= new size, got {old_size} and {new_size}"
        )
    if old_size == 0 or old_size == new_size:
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        mid = start + k
        if m <= k:
            proof.append(_range_hash(mid, end, store))
            end = mid
        else:
            proof.append(_range_hash(start, mid, store))
            start, m, complete = mid, m - k, False
    if not complete:
        proof.append(_range_hash(start, end, store))
    proof.reverse()
    return proof


def multi_inclusion_proof(indices: Sequence[int], size: int, store: NodeStore) -> list[bytes]:
    """One proof that several leaves are in the tree of ``size`` leaves: the hashes of
    the largest subtrees (RFC 9162's split) that hold none of ``indices``, left to right.

    Shared upper nodes are sent once, so m leaves cost about m*log2(size/m) hashes
    instead of m*log2(size); a report's entries, mostly of one recent month, share most
    of their paths. ``root_from_multi_proof`` recomputes the root from the leaves."""
    wanted = sorted(set(indices))
    if wanted and not (wanted[0] >= 0 and wanted[-1] < size):
        raise TreeSizeInvalid(f"leaf indices must be within a tree of size {size}")
    out: list[bytes] = []

    def walk(start: int, end: int, lo: int, hi: int) -> None:
        if lo == hi:
            out.append(_range_hash(start, end, store))
            return
        if end - start == 1:
            return
        mid = start + _split(end - start)
        cut = bisect.bisect_left(wanted, mid, lo, hi)
        walk(start, mid, lo, cut)
        walk(mid, end, cut, hi)

    if size:
        walk(0, size, 0, len(wanted))
    return out


def multi_inclusion_nodes(indices: Sequence[int], size: int) -> list[tuple[int, int]]:
    """The stored nodes ``multi_inclusion_proof`` reads, for one round trip."""
    planner = _Planner()
    multi_inclusion_proof(indices, size, planner)
    return list(dict.fromkeys(planner.wanted))


def root_from_multi_proof(leaves: dict[int, bytes], size: int, proof: Sequence[bytes]) -> bytes:
    """The root that ``leaves`` (index -> leaf hash) and a ``multi_inclusion_proof`` give;
    InclusionProofInvalid when the proof has too few or too many hashes."""
    wanted = sorted(leaves)
    if not wanted or wanted[0] < 0 or wanted[-1] >= size:
        raise InclusionProofInvalid(f"leaf indices must be within a tree of size {size}")
    for position, value in enumerate(proof):
        _check_hash(value, f"proof hash {position}")
    for value in leaves.values():
        _check_hash(value, "leaf hash")
    hashes = iter(proof)

    def walk(start: int, end: int, lo: int, hi: int) -> bytes:
        if lo == hi:
            value = next(hashes, None)
            if value is None:
                raise InclusionProofInvalid("the proof has too few hashes")
            return value
        if end - start == 1:
            return leaves[wanted[lo]]
        mid = start + _split(end - start)
        cut = bisect.bisect_left(wanted, mid, lo, hi)
        left = walk(start, mid, lo, cut)
        return node_hash(left, walk(mid, end, cut, hi))

    root = walk(0, size, 0, len(wanted))
    if next(hashes, None) is not None:
        raise InclusionProofInvalid("the proof has more hashes than the tree needs")
    return root


class MerkleAppender:
    """Appends leaves keeping only the right-edge frontier (at most log2(n) hashes).

    ``append`` returns the perfect nodes it completed, for the caller to write in the
    same transaction as the events; the appender itself never writes to the store.
    """

    def __init__(self, size: int = 0, store: NodeStore | None = None) -> None:
        if size < 0:
            raise TreeSizeInvalid(f"tree size must be >= 0, got {size}")
        self._size = size
        # (level, hash) of the perfect subtrees that make up the tree, largest first.
        self._frontier: list[tuple[int, bytes]] = []
        if size == 0:
            return
        if store is None:
            raise TreeSizeInvalid(f"a node store is needed to resume a tree of size {size}")
        pos = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                self._frontier.append((level, store.get(level, pos >> level)))
                pos += 1 << level

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hashes: Sequence[bytes]) -> list[Node]:
        new_nodes: list[Node] = []
        frontier = self._frontier
        for value in leaf_hashes:
            _check_hash(value, "leaf hash")
            index = self._size
            new_nodes.append((0, index, value))
            level, acc = 0, value
            while frontier and frontier[-1][0] == level:
                acc = node_hash(frontier.pop()[1], acc)
                level += 1
                new_nodes.append((level, index >> level, acc))
            frontier.append((level, acc))
            self._size = index + 1
        return new_nodes

    def append_by_level(
        self, leaf_hashes: Sequence[bytes], out: dict[int, list[tuple[int, bytes]]]
    ) -> None:
        """``append``, adding each completed node to ``out[level]`` as (index, hash): the
        verifier's fast path (one walk recomputes every node of a large tree)."""
        frontier = self._frontier
        sha256 = hashlib.sha256
        size = self._size
        leaves = out.setdefault(0, [])
        for value in leaf_hashes:
            if len(value) != HASH_SIZE:
                _check_hash(value, "leaf hash")
            leaves.append((size, value))
            level, acc, index = 0, value, size
            while frontier and frontier[-1][0] == level:
                acc = sha256(b"\x01" + frontier.pop()[1] + acc).digest()
                level += 1
                index >>= 1
                nodes = out.get(level)
                if nodes is None:
                    nodes = out[level] = []
                nodes.append((index, acc))
            frontier.append((level, acc))
            size += 1
        self._size = size

    def root(self) -> bytes:
        if not self._frontier:
            return EMPTY_ROOT
        acc = self._frontier[-1][1]
        for _, value in reversed(self._frontier[:-1]):
            acc = node_hash(value, acc)
        return acc


def _expected_inclusion_length(index: int, size: int) -> int:
    # Levels below the point where the paths to ``index`` and to the last leaf part,
    # plus one hash per left sibling on the right edge above it.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; returns None or raises InclusionProofInvalid."""
    _check_hash(root, "root hash")
    _check_hash(leaf_hash, "leaf hash")
    # Step 1.
    if not 0 <= index < size:
        raise InclusionProofInvalid(f"leaf index {index} is not in a tree of size {size}")
    expected = _expected_inclusion_length(index, size)
    if len(proof) != expected:
        raise InclusionProofInvalid(
            f"inclusion proof for leaf {index} in a tree of size {size} must have "
            f"{expected} hashes, got {len(proof)}"
        )
    for position, value in enumerate(proof):
        _check_hash(value, f"inclusion proof hash {position}")
    # Steps 2-3.
    fn, sn, r = index, size - 1, leaf_hash
    # Step 4.
    for p in proof:
        if sn == 0:  # 4a
            raise InclusionProofInvalid("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    # Step 5.
    if sn != 0:
        raise InclusionProofInvalid("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise InclusionProofInvalid(
            f"inclusion proof for leaf {index} in a tree of size {size} computes root "
            f"{r.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; returns None or raises ConsistencyProofInvalid.

    The RFC algorithm covers 0 < old_size < new_size. The trivial cases, which carry an
    empty proof (RFC 9162 §2.1.4.1 yields none), are: equal sizes with equal roots, and
    the empty tree (whose root must be SHA-256("")) which every tree extends.
    """
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    for position, value in enumerate(proof):
        _check_hash(value, f"consistency proof hash {position}")
    if not 0 <= old_size <= new_size:
        raise ConsistencyProofInvalid(
            f"a tree of size {new_size} cannot extend a tree of size {old_size}"
        )
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ConsistencyProofInvalid(
                f"consistency proof from size {old_size} to {new_size} must be empty, "
                f"got {len(proof)} hashes"
            )
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ConsistencyProofInvalid(
                f"old root of the empty tree must be {EMPTY_ROOT.hex()}, got {old_root.hex()}"
            )
        if old_size == new_size and old_root != new_root:
            raise ConsistencyProofInvalid(
                f"trees of equal size {old_size} must have equal roots, "
                f"got {old_root.hex()} and {new_root.hex()}"
            )
        return
    # Step 1.
    if not proof:
        raise ConsistencyProofInvalid(
            f"consistency proof from size {old_size} to {new_size} must not be empty"
        )
    # Step 2.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Step 3.
    fn, sn = old_size - 1, new_size - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:  # 6a
            raise ConsistencyProofInvalid(
                f"consistency proof from size {old_size} to {new_size} has too many hashes"
            )
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ConsistencyProofInvalid(
            f"consistency proof from size {old_size} to {new_size} has too few hashes"
        )
    if fr != old_root:
        raise ConsistencyProofInvalid(
            f"consistency proof computes old root {fr.hex()}, expected {old_root.hex()}"
        )
    if sr != new_root:
        raise ConsistencyProofInvalid(
            f"consistency proof computes new root {sr.hex()}, expected {new_root.hex()}"
        )
