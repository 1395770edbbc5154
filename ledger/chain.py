"""The global hash chain: canonical entry bytes, entry hashes and the verification walk.

Pure: no database. The store hands rows to :func:`walk` in notification order; the
byte format is specified in docs/FORMAT.md so an auditor can re-implement it.

Each stored event is one chain entry. The entry hash covers the SHA-256 digest of
the stored state, not the state itself: a payload may later be redacted or
crypto-shredded while the chain still verifies (R22). The last entry of
every act (one save) also covers the act's signed record (``ledger.acts``, R25).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

DOMAIN = b"custodes/chain/v2\x00"
GENESIS = bytes(32)
DIGEST_SIZE = 32
# domain, position, prev, notification id, originator id, version, topic length
_ENTRY_HEAD = struct.Struct(">18sQ32sQ16sQI")
_NO_ACT = b"\x00\x00\x00\x00"
_U32 = struct.Struct(">I")
_MAX_U64 = 2**64 - 1

DamageKind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "truncated",
    # the stored Merkle tree (a cache of the entries) disagrees with them
    "tree",
    # signed acts (R25, R26)
    "unsigned",
    "forged",
    "unknown key",
    "revoked key",
    "expired key",  # a session key (custodes login) after its end
    "not permitted",
    "clock",
    # the policy cited (R28, verify --deep)
    "policy",
    # the data directory's events key cannot read the ledger's first entry: the database
    # holds another ledger (another library's schema, or a ledger made anew)
    "not this ledger",
]


class Text(bytes):
    """A TEXT value as its stored bytes (SQLite keeps any type in any column: reading TEXT
    as bytes reports a value that is not UTF-8 instead of crashing; the type tells a TEXT
    value from a BLOB one)."""

    __slots__ = ()


def state_digest(state: bytes) -> bytes:
    return hashlib.sha256(state).digest()


def entry_prefix(
    position: int,
    prev_hash: bytes,
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: str | bytes,
    digest: bytes,
) -> bytes:
    """The entry's bytes up to (not including) its act (docs/FORMAT.md, "Entry bytes")."""
    topic_bytes = topic if isinstance(topic, bytes) else topic.encode("utf-8")
    return b"".join(
        (
            _ENTRY_HEAD.pack(
                DOMAIN,
                position,
                prev_hash,
                notification_id,
                originator_id,
                originator_version,
                len(topic_bytes),
            ),
            topic_bytes,
            digest,
        )
    )


def entry_bytes(
    position: int,
    prev_hash: bytes,
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: str | bytes,
    digest: bytes,
    act: bytes | None = None,
) -> bytes:
    """The canonical bytes of one entry; ``act`` is empty except on an act's last entry."""
    act = act or b""
    prefix = entry_prefix(
        position, prev_hash, notification_id, originator_id, originator_version, topic, digest
    )
    return prefix + _U32.pack(len(act)) + act


def entry_hash(
    position: int,
    prev_hash: bytes,
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: str | bytes,
    digest: bytes,
    act: bytes | None = None,
) -> bytes:
    return hashlib.sha256(
        entry_bytes(
            position,
            prev_hash,
            notification_id,
            originator_id,
            originator_version,
            topic,
            digest,
            act,
        )
    ).digest()


def core_hash(prefix: bytes) -> bytes:
    """The hash of an entry as if its act were empty: what an act's statement signs."""
    return hashlib.sha256(prefix + _NO_ACT).digest()


class ChainRow(NamedTuple):
    """One events-table row as the verifier reads it (chain columns may be missing).

    The store yields plain tuples in this column order; originator ids are the
    16 bytes of the UUID.
    """

    notification_id: int
    originator_id: bytes
    originator_version: int
    topic: str | bytes
    state: bytes
    position: int | None
    state_digest: bytes | None
    prev_hash: bytes | None
    entry_hash: bytes | None
    act: bytes | None


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
    acts: int = 0  # signed acts checked

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


class ClearEvent(NamedTuple):
    position: int
    originator_id: bytes
    topic: str
    state: bytes


@dataclass(frozen=True)
class PendingAct:
    """The entries of an act, seen by the walk up to and including its last one."""

    first: int
    last: int
    entries: str  # hex SHA-256 of the concatenated core hashes
    topics: Sequence[str]
    clear: Sequence[ClearEvent]  # the act's events stored in clear (key events)
    events: Sequence[tuple[bytes, int, str, bytes]] = ()  # (originator, version, topic, state)
    before: bytes = GENESIS  # the entry hash before the act's first entry


