"""Integrity use-cases: verify the chain, keep the Merkle tree, sign checkpoints, prove.

Verification needs no decryption key. The Merkle tree (RFC 9162) is extended by each
successful verification from the entries it has just checked, so a checkpoint or proof
never covers an entry that was not verified. Its size is the witness that makes a cut-off
tail visible; a signed checkpoint kept elsewhere makes a consistent rewrite visible too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.utils import Environment

from ledger.act_check import ActChecker, DeepActChecker
from ledger.chain import Damage, VerifyResult, entry_hash
from ledger.chain_reader import ChainReader
from ledger.checkpoint import Checkpoint, parse_and_verify, sign_checkpoint
from ledger.datadir import DataDir
from ledger.errors import InvalidInput, LedgerError, NotFound, StoreUnavailable
from ledger.merkle import (
    MerkleAppender,
    MerkleError,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.store import ChainedFactory

FLUSH_EVERY = 10_000
PROOF_FORMAT = "custodes-inclusion-proof/1"


class LedgerTampered(LedgerError):
    """The ledger fails verification (exit 3): carries the damage found."""

    def __init__(self, damage: Damage, message: str | None = None) -> None:
        super().__init__(
            message
            or f"ledger verification FAILED at position {damage.position}: {damage.kind} "
            f"({damage.detail})"
        )
        self.damage = damage


def open_chain(datadir: DataDir, *, warm_up: bool = False) -> ChainReader:
    """The chain alone, read without the events key: verification needs no decryption.

    ``warm_up``: connect now and prepare the inclusion proof's statements (PostgreSQL;
    ``ChainReader.warm_up``), so the first proof costs its queries only."""
    env = Environment(
        name="Ledger", env={"SQLALCHEMY_URL": datadir.database_url, "CREATE_TABLE": "n"}
    )
    try:
        recorder = ChainedFactory(env).application_recorder()
    except (OperationalError, PersistenceError) as e:
        raise StoreUnavailable(f"cannot open the ledger database: {e}") from e
    reader = ChainReader(recorder)
    if warm_up:
        reader.warm_up()
    return reader


@dataclass(frozen=True)
class TreeResult:
    verify: VerifyResult
    tree_size: int
    tree_root: bytes | None
    tree_extended: bool


def verify_chain(
    reader: ChainReader,
    on_entry: Callable[[int, bytes], None] | None = None,
    *,
    extend_tree: bool = True,
    acts: ActChecker | None = None,
) -> VerifyResult:
    return verify_and_extend(reader, on_entry, extend_tree=extend_tree, acts=acts).verify


def deep_checker(mapper: Any) -> DeepActChecker:
    """The act checker that also decrypts each event, with an application's mapper."""

    def decode(oid: bytes, version: int, topic: str, state: bytes) -> Any:
        return mapper.to_domain_event(StoredEvent(UUID(bytes=oid), version, topic, state))

    return DeepActChecker(decode)


def verify_and_extend(
    reader: ChainReader,
    on_entry: Callable[[int, bytes], None] | None = None,
    *,
    extend_tree: bool = True,
    recompute: bool = False,
    acts: ActChecker | None = None,
) -> TreeResult:
    """Walk the chain; extend the Merkle tree over newly verified entries.

    With ``recompute`` the root over ALL entries is also recomputed in memory (a
    frontier of log2(n) hashes) and compared with the stored tree: a tree that does not
    match the chain it claims to cover is reported as damage at the first entry.
    """
    if extend_tree:
        try:
            reader.ensure_tree_tables()
        except reader.recorder.dbapi.Error as e:  # type: ignore[union-attr]
            # A read-only database can still be verified; it just keeps no tree.
            if "readonly" not in str(e).casefold() and "read-only" not in str(e).casefold():
                raise
            extend_tree = False
    size, root = reader.tree_state()
    appender = MerkleAppender()
    if extend_tree and size:
        store = reader.node_store()
        try:
            appender = MerkleAppender(size, store)  # reads the frontier: log2(size) nodes
        finally:
            store.close()
    full = MerkleAppender() if recompute else None
    pending: list[bytes] = []
    extended = False

    def flush() -> None:
        nonlocal extended, extend_tree
        before = appender.size
        nodes = appender.append(pending)
        pending.clear()
        try:
            reader.extend_tree(before, appender.size, appender.root(), nodes)
        except IntegrityError:
            # Another verification extended the tree first: it covers these entries
            # already, so keep verifying and leave the tree to it.
            extend_tree = False
            return
        extended = True

    def entry(position: int, h: bytes) -> None:
        if on_entry is not None:
            on_entry(position, h)
        if full is not None or position > size:
            lh = leaf_hash(h)
            if full is not None:
                full.append([lh])
            if extend_tree and position > size:
                pending.append(lh)
                if len(pending) >= FLUSH_EVERY:
                    flush()

    result = reader.verify(witnessed_size=size, on_entry=entry, acts=acts or ActChecker())
    if result.ok and extend_tree and pending:
        flush()
    new_size, new_root = reader.tree_state() if extend_tree else (size, root)
    if result.ok and full is not None and new_size == result.count and new_root != full.root():
        result = VerifyResult(
            0,
            bytes(32),
            Damage(1, "edited", "the stored Merkle tree does not match the chain entries"),
        )
    return TreeResult(result, new_size, new_root, extended)


