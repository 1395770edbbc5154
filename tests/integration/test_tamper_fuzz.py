"""Seeded random damage to a real ledger's rows is found where an oracle says it is (R21).

One ledger is written per database through the real chained recorder: a real ledger's
first act (the Director's key enrolled), then random batches, each one act the Director
signs (docs/FORMAT.md, "Signed acts"). Each case then
damages the stored rows with plain SQL inside one transaction, runs the real
verification (``verify_chain`` -> ``ChainReader.verify`` -> ``walk``) on that same,
uncommitted connection, and rolls back. The expected position and kind come from
``expect_*`` below, written from the rules in docs/FORMAT.md ("Verification
algorithm"), never from the code under test.

Which cases run: by default a stratified sample of the first SCAN cases the seed draws:
the first PER_STRATUM of every (damage family, expected kind) that occurs there, topped
up to MIN_PER_KIND of every kind; so every combination the full run draws is still run,
in about a tenth of the time. CUSTODES_SOAK=1 runs all of the first SCAN cases
(docs/RELIABILITY.md, "Soak runs").

Replay: CUSTODES_FUZZ_SEED picks the seed, CUSTODES_FUZZ_CASES runs the first that many
cases (all of them, not a sample). Case ``i`` draws only from ``Random(f"{seed}:{i}")``,
so a failure names the one case to look at, whatever the number of cases.
"""

from __future__ import annotations

import os
import random
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from ledger.acts import ActRequest
from ledger.app import open_ledger
from ledger.chain import GENESIS, VerifyResult
from ledger.chain_reader import ChainReader
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import verify_chain
from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from tests.conftest import fresh_postgres_database
from tests.soak import SOAK

pytestmark = pytest.mark.heavy(seconds=2)  # started first (tests/conftest.py)

TABLE = "ledger_events"
SEED = int(os.environ.get("CUSTODES_FUZZ_SEED", "20261102"))
SCAN = 2000  # cases drawn; all of them run under CUSTODES_SOAK=1
CASES = int(os.environ.get("CUSTODES_FUZZ_CASES", "0")) or (SCAN if SOAK else 0)  # 0: a sample
PER_STRATUM = 3  # cases of each (family, kind) in the sample
MIN_PER_KIND = 10  # cases of each kind in the sample (50 in a run of 1,000 or more)
BATCHES = 48  # of 1..5 events each: about 145 entries
# Kinds of events a Director may sign (ledger/permissions.py); any other topic, e.g. a
# non-ASCII one, is covered by the chain's own property tests (tests/unit).
TOPICS = [
    "ledger.staff:StaffMember.StaffMemberAdded",
    "ledger.disclosure:Request.DisclosureDecided",
    "ledger.footage:Segment.FootageCaptured",
    "ledger.patrons:Patron.PatronForgotten",
    "ledger.footage:Camera.CameraRegistered",
    "ledger.refusals:Refusal.AccessDenied",
]
EDITABLE = [
    "state",
    "topic",
    "originator_id",
    "originator_version",
    "state_digest",
    "prev_hash",
    "entry_hash",
    "position",
    "id",
    "act",
]
CHAIN_LINKS = ["position", "prev_hash", "entry_hash"]
KINDS = ["edited", "deleted", "inserted", "reordered", "truncated", "unsigned"]


@dataclass(frozen=True)
class Row:
    id: int
    originator_id: bytes
    originator_version: int
    topic: str
    state: bytes
    position: int | None
    state_digest: bytes | None
    prev_hash: bytes | None
    entry_hash: bytes | None
    act: bytes | None = None


@dataclass(frozen=True)
class Update:
    id: int
    column: str
    value: Any


@dataclass(frozen=True)
class Delete:
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Insert:
    row: Row


@dataclass(frozen=True)
class Renumber:
    """Give rows new notification ids, all at once (a swap goes through a spare id)."""

    new_ids: dict[int, int]


Op = Update | Delete | Insert | Renumber