class ActVerifier(Protocol):
    """Checks each act's record as the walk closes it (``ledger.act_check``)."""

    clear_topics: frozenset[str]

    def close(self, act: PendingAct, record: bytes) -> Damage | None: ...

    def deferred(self) -> Any:
        """Damage at an earlier act that a later one could have excused and did not
        (``ledger.act_check.Deferred``: its damage, the head before it, the acts before
        it), or None: the walk reports it if it comes first."""


def walk(
    rows: Iterable[tuple],
    *,
    position_exists_later: Callable[[int, int], bool],
    witnessed_size: int = 0,
    on_entry: Callable[[int, bytes], None] | None = None,
    acts: ActVerifier | None = None,
) -> VerifyResult:
    """Check every row in notification order; stop at the first damage.

    ``position_exists_later(position, after_id)`` tells a deleted entry from a
    reordered one: when the next row claims a later position, the expected one is
    either gone (deleted) or stored further on (reordered). ``witnessed_size`` is
    the chain length some earlier verification or checkpoint saw; ending short of
    it means the tail was cut off (truncated). With ``acts``, every entry must belong
    to a signed act, and each act's record is checked as it closes; damage the checker
    deferred (an act a later one could have excused) is reported if it comes first.
    """
    result = _walk(
        rows,
        position_exists_later=position_exists_later,
        witnessed_size=witnessed_size,
        on_entry=on_entry,
        acts=acts,
    )
    deferred = acts.deferred() if acts is not None else None
    if deferred is not None and (
        result.damage is None or deferred.damage.position < result.damage.position
    ):
        return VerifyResult(
            deferred.damage.position - 1, deferred.head, deferred.damage, deferred.acts
        )
    return result


def _walk(
    rows: Iterable[tuple],
    *,
    position_exists_later: Callable[[int, int], bool],
    witnessed_size: int = 0,
    on_entry: Callable[[int, bytes], None] | None = None,
    acts: ActVerifier | None = None,
) -> VerifyResult:
    """``walk`` without the checker's deferred damage."""
    sha256 = hashlib.sha256
    pack = _ENTRY_HEAD.pack
    u32 = _U32.pack
    topics: dict[str | bytes, tuple[bytes, str]] = {}
    clear_topics = acts.clear_topics if acts is not None else frozenset()
    expected = 1
    prev = GENESIS
    act_first = 1
    act_prev = GENESIS  # the head before the act being read
    act_hashes: list[bytes] = []  # its entries' hashes so far
    act_cores = sha256()
    act_topics: list[str] = []
    act_clear: list[ClearEvent] = []
    keep_events = acts is not None and getattr(acts, "wants_events", False)
    act_events: list[tuple[bytes, int, str, bytes]] = []
    closed = 0
    for raw in rows:
        damage = _type_damage(raw, expected)
        if damage is not None:
            return VerifyResult(expected - 1, prev, damage, closed)
        nid, oid, version, topic, state, position, sd, ph, eh, act = raw
        digest = sha256(state).digest()
        cached = topics.get(topic)
        if cached is None:
            tb = bytes(topic) if isinstance(topic, bytes) else topic.encode()
            try:
                cached = topics[topic] = (tb, tb.decode())
            except UnicodeDecodeError:
                return VerifyResult(
                    expected - 1,
                    prev,
                    Damage(expected, "edited", f"notification {nid}: the topic is not UTF-8"),
                    closed,
                )
        tb, name = cached
        prefix = (
            pack(DOMAIN, expected, prev, nid, oid, version, len(tb)) + tb + digest
            if position == expected and ph == prev
            else b""
        )
        core = sha256(prefix + _NO_ACT).digest() if prefix else b""
        full = core if not act else sha256(prefix + u32(len(act)) + act).digest()
        # Any mismatch or missing chain column falls back to _check_row, which names
        # the exact damage.
        if not prefix or sd != digest or eh is None or full != eh:
            damage = _check_row(ChainRow._make(raw), expected, prev, position_exists_later)
            if damage is None:  # pragma: no cover - the fast path and _check_row agree
                damage = Damage(expected, "edited", "entry hash does not match")
            return VerifyResult(expected - 1, prev, damage, closed)
        if acts is not None:
            act_cores.update(core)
            act_topics.append(name)
            act_hashes.append(eh)
            if keep_events:
                act_events.append((oid, version, name, state))
            if name in clear_topics:
                act_clear.append(ClearEvent(expected, oid, name, state))
            if act:
                damage = acts.close(
                    PendingAct(
                        act_first,
                        expected,
                        act_cores.hexdigest(),
                        act_topics,
                        act_clear,
                        act_events,
                        act_prev,
                    ),
                    bytes(act),
                )
                if damage is not None:
                    # Nothing of the act from the damage on is attested.
                    at = damage.position - act_first
                    head = act_prev if at <= 0 else act_hashes[at - 1]
                    return VerifyResult(damage.position - 1, head, damage, closed)
                closed += 1
                act_first, act_prev = expected + 1, eh
                act_cores, act_topics, act_clear, act_hashes = sha256(), [], [], []
                act_events = []
        if on_entry is not None:
            on_entry(expected, eh)
        prev = eh
        expected += 1
    count = expected - 1
    if acts is not None and act_first <= count:
        return VerifyResult(
            act_first - 1,
            act_prev,
            Damage(
                act_first,
                "unsigned",
                f"entries {act_first}..{count} belong to no signed act"
                if count > act_first
                else f"entry {act_first} belongs to no signed act",
            ),
            closed,
        )
    if count < witnessed_size:
        return VerifyResult(
            count,
            prev,
            Damage(
                count + 1,
                "truncated",
                f"the chain ends at {count} entries but {witnessed_size} were witnessed before",
            ),
            closed,
        )
    return VerifyResult(count, prev, None, closed)