def issue_checkpoint(
    reader: ChainReader, *, origin: str, signing_key: Any, now: datetime
) -> tuple[Checkpoint, str]:
    """Verify everything, then sign the tree head over every verified entry."""
    return sign_verified(verified(reader), origin=origin, signing_key=signing_key, now=now)


def verified(reader: ChainReader) -> TreeResult:
    """Verify and extend the tree; LedgerTampered (exit 3) at the first damage."""
    outcome = verify_and_extend(reader)
    if outcome.verify.damage is not None:
        raise LedgerTampered(outcome.verify.damage)
    return outcome


def sign_verified(
    outcome: TreeResult, *, origin: str, signing_key: Any, now: datetime
) -> tuple[Checkpoint, str]:
    """Sign the tree head over exactly the entries ``outcome`` verified."""
    if outcome.verify.damage is not None:
        raise LedgerTampered(outcome.verify.damage)
    if outcome.tree_root is None or outcome.tree_size == 0:
        raise InvalidInput("the ledger is empty: nothing to checkpoint")
    cp = Checkpoint(origin=origin, size=outcome.tree_size, root=outcome.tree_root, time=now)
    return cp, sign_checkpoint(cp, signing_key, origin)


def read_checkpoint(note: str, public_key: Any, origin: str) -> Checkpoint:
    try:
        return parse_and_verify(note, public_key, origin)
    except MerkleError as e:
        raise InvalidInput(f"checkpoint rejected: {e}") from e


def verify_against(reader: ChainReader, cp: Checkpoint) -> TreeResult:
    """Prove today's ledger extends the signed checkpoint ``cp`` (RFC 9162 consistency)."""
    outcome = verify_and_extend(reader, recompute=True)
    if outcome.verify.damage is not None:
        raise LedgerTampered(outcome.verify.damage)
    n = outcome.tree_size
    if n < cp.size:
        raise LedgerTampered(
            Damage(n + 1, "truncated", f"checkpoint covers {cp.size} entries, ledger has {n}"),
            f"ledger verification FAILED against the checkpoint: it covers {cp.size} entries "
            f"but the ledger now has {n} (truncated at position {n + 1})",
        )
    assert outcome.tree_root is not None
    store = reader.node_store()
    try:
        proof = consistency_proof(cp.size, n, store)
        verify_consistency(cp.size, n, cp.root, outcome.tree_root, proof)
    except MerkleError as e:
        raise LedgerTampered(
            Damage(1, "edited", str(e)),
            f"ledger verification FAILED against the checkpoint of size {cp.size}: "
            f"today's ledger does not extend it ({e}); entries up to {cp.size} were rewritten",
        ) from e
    finally:
        store.close()
    return outcome


