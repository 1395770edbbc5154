"""The global hash chain: canonical entry bytes, entry hashes and the verification walk.

Pure: no database. The store hands rows to :func:`walk` in notification order; the
byte format is specified in docs/FORMAT.md so an auditor can re-implement it.

Each stored event is one chain entry. The entry hash covers the SHA-256 digest of
the stored state, not the state itself: a payload may later be redacted or
crypto-shredded while the chain still verifies (DESIGN.md, R22).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

DOMAIN = b"custodes/chain/v1\x00"
GENESIS = bytes(32)
DIGEST_SIZE = 32
# domain, position, prev, notification id, originator id, version, topic length
_ENTRY_HEAD = struct.Struct(">18sQ32sQ16sQI")

DamageKind = Literal["edited", "deleted", "inserted", "reordered", "truncated"]


def state_digest(state: bytes) -> bytes:
    return hashlib.sha256(state).digest()


def entry_bytes(
    position: int,
    prev_hash: bytes,
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: str,
    digest: bytes,
) -> bytes:
    """The canonical bytes of one entry (docs/FORMAT.md, "Entry bytes")."""
    topic_bytes = topic if isinstance(topic, bytes) else topic.encode("utf-8")
    return b"".join(
        (
            DOMAIN,
            struct.pack(">Q", position),
            prev_hash,
            struct.pack(">Q", notification_id),
            originator_id,
            struct.pack(">Q", originator_version),
            struct.pack(">I", len(topic_bytes)),
            topic_bytes,
            digest,
        )
    )


def entry_hash(
    position: int,
    prev_hash: bytes,
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: str,
    digest: bytes,
) -> bytes:
    return hashlib.sha256(
        entry_bytes(
            position, prev_hash, notification_id, originator_id, originator_version, topic, digest
        )
    ).digest()


class ChainRow(NamedTuple):
    """One events-table row as the verifier reads it (chain columns may be missing).

    The store yields plain tuples in this column order; originator ids are the
    16 bytes of the UUID.
    """

    notification_id: int
    originator_id: bytes
    originator_version: int
    topic: str
    state: bytes
    position: int | None
    state_digest: bytes | None
    prev_hash: bytes | None
    entry_hash: bytes | None


@dataclass(frozen=True)
class Damage:
    position: int
    kind: DamageKind
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    count: int
    head_hash: bytes
    damage: Damage | None

    @property
    def ok(self) -> bool:
        return self.damage is None


class ChainBroken(Exception):
    """Raised by callers that need an intact chain; carries the first damage found."""

    def __init__(self, damage: Damage) -> None:
        super().__init__(
            f"ledger chain broken at position {damage.position}: {damage.kind} ({damage.detail})"
        )
        self.damage = damage


def walk(
    rows: Iterable[tuple],
    *,
    position_exists_later: Callable[[int, int], bool],
    witnessed_size: int = 0,
    on_entry: Callable[[int, bytes], None] | None = None,
) -> VerifyResult:
    """Check every row in notification order; stop at the first damage.

    ``position_exists_later(position, after_id)`` tells a deleted entry from a
    reordered one: when the next row claims a later position, the expected one is
    either gone (deleted) or stored further on (reordered). ``witnessed_size`` is
    the chain length some earlier verification or checkpoint saw; ending short of
    it means the tail was cut off (truncated).
    """
    sha256 = hashlib.sha256
    pack = _ENTRY_HEAD.pack
    topics: dict[str, bytes] = {}
    expected = 1
    prev = GENESIS
    for raw in rows:
        try:
            nid, oid, version, topic, state, position, sd, ph, eh = raw
            digest = sha256(state).digest()
            tb = topics.get(topic)
            if tb is None:
                tb = topics[topic] = topic if isinstance(topic, bytes) else topic.encode()
            # Fast path: one pack, one join, two digests (the same bytes as entry_bytes).
            # Any mismatch or missing chain column falls back to _check_row, which names
            # the exact damage.
            if (
                position != expected
                or sd != digest
                or ph != prev
                or eh is None
                or len(oid) != 16  # the pack below would pad or cut it silently
                or sha256(
                    pack(DOMAIN, expected, prev, nid, oid, version, len(tb)) + tb + digest
                ).digest()
                != eh
            ):
                damage = _check_row(ChainRow._make(raw), expected, prev, position_exists_later)
                if damage is not None:
                    return VerifyResult(expected - 1, prev, damage)
        except (TypeError, ValueError, struct.error, UnicodeError) as e:
            # SQLite keeps whatever type is written: a value of the wrong type in a
            # column is damage to this entry, not a reason to stop checking.
            damage = Damage(
                expected, "edited", f"notification {raw[0]!r} holds a value of the wrong type ({e})"
            )
            return VerifyResult(expected - 1, prev, damage)
        if on_entry is not None:
            on_entry(expected, eh)
        prev = eh
        expected += 1
    count = expected - 1
    if count < witnessed_size:
        return VerifyResult(
            count,
            prev,
            Damage(
                count + 1,
                "truncated",
                f"the chain ends at {count} entries but {witnessed_size} were witnessed before",
            ),
        )
    return VerifyResult(count, prev, None)


def _check_row(
    row: ChainRow,
    expected: int,
    prev: bytes,
    position_exists_later: Callable[[int, int], bool],
) -> Damage | None:
    if row.position is None or row.entry_hash is None or row.prev_hash is None:
        return Damage(
            expected,
            "inserted",
            f"notification {row.notification_id} has no chain entry",
        )
    if row.position != expected:
        if row.position > expected and not position_exists_later(expected, row.notification_id):
            return Damage(
                expected,
                "deleted",
                f"entries {expected}..{row.position - 1} are missing"
                if row.position - 1 > expected
                else f"entry {expected} is missing",
            )
        return Damage(
            expected,
            "reordered",
            f"notification {row.notification_id} holds position {row.position}",
        )
    digest = state_digest(row.state)
    if row.state_digest != digest:
        return Damage(expected, "edited", "stored state does not match its digest")
    if row.prev_hash != prev:
        return Damage(expected, "edited", "previous-hash link does not match the entry before")
    recomputed = entry_hash(
        expected,
        prev,
        row.notification_id,
        row.originator_id,
        row.originator_version,
        row.topic,
        digest,
    )
    if recomputed != row.entry_hash:
        return Damage(expected, "edited", "entry hash does not match the entry's fields")
    return None


def chain_columns(
    rows: Iterable[tuple[int, bytes, int, str, bytes]],
    head_position: int,
    head_hash: bytes,
) -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """Chain columns (position, digest, prev, entry hash) for rows appended after the head.

    ``rows`` are (notification id, originator id bytes, version, topic, state) in order.
    """
    position = head_position
    prev = head_hash
    for notification_id, originator_id, version, topic, state in rows:
        position += 1
        digest = state_digest(state)
        h = entry_hash(position, prev, notification_id, originator_id, version, topic, digest)
        yield position, digest, prev, h
        prev = h
