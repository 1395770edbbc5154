"""Proof files anyone can check without the ledger: the consistency proof between two
signed checkpoints (``custodes-consistency-proof/1``, RFC 9162 §2.1.4) and the checks
behind ``custodes verify-proof`` for it and for inclusion proofs
(``custodes-inclusion-proof/1``, ``ledger.integrity.InclusionProof``).

Both formats are specified in docs/FORMAT.md ("Proof files").
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.chain import Damage
from ledger.chain_reader import ChainReader
from ledger.checkpoint import Checkpoint, parse_and_verify, parse_unverified
from ledger.errors import InvalidInput
from ledger.integrity import (
    PROOF_FORMAT,
    InclusionProof,
    LedgerTampered,
    MerkleProofFailed,
    check_inclusion,
)
from ledger.merkle import (
    HASH_SIZE,
    MerkleError,
    NodeMissing,
    NodeStore,
    consistency_nodes,
    consistency_proof,
    root_at,
    verify_consistency,
)

CONSISTENCY_FORMAT = "custodes-consistency-proof/1"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(value).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"{what} is not base64") from None
    if len(raw) != HASH_SIZE:
        raise ValueError(f"{what} is not a {HASH_SIZE}-byte hash")
    return raw


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 PROOF(old_size, D[new_size]) with the two signed checkpoints it joins."""

    old_size: int
    old_root: bytes
    new_size: int
    new_root: bytes
    path: list[bytes]
    old_checkpoint: str
    new_checkpoint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CONSISTENCY_FORMAT,
            "old_size": self.old_size,
            "old_root": _b64(self.old_root),
            "new_size": self.new_size,
            "new_root": _b64(self.new_root),
            "consistency_path": [_b64(h) for h in self.path],
            "old_checkpoint": self.old_checkpoint,
            "new_checkpoint": self.new_checkpoint,
        }

    @classmethod
    def from_json(cls, data: Any) -> ConsistencyProof:
        try:
            if not isinstance(data, dict) or data.get("format") != CONSISTENCY_FORMAT:
                found = data.get("format") if isinstance(data, dict) else type(data).__name__
                raise ValueError(f"format is {found!r}, expected {CONSISTENCY_FORMAT}")
            sizes = data["old_size"], data["new_size"]
            if any(type(s) is not int or s < 0 for s in sizes):
                raise ValueError("old_size and new_size must be non-negative integers")
            path = data["consistency_path"]
            if not isinstance(path, list):
                raise ValueError("consistency_path must be a list")
            return cls(
                old_size=sizes[0],
                old_root=_unb64(data["old_root"], "old_root"),
                new_size=sizes[1],
                new_root=_unb64(data["new_root"], "new_root"),
                path=[_unb64(h, f"consistency_path[{i}]") for i, h in enumerate(path)],
                old_checkpoint=str(data["old_checkpoint"]),
                new_checkpoint=str(data["new_checkpoint"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"not a Custodes consistency proof: {err}") from err


def prove_consistency(
    reader: ChainReader, old: Checkpoint, old_note: str, new: Checkpoint, new_note: str
) -> ConsistencyProof:
    """The consistency proof from ``old`` to ``new``, both signed checkpoints of this ledger.

    The proof is checked against both signed roots before it is returned: a ledger that
    no longer extends ``old``, or whose tree is not ``new``'s, is LedgerTampered (exit 3).
    """
    store = reader.node_store()
    try:
        size, _ = store.tree_state()
        return consistency_from_store(store, size, old, old_note, new, new_note)
    finally:
        store.close()


def consistency_from_store(
    store: NodeStore, tree_size: int, old: Checkpoint, old_note: str, new: Checkpoint, new_note: str
) -> ConsistencyProof:
    """``prove_consistency`` over any node store whose verified tree has ``tree_size``."""
    if old.origin != new.origin:
        raise InvalidInput(f"the checkpoints are of two ledgers ({old.origin}, {new.origin})")
    if old.size > new.size:
        raise InvalidInput(
            f"the old checkpoint ({old.size} entries) is larger than the new one ({new.size}); "
            "name the older checkpoint first"
        )
    if tree_size < new.size:
        raise InvalidInput(
            f"the new checkpoint covers {new.size} entries, this ledger's verified tree "
            f"{tree_size}: wrong ledger, or run custodes verify first"
        )
    prefetch = getattr(store, "prefetch", None)  # one query on PostgreSQL (SqlNodeStore)
    if prefetch is not None:
        prefetch(consistency_nodes(old.size, new.size))
    try:
        root = root_at(new.size, store)
        path = consistency_proof(old.size, new.size, store)
    except NodeMissing as e:
        raise LedgerTampered(Damage(e.index + 1, "deleted", str(e))) from e
    if root != new.root:
        raise LedgerTampered(
            Damage(1, "edited", "the tree does not have the new checkpoint's root"),
            f"ledger verification FAILED: this ledger's tree of {new.size} entries does not "
            f"have the root its signed checkpoint has; entries up to {new.size} were rewritten",
        )
    proof = ConsistencyProof(old.size, old.root, new.size, new.root, path, old_note, new_note)
    try:
        check_consistency(proof, old, new)
    except MerkleProofFailed as e:
        raise LedgerTampered(
            Damage(1, "edited", str(e)),
            f"ledger verification FAILED against the checkpoint of size {old.size}: today's "
            f"ledger does not extend it ({e}); entries up to {old.size} were rewritten",
        ) from e
    return proof


def check_consistency(proof: ConsistencyProof, old: Checkpoint, new: Checkpoint) -> None:
    """The proof joins exactly these two checkpoints and verifies (RFC 9162 §2.1.4.2)."""
    if (proof.old_size, proof.old_root) != (old.size, old.root):
        raise InvalidInput(
            f"the proof starts from a tree of size {proof.old_size}, the old checkpoint is of "
            f"size {old.size} (or has another root)"
        )
    if (proof.new_size, proof.new_root) != (new.size, new.root):
        raise InvalidInput(
            f"the proof ends at a tree of size {proof.new_size}, the new checkpoint is of "
            f"size {new.size} (or has another root)"
        )
    try:
        verify_consistency(old.size, new.size, old.root, new.root, proof.path)
    except MerkleError as e:
        raise MerkleProofFailed(f"consistency proof fails: {e}") from e


@dataclass(frozen=True)
class ProofReport:
    """What ``verify-proof`` checked."""

    format: str
    origin: str
    checkpoint_size: int
    checkpoint_root: str
    position: int | None = None
    old_size: int | None = None
    old_root: str | None = None
    relied_on: str = ""


def _checkpoint(note: str, key: Ed25519PublicKey, key_name: str | None, what: str) -> Checkpoint:
    try:
        origin = parse_unverified(note).origin
        return parse_and_verify(note, key, key_name or origin)
    except MerkleError as e:
        raise MerkleProofFailed(f"{what} does not verify: {e}") from e


def verify_proof_data(
    data: Any, key: Ed25519PublicKey, key_name: str | None = None, trusted: str | None = None
) -> ProofReport:
    """Check an inclusion or consistency proof file with the log's public key.

    ``trusted`` is a signed checkpoint the verifier holds (the board's, a report's): an
    inclusion proof must lead to its root, a consistency proof must start from it.
    ``key_name`` is the log's key name when known (a vkey); else the checkpoint origin.
    MerkleProofFailed (exit 3) when a signature or proof fails; InvalidInput when the
    file is not a proof or is about another checkpoint.
    """
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt == PROOF_FORMAT:
        proof = InclusionProof.from_json(data)
        note = trusted if trusted is not None else proof.checkpoint
        cp = _checkpoint(note, key, key_name, "the checkpoint")
        embedded = _checkpoint(proof.checkpoint, key, key_name, "the proof's checkpoint")
        _same_log(cp, embedded)
        check_inclusion(proof, cp)
        return ProofReport(
            fmt, cp.origin, cp.size, cp.root.hex(), position=proof.position, relied_on=note
        )
    if fmt == CONSISTENCY_FORMAT:
        consistency = ConsistencyProof.from_json(data)
        old_note = trusted if trusted is not None else consistency.old_checkpoint
        old = _checkpoint(old_note, key, key_name, "the old checkpoint")
        embedded_old = _checkpoint(
            consistency.old_checkpoint, key, key_name, "the proof's old checkpoint"
        )
        new = _checkpoint(consistency.new_checkpoint, key, key_name, "the new checkpoint")
        _same_log(old, embedded_old)
        _same_log(old, new)
        check_consistency(consistency, old, new)
        return ProofReport(
            fmt,
            new.origin,
            new.size,
            new.root.hex(),
            old_size=old.size,
            old_root=old.root.hex(),
            relied_on=consistency.new_checkpoint,
        )
    raise InvalidInput(
        f"not a Custodes proof file: format {fmt!r} (expected {PROOF_FORMAT} or {CONSISTENCY_FORMAT})"
    )


def _same_log(a: Checkpoint, b: Checkpoint) -> None:
    if a.origin != b.origin:
        raise InvalidInput(f"the checkpoints are of two ledgers ({a.origin}, {b.origin})")