@dataclass(frozen=True)
class Case:
    what: str
    ops: list[Op]
    position: int
    kind: str
    family: str  # what was damaged and how, without the random details (for sampling)


# ---- the oracle: what docs/FORMAT.md says verification must report -----------------------


def expect_after_renumbering(rows: list[Row], new_ids: dict[int, int]) -> tuple[int, str]:
    """Rows keep their chain columns but change notification ids."""
    ordered = sorted(rows, key=lambda r: new_ids.get(r.id, r.id))
    for expected, row in enumerate(ordered, start=1):
        if new_ids.get(row.id, row.id) < 0:
            return expected, "edited"  # not a notification id: the type check (step 0)
        if row.position != expected:
            # Every position before ``expected`` is in place, so this row claims a later
            # one and the expected entry is stored further on (FORMAT.md step 2).
            return expected, "reordered"
    # Same order: only the notification id changed, and it is part of the entry bytes.
    return min(r.position for r in rows if r.id in new_ids), "edited"


def expect_after_edit(rows: list[Row], row: Row, column: str, value: Any) -> tuple[int, str]:
    p = row.position
    assert p is not None
    if column == "id":
        return expect_after_renumbering(rows, {row.id: value})
    if column in CHAIN_LINKS and value is None:
        # By design a row without a chain entry reads as an insertion (FORMAT.md step 1):
        # the verifier cannot tell a stripped entry from a row that never had one.
        return p, "inserted"
    if column == "position":
        if value < 0:
            return p, "edited"  # not a position at all: the type check comes first (step 0)
        if value > p:
            # By design: the row claims a later position and no row holds p any more,
            # which is exactly what a deletion of p looks like (FORMAT.md step 2).
            return p, "deleted"
        return p, "reordered"  # position < expected (FORMAT.md step 2)
    # state (its digest no longer matches), the digest itself, the link, the entry hash or
    # any field hashed into the entry bytes.
    return p, "edited"


def act_start(rows: list[Row], position: int) -> int:
    """The first position of the act holding ``position`` (acts end at a row with an
    act record)."""
    start = 1
    for r in sorted(rows, key=lambda r: r.position or 0):
        if r.position is not None and r.position >= position:
            return start
        if r.act:
            start = (r.position or 0) + 1
    return start


def expect_after_delete(rows: list[Row], deleted: set[int]) -> tuple[int, str]:
    first = min(r.position for r in rows if r.id in deleted)
    if all(r.id in deleted for r in rows if r.position >= first):
        # Nothing after the gap: by design a lost tail. Cut at an act's end, it is found
        # through the witness (the Merkle tree's size covers every entry here); cut
        # inside an act, the rest of that act belongs to no signed act (FORMAT.md).
        start = act_start(rows, first)
        return (first, "truncated") if start == first else (start, "unsigned")
    return first, "deleted"


def expect_after_insert(rows: list[Row], new: Row) -> tuple[int, str]:
    before = sum(1 for r in rows if r.id < new.id)  # entries intact ahead of it
    expected = before + 1
    if new.id < 0 or (new.position is not None and new.position < 0):
        return expected, "edited"  # values of the wrong kind: the type check (step 0)
    if new.position is None or new.prev_hash is None or new.entry_hash is None:
        return expected, "inserted"
    if new.position == expected:
        # Only at the end (every position up to N is taken): its link or hash is wrong.
        return expected, "edited"
    if new.position > expected:
        if before < len(rows):
            return expected, "reordered"  # the real entry ``expected`` is stored later
        # At the end, a claim beyond the next position is a gap: "deleted" by design.
        return expected, "deleted"
    return expected, "reordered"


# ---- drawing one case ---------------------------------------------------------------------


def flip_byte(rng: random.Random, value: bytes) -> bytes:
    # XOR with a non-zero mask: the stored bytes always change, no edit is a no-op.
    i = rng.randrange(len(value))
    return value[:i] + bytes([value[i] ^ rng.randint(1, 255)]) + value[i + 1 :]


