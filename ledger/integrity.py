"""Integrity use-cases: verify the chain, keep the Merkle tree, sign checkpoints, prove.

Verification needs no decryption key. The Merkle tree (RFC 9162) is extended by each
successful verification from the entries it has just checked, so a checkpoint or proof
never covers an entry that was not verified. Its size is the witness that makes a cut-off
tail visible; a signed checkpoint kept elsewhere makes a consistent rewrite visible too.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.utils import Environment

from ledger.act_check import ActChecker, DeepActChecker
from ledger.chain import GENESIS, Damage, VerifyResult, entry_hash
from ledger.chain_reader import ChainReader
from ledger.checkpoint import Checkpoint, parse_and_verify, sign_checkpoint
from ledger.datadir import DataDir
from ledger.errors import InvalidInput, LedgerBusy, LedgerError, NotFound, StoreUnavailable
from ledger.merkle import (
    MerkleAppender,
    MerkleError,
    TreeDamaged,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    verify_inclusion,
)

FLUSH_EVERY = 10_000
AUDIT_BATCH = 1024  # stored nodes compared per query and list comparison
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
    from ledger.store import ChainedFactory  # here: an act that never verifies skips it

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
    """A verification: ``verify`` holds the first damage of the chain or of the stored tree;
    ``tree_size`` and ``tree_root`` are the tree over every verified entry, its root
    recomputed from the entries (never read from the stored tree); ``chain`` is the walk
    of the entries alone; ``roots`` the recomputed roots at the sizes asked for."""

    verify: VerifyResult
    tree_size: int
    tree_root: bytes | None
    tree_extended: bool
    chain: VerifyResult | None = None
    roots: dict[int, bytes] = field(default_factory=dict)


def verify_chain(
    reader: ChainReader,
    on_entry: Callable[[int, bytes], None] | None = None,
    *,
    extend_tree: bool = True,
    acts: ActChecker | None = None,
) -> VerifyResult:
    return verify_and_extend(reader, on_entry, extend_tree=extend_tree, acts=acts).verify


def deep_checker(mapper: Any, *, now: datetime | None = None) -> DeepActChecker:
    """The act checker that also decrypts each event, with an application's mapper;
    ``now``: acts recorded after it are damage of kind clock."""

    def decode(oid: bytes, version: int, topic: str, state: bytes) -> Any:
        return mapper.to_domain_event(StoredEvent(UUID(bytes=oid), version, topic, state))

    return DeepActChecker(decode, now=now)


def _read_only(e: Exception) -> bool:
    return "readonly" in str(e).casefold() or "read-only" in str(e).casefold()


def verify_and_extend(
    reader: ChainReader,
    on_entry: Callable[[int, bytes], None] | None = None,
    *,
    extend_tree: bool = True,
    acts: ActChecker | None = None,
    roots_at: Collection[int] = (),
) -> TreeResult:
    """Walk the chain, recompute the Merkle tree from its entries, check the stored tree
    against it, and store the nodes of newly verified entries.

    The stored tree is a cache: every stored node is compared with the recomputed one as
    the walk completes it (docs/FORMAT.md, "The stored tree"), and a disagreement is
    damage of kind ``tree`` at the entry that completes the node. What is returned (and
    what a checkpoint signs) is the recomputed root, never a stored one.
    """
    if extend_tree:
        try:
            reader.ensure_tree_tables()
        except reader.recorder.dbapi.Error as e:  # type: ignore[union-attr]
            # A read-only database can still be verified; it just keeps no tree.
            if not _read_only(e):
                raise
            extend_tree = False
    tree_damage: Damage | None = None
    try:
        size, root = reader.tree_state()
    except TreeDamaged as e:
        size, root, extend_tree = 0, None, False
        tree_damage = Damage(1, "tree", str(e))
    audit = None
    if tree_damage is None and reader.tree_tables_exist():
        audit = reader.tree_audit(size)
        problem = audit.extra()
        if problem is not None:
            tree_damage, extend_tree = Damage(max(size, 1), "tree", problem), False
    full = MerkleAppender()
    wanted = set(roots_at)
    roots: dict[int, bytes] = {}
    pending: list[tuple[int, int, bytes]] = []
    stored = size  # the stored tree's size, as this verification extends it
    extended = False
    leaves: list[bytes] = []  # leaf hashes not yet added to ``full``
    expected: dict[int, list[tuple[int, bytes]]] = {}  # level -> nodes not yet compared
    bad_levels: set[int] = set()
    first_bad: tuple[int, str] | None = None  # (position, what) of the stored tree

    def flush() -> None:
        nonlocal extended, extend_tree, stored
        try:
            reader.extend_tree(stored, full.size, full.root(), pending)
        except IntegrityError:
            # Another verification extended the tree first: it covers these entries
            # already, so keep verifying and leave the tree to it.
            extend_tree = False
            return
        except reader.recorder.dbapi.Error as e:  # type: ignore[union-attr]
            # A read-only role (the auditor's, PostgreSQL: its tables exist, so only the
            # first INSERT of nodes tells) verifies without extending the tree.
            if not _read_only(e):
                raise
            extend_tree = False
            return
        finally:
            pending.clear()
        stored, extended = full.size, True

    def compare(level: int) -> None:
        nonlocal first_bad
        nodes = expected.pop(level, None)
        if not nodes or audit is None or level in bad_levels:
            return
        found = audit.compare(level, nodes)
        if found is not None:
            bad_levels.add(level)
            at = (found[0] + 1) << level  # the entry that completes the node
            if first_bad is None or at < first_bad[0]:
                first_bad = (at, found[1])

    def add_leaves() -> None:
        nonlocal first_bad
        if full.size + len(leaves) <= size:  # nodes the stored tree has: compare them
            full.append_by_level(leaves, expected)
            leaves.clear()
            if audit is None:
                expected.clear()
            else:
                for level in [lvl for lvl, batch in expected.items() if len(batch) >= AUDIT_BATCH]:
                    compare(level)
            if full.size == size:
                for level in list(expected):
                    compare(level)
                if full.root() != root and first_bad is None:
                    first_bad = (size, "the stored tree's root disagrees with the entries")
        else:
            new: dict[int, list[tuple[int, bytes]]] = {}
            full.append_by_level(leaves, new)
            leaves.clear()
            if extend_tree and first_bad is None:
                pending.extend((lvl, i, h) for lvl, batch in new.items() for i, h in batch)
                if full.size - stored >= FLUSH_EVERY:
                    flush()
        if full.size in wanted:
            roots[full.size] = full.root()

    sha256 = hashlib.sha256

    def entry(position: int, h: bytes) -> None:
        if on_entry is not None:
            on_entry(position, h)
        leaves.append(sha256(b"\x00" + h).digest())
        if len(leaves) >= AUDIT_BATCH or position == size or position in wanted:
            add_leaves()

    try:
        chain = reader.verify(witnessed_size=size, on_entry=entry, acts=acts or ActChecker())
        if leaves:
            add_leaves()
        for level in list(expected):  # a chain that ends before the stored tree
            compare(level)
    finally:
        if audit is not None:
            audit.close()
    result = chain
    if tree_damage is None and first_bad is not None:
        tree_damage = Damage(first_bad[0], "tree", first_bad[1])
    if tree_damage is not None and (
        chain.damage is None or tree_damage.position < chain.damage.position
    ):
        before = tree_damage.position - 1
        row = reader.entry(position=before) if before > 0 else None
        head = row[7] if row is not None and row[7] is not None else GENESIS
        result = VerifyResult(before, head, tree_damage, chain.acts)
    if result.ok:
        if extend_tree and pending:
            flush()
        return TreeResult(result, full.size, full.root(), extended, chain, roots)
    return TreeResult(result, size, root, extended, chain, roots)


def issue_checkpoint(
    reader: ChainReader, *, origin: str, signing_key: Any, now: datetime
) -> tuple[Checkpoint, str]:
    """Verify everything, then sign the tree head over every verified entry."""
    return sign_verified(verified(reader, now=now), origin=origin, signing_key=signing_key, now=now)


def verified(reader: ChainReader, *, now: datetime | None = None) -> TreeResult:
    """Verify and extend the tree; LedgerTampered (exit 3) at the first damage. ``now``:
    the command's clock, so that an act recorded after it (a clock set ahead) is damage
    here as in ``custodes verify`` (red team, session 15: a checkpoint signed a chain
    ``verify`` called damaged)."""
    outcome = verify_and_extend(reader, acts=ActChecker(now=now))
    if outcome.verify.damage is not None:
        raise LedgerTampered(outcome.verify.damage)
    return outcome


def verified_since(
    reader: ChainReader, outcome: TreeResult, *, now: datetime | None = None
) -> TreeResult:
    """``outcome`` when the log has not grown since it was verified, else the log
    verified again up to its head: a report reads its read models after the first
    verification and signs its checkpoint after this one, so every row it read rests on
    entries under the checkpoint (a red team of session 23: a request opened while a
    report was being made was in the report and not under its checkpoint, and the report
    never verified)."""
    if reader.head_entry()[0] <= outcome.tree_size:
        return outcome
    return verified(reader, now=now)


T = TypeVar("T")
# Reads a report makes while the log keeps growing under them, before it gives up.
READ_AGAIN = 5


def read_verified(
    reader: ChainReader,
    outcome: TreeResult,
    read: Callable[[TreeResult], T],
    *,
    settle: bool = True,
) -> tuple[T, TreeResult]:
    """``read(outcome)``, then the log verified again up to its head if it grew meanwhile
    (``verified_since``): what a report signs its checkpoint over. ``settle``: read again
    while anything was recorded under that head after the read began. A report is held to
    the events its checkpoint signs (``verify-report --events``): a refusal at the desk
    left out, a camera retired or a segment purged meanwhile (a row its events contradict)
    failed honest reports (session 26, the last two found by a red team). LedgerBusy after
    ``READ_AGAIN`` reads."""
    for _attempt in range(READ_AGAIN):
        began = reader.head_entry()[0]
        result = read(outcome)
        outcome = verified_since(reader, outcome)
        if not settle or outcome.tree_size <= began:
            return result, outcome
    raise LedgerBusy(attempts=READ_AGAIN, detail="events kept being recorded while the report read")


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
    """Prove today's ledger extends the signed checkpoint ``cp``: the root of its first
    ``cp.size`` entries, recomputed from them, is the checkpoint's root. When it is not,
    the first entry that differs is the one the stored tree says changed."""
    return judge_against(verify_and_extend(reader, roots_at={cp.size}), cp)


def judge_against(outcome: TreeResult, cp: Checkpoint) -> TreeResult:
    """``verify_against``'s judgement of a walk that computed the root at ``cp.size``
    (``verify_and_extend(..., roots_at={cp.size})``): ``custodes verify`` checks the
    checkpoint kept in the data directory in the same walk as the chain."""
    damage, chain = outcome.verify.damage, outcome.chain
    assert chain is not None
    if damage is not None and damage is chain.damage:
        raise LedgerTampered(damage)
    if chain.ok and chain.count < cp.size:
        n = chain.count
        raise LedgerTampered(
            Damage(n + 1, "truncated", f"checkpoint covers {cp.size} entries, ledger has {n}"),
            f"ledger verification FAILED against the checkpoint: it covers {cp.size} entries "
            f"but the ledger now has {n} (truncated at position {n + 1})",
        )
    recomputed = outcome.roots.get(cp.size)
    if recomputed is not None and recomputed != cp.root:
        located = damage is not None and damage.kind == "tree" and damage.position <= cp.size
        if located:
            assert damage is not None
            where, how = damage.position, f"entry {damage.position} is the first that differs"
        else:
            where, how = (
                1,
                ("the stored tree was rebuilt since, so it cannot tell which entry differs first"),
            )
        raise LedgerTampered(
            Damage(
                where, "edited", f"the first {cp.size} entries do not have the checkpoint's root"
            ),
            f"ledger verification FAILED against the checkpoint of size {cp.size} at position "
            f"{where}: edited (today's ledger does not extend it: the root of its first "
            f"{cp.size} entries is not the checkpoint's; {how})",
        )
    if damage is not None:
        raise LedgerTampered(damage)  # the stored tree (a cache) is damaged
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
    # One connection for the entry, the tree and the path; on PostgreSQL one statement
    # (the entry, the tree's size and the path's nodes), no BEGIN or COMMIT.
    store = reader.node_store(autocommit=True)
    try:
        row, (tree_size, _) = store.entry_with_path(notification_id, cp.size)
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
        if tree_size < cp.size:
            raise InvalidInput("the checkpoint is larger than this ledger's tree: wrong ledger?")
        proof = inclusion_of(store, row, cp, note)
    finally:
        store.close()
    check_inclusion(proof, cp)
    return proof


def inclusion_of(store: Any, row: Sequence[Any], cp: Checkpoint, note: str) -> InclusionProof:
    """The inclusion proof of one entry (the chain fields ``ChainReader.entry`` reads)
    in the tree ``cp`` commits to, from the stored perfect subtrees."""
    nid, oid, version, topic, position, digest, prev, h, act = row[:9]
    store.prefetch(inclusion_nodes(position - 1, cp.size))
    path = inclusion_proof(position - 1, cp.size, store)
    return InclusionProof(
        nid, position, UUID(bytes=oid), version, topic, digest, prev, h, cp.size, cp.root,
        path, note, act,
    )  # fmt: skip


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
