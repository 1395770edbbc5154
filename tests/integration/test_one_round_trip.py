"""PostgreSQL: a save builds on the recorder's own last save in one round trip
(``ChainSQL._save_postgres_on_guess``), and a guard checked under the lock makes that
safe: when another writer moved the head or took an id, nothing is written and the save
reads the head the two-round-trip way. The same chain, ids and act times either way."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from ledger.acts import ActRequest, Signer
from ledger.chain_reader import ChainReader
from ledger.chain_sql import BACKOFF_LIMIT
from ledger.errors import ClockBehind
from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from tests.conftest import fresh_postgres_database

TABLE = "trip_events"


@pytest.fixture
def url() -> Iterator[str]:
    if not os.environ.get("CUSTODES_TEST_POSTGRES_URL"):
        pytest.skip("CUSTODES_TEST_POSTGRES_URL not set")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def recorders(url: str) -> Iterator[Callable[[], ChainedApplicationRecorder]]:
    """Recorders on one ledger, each with its own pool (as two processes would have)."""
    made: list[ChainedApplicationRecorder] = []

    def make() -> ChainedApplicationRecorder:
        rec = ChainedApplicationRecorder(ChainedDatastore(url=url), events_table_name=TABLE)
        rec.create_table()
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.datastore.engine.dispose()  # type: ignore[union-attr]


def _events(n: int = 1) -> list[StoredEvent]:
    oid = uuid.uuid4()
    return [StoredEvent(oid, v, "tests:Event", os.urandom(40)) for v in range(1, n + 1)]


def _count_paths(rec: ChainedApplicationRecorder) -> dict[str, int]:
    """Count the saves each way (the real methods run; only their outcome is noted)."""
    counts = {"read": 0, "guessed": 0, "missed": 0}
    read, guessed = rec._save_postgres_read, rec._save_postgres_on_guess

    def counting_read(*args: Any) -> Any:
        counts["read"] += 1
        return read(*args)

    def counting_guess(*args: Any) -> Any:
        ids = guessed(*args)
        counts["guessed" if ids is not None else "missed"] += 1
        return ids

    rec._save_postgres_read = counting_read  # type: ignore[method-assign]
    rec._save_postgres_on_guess = counting_guess  # type: ignore[method-assign]
    return counts


def _rows(rec: ChainedApplicationRecorder) -> list[tuple[int, int]]:
    with rec.datastore.engine.connect() as conn:  # type: ignore[union-attr]
        return [
            (r[0], r[1])
            for r in conn.exec_driver_sql(f"SELECT id, position FROM {TABLE} ORDER BY id")
        ]


def _verified(rec: ChainedApplicationRecorder, count: int) -> None:
    result = ChainReader(rec).verify()
    assert result.ok and result.count == count, result.damage


def test_a_lone_writer_reads_the_head_once_then_saves_in_one_round_trip(
    recorders: Callable[[], ChainedApplicationRecorder],
) -> None:
    rec = recorders()
    counts = _count_paths(rec)
    ids = [i for n in (1, 3, 1, 2, 1) for i in rec.insert_events(_events(n))]
    assert counts == {"read": 1, "guessed": 4, "missed": 0}
    assert ids == list(range(1, 9))
    assert _rows(rec) == [(i, i) for i in range(1, 9)]
    _verified(rec, 8)


def test_the_guessed_ids_move_the_sequence_so_a_writer_that_draws_never_reuses_one(
    recorders: Callable[[], ChainedApplicationRecorder],
) -> None:
    """Without the guard's ``setval`` the second recorder's first save (which draws its
    ids from the sequence) would draw id 2, already taken: a unique violation."""
    first = recorders()
    for _ in range(4):
        first.insert_events(_events())
    second = recorders()
    counts = _count_paths(second)
    assert second.insert_events(_events(2)) == [5, 6]
    assert counts["read"] == 1
    _verified(second, 6)


def test_writers_taking_turns_fall_back_to_reading_the_head_and_keep_one_chain(
    recorders: Callable[[], ChainedApplicationRecorder],
) -> None:
    a, b = recorders(), recorders()
    counts_a, counts_b = _count_paths(a), _count_paths(b)
    ids = []
    for _ in range(4):
        ids += a.insert_events(_events())
        ids += b.insert_events(_events(2))
    assert ids == list(range(1, 13))
    # Each guessed once after its first save, found the other had written, and has read
    # the head since (a head another writer keeps moving is not guessed again).
    assert counts_a == {"read": 4, "guessed": 0, "missed": 1}
    assert counts_b == {"read": 4, "guessed": 0, "missed": 1}
    # b alone: its next save reads the head and finds its own last entry there, so the
    # one after it is guessed again.
    ids += b.insert_events(_events())
    ids += b.insert_events(_events())
    assert counts_b == {"read": 5, "guessed": 1, "missed": 1}
    assert _rows(a) == [(i, i) for i in range(1, 15)]
    _verified(a, 14)


def test_a_writer_whose_guesses_keep_missing_backs_off(
    recorders: Callable[[], ChainedApplicationRecorder],
) -> None:
    """a saves twice for each save of b's: a's second save of each pair finds its own
    entry at the head, so without the back-off a would guess (and miss) once per pair,
    30 times. Each miss doubles the saves a makes the two-round-trip way first."""
    a, b = recorders(), recorders()
    counts = _count_paths(a)
    for _ in range(30):
        a.insert_events(_events())
        a.insert_events(_events())
        b.insert_events(_events())
    assert counts["missed"] + counts["guessed"] <= 6, counts
    assert counts["read"] + counts["guessed"] == 60
    _verified(a, 90)
    # Alone again, a guesses again once the back-off has run out, and every guess hits.
    assert 0 < a._pg_wait <= BACKOFF_LIMIT
    before = dict(counts)
    for _ in range(a._pg_wait + 10):
        a.insert_events(_events())
    assert counts["missed"] == before["missed"]
    assert counts["guessed"] - before["guessed"] >= 9, counts
    assert a._pg_speculate


def test_a_save_in_a_callers_transaction_leaves_no_stale_guess(
    recorders: Callable[[], ChainedApplicationRecorder],
) -> None:
    rec = recorders()
    counts = _count_paths(rec)
    rec.insert_events(_events())
    with rec.transaction(commit=True) as session:
        rec.insert_events(_events(2), session=session)
    rec.insert_events(_events())  # reads the head: its own guess would have missed
    rec.insert_events(_events())
    assert counts == {"read": 2, "guessed": 1, "missed": 0}
    _verified(rec, 5)


@pytest.mark.parametrize("wrong", ["position", "entry_hash", "highest_id"])
def test_the_guard_refuses_a_guess_that_differs_in_any_part_and_writes_nothing(
    recorders: Callable[[], ChainedApplicationRecorder], wrong: str
) -> None:
    rec = recorders()
    rec.insert_events(_events(2))
    assert rec._pg_guess is not None
    position, entry_hash, record, last_id = rec._pg_guess
    guess = {
        "position": (position - 1, entry_hash, record, last_id),
        "entry_hash": (position, bytes(32), record, last_id),
        "highest_id": (position, entry_hash, record, last_id - 1),
    }[wrong]
    proxy = rec.datastore.engine.raw_connection()  # type: ignore[union-attr]
    try:
        conn = proxy.driver_connection
        conn.autocommit = True
        assert rec._save_postgres_on_guess(conn, _events(), None, guess) is None
        assert conn.info.transaction_status == 0  # rolled back, nothing open
        conn.autocommit = False
    finally:
        proxy.close()
    assert _rows(rec) == [(1, 1), (2, 2)]
    assert rec.insert_events(_events()) == [3]  # the two-round-trip way, then on
    _verified(rec, 3)


def test_a_guessed_save_still_refuses_a_clock_set_back(
    recorders: Callable[[], ChainedApplicationRecorder],
) -> None:
    now = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    clock = {"now": now}
    signer = Signer(uuid.uuid4(), "Dana Director", "director", "k1", Ed25519PrivateKey.generate())
    act = ActRequest(signer, "dana", lambda: clock["now"])
    rec = recorders()
    counts = _count_paths(rec)
    rec.insert_events(_events(), act=act)
    clock["now"] = now + timedelta(minutes=1)
    rec.insert_events(_events(), act=act)
    assert counts["guessed"] == 1
    clock["now"] = now - timedelta(hours=1)
    with pytest.raises(ClockBehind):
        rec.insert_events(_events(), act=act)
    assert counts["guessed"] == 1  # refused before anything was sent
    assert [p for _, p in _rows(rec)] == [1, 2]
    _verified(rec, 2)