def resize(rng: random.Random, value: bytes) -> bytes:
    """One byte more or one fewer: a hash compared by a fixed-size pack would miss it.
    (originator_id is resized only on SQLite, in its own test: PostgreSQL's uuid column
    cannot hold it.)"""
    if rng.random() < 0.5 and len(value) > 1:
        return value[:-1]
    return value + bytes([rng.randrange(256)])


def flip_int_byte(rng: random.Random, value: int) -> int:
    """A byte of the stored 64-bit integer: flipping the top one may make it negative,
    outside the format's unsigned range, which must be reported like any other edit."""
    stored = value.to_bytes(8, "big", signed=True)
    return int.from_bytes(flip_byte(rng, stored), "big", signed=True)


def flip_topic(rng: random.Random, topic: str) -> str:
    raw = topic.encode("utf-8")
    while True:
        changed = flip_byte(rng, raw)
        try:
            text = changed.decode("utf-8")
        except UnicodeDecodeError:
            continue  # the column holds text: only valid UTF-8 can be stored
        if "\x00" not in text:  # PostgreSQL text cannot hold NUL
            return text


def spare_ids(rows: list[Row]) -> list[int]:
    """Unused notification ids that fall before, between and after the rows."""
    used = {r.id for r in rows}
    top = max(used)
    inside = [i for i in range(1, top) if i not in used]
    return [0, -7, *inside, top + 1, top + 50]


def draw_edit(rng: random.Random, rows: list[Row]) -> Case:
    row = rng.choice(rows)
    column = rng.choice(EDITABLE)
    value: Any
    while True:
        if column == "act" and not row.act:
            row = rng.choice([r for r in rows if r.act])  # only an act's last row has one
        how = "flip a byte of"
        if column in ("state", "state_digest", "prev_hash", "entry_hash") and rng.random() < 0.2:
            value = resize(rng, getattr(row, column))
            how = "resize"
        elif column in ("state", "state_digest", "prev_hash", "entry_hash", "originator_id", "act"):
            value = flip_byte(rng, getattr(row, column))
            if column == "originator_id" and any(
                (r.originator_id, r.originator_version) == (value, row.originator_version)
                for r in rows
            ):
                continue  # UNIQUE (originator_id, originator_version)
        elif column == "topic":
            value = flip_topic(rng, row.topic)
        elif column == "originator_version":
            value = flip_int_byte(rng, row.originator_version)
            if any(
                (r.originator_id, r.originator_version) == (row.originator_id, value) for r in rows
            ):
                continue
        elif column == "id":
            value = flip_int_byte(rng, row.id)
            if any(r.id == value for r in rows):
                continue  # primary key
        else:
            value = flip_int_byte(rng, row.position)
            if any(r.position == value for r in rows):
                continue  # UNIQUE (position)
        break
    if column == "id":
        op: Op = Renumber({row.id: value})
    else:
        op = Update(row.id, column, value)
    position, kind = expect_after_edit(rows, row, column, value)
    return Case(
        f"{how} {column} at position {row.position}", [op], position, kind, f"{how} {column}"
    )


def draw_erase(rng: random.Random, rows: list[Row]) -> Case:
    row = rng.choice(rows)
    column = rng.choice([*CHAIN_LINKS, "state_digest"])
    position, kind = expect_after_edit(rows, row, column, None)
    return Case(
        f"set {column} NULL at position {row.position}",
        [Update(row.id, column, None)],
        position,
        kind,
        f"set {column} NULL",
    )


def draw_delete(rng: random.Random, rows: list[Row]) -> Case:
    start = rng.randrange(len(rows))
    count = rng.choice([1, 1, 1, 2, 3])
    doomed = {r.id for r in rows[start : start + count]}
    position, kind = expect_after_delete(rows, doomed)
    return Case(
        f"delete {len(doomed)} row(s) from position {rows[start].position}",
        [Delete(tuple(sorted(doomed)))],
        position,
        kind,
        f"delete {len(doomed)} row(s)",
    )