_INT = int


def _type_damage(raw: tuple, expected: int) -> Damage | None:
    """A value that cannot be part of the entry's bytes is an edit (docs/FORMAT.md,
    "Types"): integers for ids, versions and positions, bytes for digests, hashes and
    states, text for the topic, exactly 16 bytes of originator id."""
    try:
        nid, oid, version, topic, state, position, sd, ph, eh, act = raw
    except ValueError:
        return Damage(expected, "edited", "the row does not have the events table's columns")
    what = None
    if type(nid) is not _INT or not 0 <= nid <= _MAX_U64:
        what = "notification id"
    elif type(oid) is not bytes or len(oid) != 16:
        what = "originator_id"
    elif type(version) is not _INT or not 0 <= version <= _MAX_U64:
        what = "originator_version"
    elif type(topic) is not str and type(topic) is not Text:
        what = "topic"
    elif type(state) is not bytes:
        what = "state"
    elif position is not None and (type(position) is not _INT or not 0 <= position <= _MAX_U64):
        what = "position"
    elif sd is not None and (type(sd) is not bytes or len(sd) != DIGEST_SIZE):
        what = "state_digest"
    elif ph is not None and (type(ph) is not bytes or len(ph) != DIGEST_SIZE):
        what = "prev_hash"
    elif eh is not None and (type(eh) is not bytes or len(eh) != DIGEST_SIZE):
        what = "entry_hash"
    elif act is not None and type(act) is not bytes:
        what = "act"
    if what is None:
        return None
    shown = nid if type(nid) is _INT else repr(nid)[:40]
    return Damage(
        expected, "edited", f"notification {shown}: {what} holds a value of the wrong type"
    )


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
        row.act,
    )
    if recomputed != row.entry_hash:
        return Damage(expected, "edited", "entry hash does not match the entry's fields")
    return None


Seal = Callable[[int, int, str], bytes]
"""(first position, count, hex digest of the core hashes) -> the act's signed record."""


def chain_columns(
    rows: Iterable[tuple[int, bytes, int, str, bytes]],
    head_position: int,
    head_hash: bytes,
    seal: Seal | None = None,
) -> Iterator[tuple[int, bytes, bytes, bytes, bytes | None]]:
    """Chain columns (position, digest, prev, entry hash, act) for rows appended after the
    head, as ONE act: ``seal`` makes the act record for the last row (None: no act, for
    tests of the chain alone).

    ``rows`` are (notification id, originator id bytes, version, topic, state) in order.
    """
    position = head_position
    prev = head_hash
    prefixes: list[tuple[int, bytes, bytes, bytes]] = []
    for notification_id, originator_id, version, topic, state in rows:
        position += 1
        digest = state_digest(state)
        prefix = entry_prefix(
            position, prev, notification_id, originator_id, version, topic, digest
        )
        h = core_hash(prefix)
        prefixes.append((position, digest, prev, prefix))
        prev = h
    if not prefixes:
        return
    cores = [core_hash(p[3]) for p in prefixes]
    record = seal(prefixes[0][0], len(prefixes), _cores_hex(cores)) if seal is not None else None
    for n, ((pos, digest, prev_hash, prefix), core) in enumerate(zip(prefixes, cores, strict=True)):
        if n == len(prefixes) - 1 and record:
            yield (
                pos,
                digest,
                prev_hash,
                hashlib.sha256(prefix + _U32.pack(len(record)) + record).digest(),
                record,
            )
        else:
            yield pos, digest, prev_hash, core, None