@dataclass(frozen=True)
class InclusionProof:
    """Everything needed to recompute one entry's hash and its path to a signed root.

    Reveals no other entry: only subtree hashes.
    """

    notification_id: int
    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state_digest: bytes
    prev_hash: bytes
    entry_hash: bytes
    tree_size: int
    root: bytes
    path: list[bytes]
    checkpoint: str
    act: bytes | None = None  # the signed act record, when this entry closes an act

    def to_json(self) -> dict[str, Any]:
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return {
            "format": PROOF_FORMAT,
            "entry": {
                "notification_id": self.notification_id,
                "position": self.position,
                "originator_id": str(self.originator_id),
                "originator_version": self.originator_version,
                "topic": self.topic,
                "state_digest": self.state_digest.hex(),
                "prev_hash": self.prev_hash.hex(),
                "entry_hash": self.entry_hash.hex(),
                "act": None if not self.act else b64(self.act),
            },
            "leaf_index": self.position - 1,
            "tree_size": self.tree_size,
            "root": b64(self.root),
            "inclusion_path": [b64(h) for h in self.path],
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InclusionProof:
        try:
            if data.get("format") != PROOF_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {PROOF_FORMAT}")
            e = data["entry"]
            return cls(
                notification_id=int(e["notification_id"]),
                position=int(e["position"]),
                originator_id=UUID(e["originator_id"]),
                originator_version=int(e["originator_version"]),
                topic=str(e["topic"]),
                state_digest=bytes.fromhex(e["state_digest"]),
                prev_hash=bytes.fromhex(e["prev_hash"]),
                entry_hash=bytes.fromhex(e["entry_hash"]),
                tree_size=int(data["tree_size"]),
                root=base64.b64decode(data["root"], validate=True),
                path=[base64.b64decode(h, validate=True) for h in data["inclusion_path"]],
                checkpoint=str(data["checkpoint"]),
                act=base64.b64decode(e["act"], validate=True) if e.get("act") else None,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"not a Custodes inclusion proof: {err}") from err


def prove(reader: ChainReader, notification_id: int, cp: Checkpoint, note: str) -> InclusionProof:
    """The inclusion proof of one event in the tree the signed checkpoint ``cp`` commits to."""
    store = reader.node_store()  # one connection for the entry, the tree and the path
    try:
        row = store.entry(notification_id=notification_id)
        if row is None:
            raise NotFound(f"event #{notification_id} is not in the ledger (see: custodes log)")
        nid, oid, version, topic, position, digest, prev, h, act = row
        if position is None or h is None:
            raise LedgerTampered(Damage(0, "inserted", f"event #{nid} has no chain entry"))
        if position > cp.size:
            raise InvalidInput(
                f"event #{nid} (position {position}) was recorded after the checkpoint "
                f"(size {cp.size}); make a new checkpoint with: custodes checkpoint"
            )
        if entry_hash(position, prev, nid, oid, version, topic, digest, act) != h:
            raise LedgerTampered(Damage(position, "edited", "entry hash does not match its fields"))
        tree_size, _ = store.tree_state()
        if tree_size < cp.size:
            raise InvalidInput("the checkpoint is larger than this ledger's tree: wrong ledger?")
        store.prefetch(inclusion_nodes(position - 1, cp.size))
        path = inclusion_proof(position - 1, cp.size, store)
    finally:
        store.close()
    proof = InclusionProof(
        nid,
        position,
        UUID(bytes=oid),
        version,
        topic,
        digest,
        prev,
        h,
        cp.size,
        cp.root,
        path,
        note,
        act,
    )
    check_inclusion(proof, cp)
    return proof


def check_inclusion(proof: InclusionProof, cp: Checkpoint) -> None:
    """Recompute the entry hash from its fields and its path to the checkpoint's root."""
    if (proof.tree_size, proof.root) != (cp.size, cp.root):
        raise InvalidInput(
            f"the proof is for a tree of size {proof.tree_size}, the checkpoint for {cp.size}"
        )
    recomputed = entry_hash(
        proof.position,
        proof.prev_hash,
        proof.notification_id,
        proof.originator_id.bytes,
        proof.originator_version,
        proof.topic,
        proof.state_digest,
        proof.act,
    )
    if recomputed != proof.entry_hash:
        raise MerkleProofFailed("the entry's fields do not hash to its entry hash")
    try:
        verify_inclusion(leaf_hash(recomputed), proof.position - 1, cp.size, proof.path, cp.root)
    except MerkleError as e:
        raise MerkleProofFailed(f"inclusion proof fails: {e}") from e


class MerkleProofFailed(LedgerError):
    """A proof does not verify: the evidence or the ledger was altered (exit 3)."""