def draw_insert(rng: random.Random, rows: list[Row]) -> Case:
    source = rng.choice(rows)
    new_id = rng.choice(spare_ids(rows))
    # A fresh version of the source's aggregate keeps UNIQUE (originator_id, version).
    version = max(r.originator_version for r in rows) + rng.randint(1, 1000)
    n = len(rows)
    variant = rng.choice(["unchained", "no position", "claims a new position"])
    if variant == "unchained":
        chain: tuple[Any, ...] = (None, None, None, None)
    elif variant == "no position":
        chain = (None, source.state_digest, source.prev_hash, source.entry_hash)
    else:
        # Positions 1..N are taken (UNIQUE), so a copied entry can only claim a new one.
        claim = rng.choice([n + 1, n + 1, n + rng.randint(2, 40), 0, -rng.randint(1, 9)])
        chain = (claim, source.state_digest, source.prev_hash, source.entry_hash)
    new = Row(
        new_id, source.originator_id, version, source.topic, source.state, *chain
    )  # a correctly chained append is a legitimate append: never drawn here
    position, kind = expect_after_insert(rows, new)
    return Case(
        f"insert a copy of position {source.position} as notification {new_id} ({variant}, "
        f"position {new.position})",
        [Insert(new)],
        position,
        kind,
        f"insert a copy ({variant})",
    )


def draw_swap(rng: random.Random, rows: list[Row]) -> Case:
    a, b = rng.sample(rows, 2)
    new_ids = {a.id: b.id, b.id: a.id}
    position, kind = expect_after_renumbering(rows, new_ids)
    return Case(
        f"swap the notification ids of positions {a.position} and {b.position}",
        [Renumber(new_ids)],
        position,
        kind,
        "swap two ids",
    )


def draw_move(rng: random.Random, rows: list[Row]) -> Case:
    row = rng.choice(rows)
    new_id = rng.choice(spare_ids(rows))
    position, kind = expect_after_renumbering(rows, {row.id: new_id})
    return Case(
        f"move position {row.position} to notification {new_id}",
        [Renumber({row.id: new_id})],
        position,
        kind,
        "move to a free id",
    )


def draw_truncate(rng: random.Random, rows: list[Row]) -> Case:
    keep = rng.randrange(len(rows))  # 0..N-1 entries survive
    doomed = {r.id for r in rows[keep:]}
    position, kind = expect_after_delete(rows, doomed)
    return Case(
        f"cut the tail after {keep} entries",
        [Delete(tuple(doomed))],
        position,
        kind,
        "cut the tail",
    )


DRAWS: list[tuple[Callable[[random.Random, list[Row]], Case], int]] = [
    (draw_edit, 40),
    (draw_erase, 5),
    (draw_delete, 15),
    (draw_insert, 15),
    (draw_swap, 10),
    (draw_move, 5),
    (draw_truncate, 10),
]


def draw_case(seed: int, index: int, rows: list[Row]) -> Case:
    rng = random.Random(f"{seed}:{index}")
    (draw,) = rng.choices([d for d, _ in DRAWS], weights=[w for _, w in DRAWS])
    return draw(rng, rows)


def sample(seed: int, rows: list[Row]) -> list[tuple[int, Case]]:
    """Of the first SCAN cases, the first PER_STRATUM of every (family, kind) drawn, and
    more of a kind until it has MIN_PER_KIND: every combination a full run would try,
    in drawing order, each case with its own index (replayable alone)."""
    drawn = [(i, draw_case(seed, i, rows)) for i in range(SCAN)]
    strata: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    chosen: set[int] = set()
    for i, case in drawn:
        if strata[case.family, case.kind] < PER_STRATUM:
            strata[case.family, case.kind] += 1
            kinds[case.kind] += 1
            chosen.add(i)
    for i, case in drawn:
        if kinds[case.kind] < MIN_PER_KIND and i not in chosen:
            kinds[case.kind] += 1
            chosen.add(i)
    return [(i, case) for i, case in drawn if i in chosen]