def _cores_hex(cores: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for c in cores:
        h.update(c)
    return h.hexdigest()


# One Struct per topic: the whole entry with an empty act in ONE pack call (the store's
# fast path; ``chain_columns`` above is the reference it is tested against).
_ENTRY_STRUCTS: dict[str, tuple[Callable[..., bytes], bytes]] = {}
_MAX_ENTRY_STRUCTS = 4096


def _entry_struct(topic: str) -> tuple[Callable[..., bytes], bytes]:
    """The entry with an empty act as one ``Struct``'s ``pack`` for this topic, and the
    topic's field (its length and UTF-8 bytes, packed once here rather than per entry).
    The act's length, 0 for an entry packed here, is the format's four trailing pad
    bytes. Per entry the pack takes eight values, not ten (measured with callgrind:
    ~750 instructions less per event at 100 events per save, with the topic looked up
    once per run of one topic)."""
    topic_bytes = topic.encode("utf-8")
    packer = struct.Struct(f">{len(DOMAIN)}sQ32sQ16sQ{4 + len(topic_bytes)}s32s4x")
    field = _U32.pack(len(topic_bytes)) + topic_bytes
    if len(_ENTRY_STRUCTS) < _MAX_ENTRY_STRUCTS:
        _ENTRY_STRUCTS[topic] = (packer.pack, field)
    return packer.pack, field


def _no_pack(*_: Any) -> bytes:  # pragma: no cover - replaced before the first entry
    raise AssertionError("no topic looked up")


def chain_rows(
    ids: Sequence[int],
    events: Iterable[Any],  # eventsourcing's StoredEvent: originator_id a UUID here
    head_position: int,
    head_hash: bytes,
    seal: Seal | None = None,
    *,
    sqlite: bool,
) -> list[tuple[object, ...]]:
    """The rows to insert, chain columns included, for stored ``events`` appended after
    the head as ONE act: ``(notification id, originator id, version, topic, state,
    position, digest, prev, entry hash, act)``. The same bytes as ``chain_columns``
    (tested against it), in one pass with one ``pack`` and two SHA-256 per entry.

    ``sqlite``: the row holds the originator id's 16 bytes rather than the UUID
    (PostgreSQL's column type), every BLOB as a ``bytearray``, and a row without an act
    stops before the act column (nine values; the column's default is the NULL a
    ``None`` would store). Python's sqlite3 binds an ``int``, ``str`` or ``bytearray``
    directly but sends a ``bytes`` or ``None`` through its adapter lookup first, which
    cost more than the copy (about 1,900 instructions per value, measured). The stored
    bytes are the same; the hash covers the same bytes either way.
    """
    sha256 = hashlib.sha256
    structs = _ENTRY_STRUCTS
    domain = DOMAIN
    position = head_position
    prev = head_hash
    prev_blob: bytes | bytearray = bytearray(prev) if sqlite else prev
    rows: list[tuple[object, ...]] = []
    append = rows.append
    last_entry = b""
    # A save's events mostly share one topic: its packer is looked up once for the run.
    last_topic: str | None = None
    pack: Callable[..., bytes] = _no_pack
    field = b""
    for nid, e in zip(ids, events, strict=True):
        oid = e.originator_id
        oid_bytes = oid.bytes
        topic = e.topic
        state = e.state
        version = e.originator_version
        if topic is not last_topic:
            pack, field = structs.get(topic) or _entry_struct(topic)
            last_topic = topic
        position += 1
        digest = sha256(state).digest()
        last_entry = pack(domain, position, prev, nid, oid_bytes, version, field, digest)
        prev = sha256(last_entry).digest()
        if sqlite:
            core = bytearray(prev)
            append(
                (nid, bytearray(oid_bytes), version, topic, bytearray(state),
                 position, bytearray(digest), prev_blob, core)
            )  # fmt: skip
            prev_blob = core
        else:
            append((nid, oid, version, topic, state, position, digest, prev_blob, prev, None))
            prev_blob = prev
    if not rows or seal is None:
        return rows
    cores = sha256()
    for row in rows:
        cores.update(row[8])  # type: ignore[arg-type]
    record = seal(head_position + 1, len(rows), cores.hexdigest())
    if record:
        last = rows[-1]
        sealed = sha256(last_entry[:-4] + _U32.pack(len(record)) + record).digest()
        if sqlite:
            rows[-1] = (*last[:8], bytearray(sealed), bytearray(record))
        else:
            rows[-1] = (*last[:8], sealed, record)
    return rows
