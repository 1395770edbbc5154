"""A save that owns its transaction skips SQLAlchemy's Session (ledger.store,
``_insert_owned``); one inside a caller's transaction goes through it. Both write one
chain, and a failed owned save leaves nothing behind and the pooled connection as
SQLAlchemy expects it (not autocommit, no transaction open)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger.acts import ActRequest, Signer, act_time
from ledger.chain_reader import ChainReader
from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from tests.conftest import fresh_postgres_database

TOPIC = "tests:Event"


@pytest.fixture(params=["sqlite", "postgres"])
def recorder(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ChainedApplicationRecorder]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'owned.sqlite'}?timeout=30"
        yield _recorder(url)
    else:
        if not os.environ.get("CUSTODES_TEST_POSTGRES_URL"):
            pytest.skip("CUSTODES_TEST_POSTGRES_URL not set")
        with fresh_postgres_database() as url:
            yield _recorder(url)


def _recorder(url: str) -> ChainedApplicationRecorder:
    rec = ChainedApplicationRecorder(ChainedDatastore(url=url), events_table_name="owned_events")
    rec.create_table()
    return rec


def _events(n: int) -> list[StoredEvent]:
    oid = uuid.uuid4()
    return [StoredEvent(oid, v, TOPIC, os.urandom(50)) for v in range(1, n + 1)]


def test_owned_and_caller_transactions_write_one_chain(
    recorder: ChainedApplicationRecorder,
) -> None:
    ids = list(recorder.insert_events(_events(3)))
    with recorder.transaction(commit=True) as session:
        ids += recorder.insert_events(_events(2), session=session)
    ids += recorder.insert_events(_events(1))
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert [n.id for n in recorder.select_notifications(1, 10)] == ids
    result = ChainReader(recorder).verify()
    assert result.ok and result.count == 6, result.damage
    recorder.datastore.engine.dispose()  # type: ignore[union-attr]


def test_a_failed_owned_save_leaves_nothing_and_a_clean_connection(
    recorder: ChainedApplicationRecorder,
) -> None:
    first = _events(2)
    recorder.insert_events(first)
    # the second event repeats (originator, version): the whole save must fail
    with pytest.raises(IntegrityError):
        recorder.insert_events([*_events(1), first[1]])
    engine = recorder.datastore.engine
    proxy = engine.raw_connection()  # type: ignore[union-attr]
    try:
        conn = proxy.driver_connection
        assert not getattr(conn, "autocommit", False)
        assert (
            not conn.in_transaction
            if recorder.dialect == "sqlite"
            else conn.info.transaction_status == 0
        )  # type: ignore[union-attr]
    finally:
        proxy.close()
    recorder.insert_events(_events(1))
    result = ChainReader(recorder).verify()
    assert result.ok and result.count == 3, result.damage
    engine.dispose()  # type: ignore[union-attr]


def test_each_act_is_stored_on_its_last_row_only(recorder: ChainedApplicationRecorder) -> None:
    """SQLite leaves the act column out of the rows before an act's last one (its
    default, NULL, is what they hold) and writes the last one on its own: every save's
    act lands on its last row, the other rows' act is NULL, and the chain verifies."""
    moment = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    signer = Signer(uuid.uuid4(), "Dana Director", "director", "k1", Ed25519PrivateKey.generate())
    act = ActRequest(signer, "dana", lambda: moment)
    sizes = [1, 4, 3, 1, 2]
    for i, n in enumerate(sizes):
        recorder.insert_events(_events(n), act=None if i == 2 else act)
    engine = recorder.datastore.engine
    with engine.connect() as conn:  # type: ignore[union-attr]
        acts = [r[0] for r in conn.exec_driver_sql(f"SELECT act FROM {recorder.table} ORDER BY id")]
    ends = {sum(sizes[: i + 1]) - 1 for i in range(len(sizes)) if i != 2}
    assert [a is not None for a in acts] == [i in ends for i in range(sum(sizes))]
    assert all(act_time(bytes(acts[i])) == moment for i in ends)
    result = ChainReader(recorder).verify()
    assert result.ok and result.count == sum(sizes), result.damage
    engine.dispose()  # type: ignore[union-attr]