# ---- the real ledger, and damage applied with plain SQL -----------------------------------


class UncommittedReader(ChainReader):
    """Reads through the test's open transaction, so it sees the damage not yet rolled
    back; the verification SQL, the witness and the walk are the real ones."""

    def __init__(self, recorder: ChainedApplicationRecorder, conn: Any) -> None:
        super().__init__(recorder)
        self.conn = conn

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        yield self.conn


class Damager:
    def __init__(self, recorder: ChainedApplicationRecorder, conn: Any) -> None:
        self.conn = conn
        self.pg = recorder.dialect == "postgresql"
        self.p = "%s" if self.pg else "?"

    def begin(self) -> None:
        if not self.pg and not self.conn.in_transaction:
            self.conn.execute("BEGIN")  # psycopg begins on the first statement itself

    def rollback(self) -> None:
        self.conn.rollback()

    def _oid(self, value: bytes) -> Any:
        return uuid.UUID(bytes=value) if self.pg else value

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.conn.cursor().execute(sql.replace("?", self.p), params)

    def apply(self, op: Op) -> None:
        if isinstance(op, Update):
            value = self._oid(op.value) if op.column == "originator_id" else op.value
            self._run(f"UPDATE {TABLE} SET {op.column} = ? WHERE id = ?", (value, op.id))
        elif isinstance(op, Delete):
            marks = ", ".join("?" * len(op.ids))
            self._run(f"DELETE FROM {TABLE} WHERE id IN ({marks})", op.ids)
        elif isinstance(op, Insert):
            r = op.row
            self._run(
                f"INSERT INTO {TABLE} (id, originator_id, originator_version, topic, state, "
                "position, state_digest, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.id,
                    self._oid(r.originator_id),
                    r.originator_version,
                    r.topic,
                    r.state,
                    r.position,
                    r.state_digest,
                    r.prev_hash,
                    r.entry_hash,
                ),
            )
        else:
            spare = 10**12  # out of the way of every id the cases use
            for n, old in enumerate(op.new_ids):
                self._run(f"UPDATE {TABLE} SET id = ? WHERE id = ?", (spare + n, old))
            for n, new in enumerate(op.new_ids.values()):
                self._run(f"UPDATE {TABLE} SET id = ? WHERE id = ?", (new, spare + n))

    def rows(self) -> list[Row]:
        oid = "uuid_send(originator_id)" if self.pg else "originator_id"
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT id, {oid}, originator_version, topic, state, position, state_digest, "
            f"prev_hash, entry_hash, act FROM {TABLE} ORDER BY id"
        )
        return [
            Row(
                r[0],
                bytes(r[1]),
                r[2],
                r[3],
                bytes(r[4]),
                r[5],
                *map(bytes, r[6:9]),
                None if r[9] is None else bytes(r[9]),
            )  # fmt: skip
            for r in cur.fetchall()
        ]


CLOCK = ManualClock(datetime(2026, 11, 2, 15, 0, tzinfo=UTC))


def leave_id_gap(recorder: ChainedApplicationRecorder, width: int, rng: random.Random) -> None:
    """Unused notification ids, as PostgreSQL leaves after a failed save (FORMAT.md), so
    an inserted or moved row can land between any two entries, not only at the ends.
    A placeholder row holds the top id for the next batch and is removed after it (see
    write_ledger): SQLite numbers from max(id), and on PostgreSQL a recorder that wrote
    the head itself numbers from its own last id (its guard checks max(id))."""
    engine = recorder.datastore.engine
    assert engine is not None
    with engine.begin() as conn:
        if recorder.dialect == "postgresql":
            conn.exec_driver_sql(
                f"INSERT INTO {TABLE} (id, originator_id, originator_version, topic, state) "
                "SELECT max(n), %s, 1, 'placeholder', '' FROM (SELECT nextval("
                f"pg_get_serial_sequence('{TABLE}', 'id')) AS n "
                "FROM generate_series(1, %s)) AS drawn",
                (uuid.UUID(bytes=rng.randbytes(16)), width),
            )
        else:
            conn.exec_driver_sql(
                f"INSERT INTO {TABLE} (id, originator_id, originator_version, topic, state) "
                f"VALUES ((SELECT max(id) FROM {TABLE}) + ?, ?, 1, 'placeholder', x'')",
                (width, rng.randbytes(16)),
            )


def write_ledger(url: str, rng: random.Random) -> ChainedApplicationRecorder:
    # A real ledger's first act: the Director and her key, the service key.
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    with tempfile.TemporaryDirectory() as keys:
        ledger = open_ledger(DataDir.create(Path(keys) / "data", database_url=url), clock=CLOCK)
        signer = ledger.initialise(
            director="Dana Director", library="Fuzz", timezone="UTC", key=key
        )
        ledger.close()
    act = ActRequest(signer, "fuzz", CLOCK)
    datastore = ChainedDatastore(url=url)
    recorder = ChainedApplicationRecorder(datastore, events_table_name=TABLE)
    aggregates = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(12)]
    versions = dict.fromkeys(aggregates, 0)
    for batch in range(BATCHES):
        gap = batch % 6 == 5
        if gap:
            leave_id_gap(recorder, rng.randint(1, 4), rng)
        events = []
        for _ in range(rng.randint(1, 5)):
            oid = rng.choice(aggregates)
            versions[oid] += 1
            state = rng.randbytes(rng.randint(1, 300))
            events.append(StoredEvent(oid, versions[oid], rng.choice(TOPICS), state))
        recorder.insert_events(events, act=act)
        if gap:
            with datastore.engine.begin() as conn:
                conn.exec_driver_sql(f"DELETE FROM {TABLE} WHERE topic = 'placeholder'")
    # The first verification builds the Merkle tree over every entry: its size is the
    # witness that turns a cut-off tail into "truncated".
    intact = verify_chain(ChainReader(recorder))
    assert intact.ok, intact.damage
    return recorder


def verify_damaged(recorder: ChainedApplicationRecorder, damager: Damager) -> VerifyResult:
    return verify_chain(UncommittedReader(recorder, damager.conn), extend_tree=False)


@contextmanager
def fuzz_ledger(url: str) -> Iterator[tuple[ChainedApplicationRecorder, Damager]]:
    recorder = write_ledger(url, random.Random(SEED))
    engine = recorder.datastore.engine
    assert engine is not None
    proxy = engine.raw_connection()
    try:
        yield recorder, Damager(recorder, proxy.driver_connection)
    finally:
        proxy.rollback()
        proxy.close()
        engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ChainedApplicationRecorder, Damager]]:
    """One ledger per database for the module: every case rolls its damage back, and the
    fuzz test checks the rows are as written afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'ledger.sqlite'}"
        with fuzz_ledger(url) as ledger:
            yield ledger
    else:
        with fresh_postgres_database() as url, fuzz_ledger(url) as ledger:
            yield ledger


def run_case(
    recorder: ChainedApplicationRecorder, damager: Damager, case: Case
) -> VerifyResult | Exception:
    damager.begin()
    try:
        for op in case.ops:
            damager.apply(op)
        return verify_damaged(recorder, damager)
    except Exception as e:  # a crash is a finding too: it is reported with its case
        return e
    finally:
        damager.rollback()


def test_the_ledger_under_test_is_intact_and_has_gaps_in_its_ids(
    ledger: tuple[ChainedApplicationRecorder, Damager],
) -> None:
    recorder, damager = ledger
    rows = damager.rows()
    assert [r.position for r in rows] == list(range(1, len(rows) + 1))
    assert 110 <= len(rows) <= 210
    assert len(spare_ids(rows)) >= 10, "the ids need gaps for insertions in the middle"
    damager.begin()
    result = verify_damaged(recorder, damager)
    damager.rollback()
    assert (result.ok, result.count, result.head_hash) == (True, len(rows), rows[-1].entry_hash)
    assert UncommittedReader(recorder, damager.conn).tree_state()[0] == len(rows)


def test_every_seeded_random_damage_is_found_at_the_position_and_kind_the_oracle_predicts(
    ledger: tuple[ChainedApplicationRecorder, Damager],
) -> None:
    recorder, damager = ledger
    rows = damager.rows()
    heads = [GENESIS, *(r.entry_hash for r in rows)]  # head after n intact entries
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    cases = [(i, draw_case(SEED, i, rows)) for i in range(CASES)] if CASES else sample(SEED, rows)
    for index, case in cases:
        kinds[case.kind] += 1
        got = run_case(recorder, damager, case)
        if isinstance(got, Exception):
            outcome = f"raised {type(got).__name__}: {got}"
        elif got.damage is None:
            outcome = f"verified OK with {got.count} entries"
        elif (got.damage.position, got.damage.kind, got.count, got.head_hash) == (
            case.position,
            case.kind,
            case.position - 1,
            heads[case.position - 1],  # the head of the entries before the damage
        ):
            continue
        else:
            outcome = f"{got.damage.kind} at {got.damage.position} (count {got.count})"
        failures.append(
            f"case {index} ({case.what}): expected {case.kind} at {case.position}, {outcome}"
        )
    run = f"CUSTODES_FUZZ_CASES={CASES}" if CASES else f"a sample of the first {SCAN} cases"
    assert not failures, (
        f"CUSTODES_FUZZ_SEED={SEED}, {run}: {len(failures)} of {len(cases)} "
        "cases differ from the oracle:\n" + "\n".join(failures[:25])
    )
    # every kind of damage was drawn, and often
    if CASES >= 1000:
        assert min(kinds[k] for k in KINDS) >= 50, kinds
    elif not CASES:
        assert min(kinds[k] for k in KINDS) >= MIN_PER_KIND, kinds
    print(f"{len(cases)} cases: {dict(kinds)}")
    # The rows were rolled back after every case: the ledger is as it was written.
    assert damager.rows() == rows


# ---- found by this fuzzer -----------------------------------------------------------------
# Verification used to raise struct.error on these instead of naming the damage.


def test_a_version_edited_to_a_negative_number_is_an_edit_at_its_position(
    ledger: tuple[ChainedApplicationRecorder, Damager],
) -> None:
    recorder, damager = ledger
    row = damager.rows()[9]
    damager.begin()
    try:
        # flip the top byte of the 8-byte value: the sign bit comes with it
        damager.apply(Update(row.id, "originator_version", row.originator_version ^ -(1 << 63)))
        result = verify_damaged(recorder, damager)
    finally:
        damager.rollback()
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (10, "edited")


def test_a_first_entry_renumbered_to_a_negative_id_is_an_edit_at_position_1(
    ledger: tuple[ChainedApplicationRecorder, Damager],
) -> None:
    recorder, damager = ledger
    first = damager.rows()[0]
    damager.begin()
    try:
        damager.apply(Renumber({first.id: -5}))  # still first in notification order
        result = verify_damaged(recorder, damager)
    finally:
        damager.rollback()
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (1, "edited")


def test_an_originator_id_lengthened_by_one_byte_is_an_edit_at_its_position_on_sqlite(
    tmp_path: Path,
) -> None:
    # PostgreSQL's uuid column holds exactly 16 bytes: only SQLite can store this damage.
    # (Found by this fuzzer: walk() packed the id with '16s', which silently dropped a
    # 17th byte, so the entry hash still matched.)
    with fuzz_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as (recorder, damager):
        row = damager.rows()[9]
        damager.begin()
        try:
            damager.apply(Update(row.id, "originator_id", row.originator_id + b"\x01"))
            result = verify_damaged(recorder, damager)
        finally:
            damager.rollback()
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (10, "edited")
