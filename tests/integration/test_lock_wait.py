"""A write lock held past the timeout: bounded retries, then a clear retryable error
(LedgerBusy, exit 75) with nothing recorded; a lock released in time is simply waited out.
Both recorders (SQLAlchemy's, and the DB-API one a command line act uses) wait on the
same lock another writer holds."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.chain_reader import ChainReader
from ledger.dbapi_store import DbapiRecorder
from ledger.errors import LedgerBusy
from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from tests.db_locks import write_lock_held

TABLE = "ledger_events"
TIMEOUT_S = 0.3


@pytest.fixture(params=["sqlalchemy", "dbapi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _recorder(url: str, retries: int, kind: str = "sqlalchemy") -> Any:
    if url.startswith("sqlite"):
        url = url.split("?")[0] + f"?timeout={TIMEOUT_S}"
    if kind == "dbapi":
        return DbapiRecorder.open(url, table=TABLE, lock_timeout_s=TIMEOUT_S, lock_retries=retries)
    return ChainedApplicationRecorder(
        ChainedDatastore(url=url),
        events_table_name=TABLE,
        lock_timeout_s=TIMEOUT_S,
        lock_retries=retries,
    )


def _reader(url: str) -> ChainReader:
    return ChainReader(_recorder(url, 0))


def _event() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "topic", b"state")


@pytest.fixture
def recorder_url(database_url: str) -> str:
    rec = _recorder(database_url, 0)
    rec.create_table()
    rec.datastore.init_sqlite_wal_mode()
    rec.insert_events([_event()])  # position 1
    return database_url


def test_a_lock_held_past_every_retry_is_a_retryable_error_and_records_nothing(
    recorder_url: str, kind: str
) -> None:
    recorder = _recorder(recorder_url, retries=2, kind=kind)
    with write_lock_held(recorder_url):
        started = time.monotonic()
        with pytest.raises(LedgerBusy) as raised:
            recorder.insert_events([_event(), _event()])
        waited = time.monotonic() - started
    assert raised.value.retryable and raised.value.attempts == 3
    assert "nothing was recorded" in str(raised.value)
    assert "safe to run the same command again" in str(raised.value)
    assert waited >= 3 * TIMEOUT_S  # it really waited on each of the three attempts
    reader = _reader(recorder_url)
    assert reader.count_rows() == 1
    assert reader.verify()  # structure: these saves are unsigned.ok


def test_a_lock_released_during_the_retries_is_waited_out(recorder_url: str, kind: str) -> None:
    recorder = _recorder(recorder_url, retries=4, kind=kind)
    with write_lock_held(recorder_url) as release:
        threading.Timer(TIMEOUT_S * 1.5, release.set).start()  # after the first timeout
        ids = recorder.insert_events([_event(), _event()])
    assert ids == [2, 3]
    result = _reader(recorder_url).verify()  # structure: unsigned saves
    assert result.ok and result.count == 3


def test_no_retries_means_one_attempt(recorder_url: str, kind: str) -> None:
    recorder = _recorder(recorder_url, retries=0, kind=kind)
    with write_lock_held(recorder_url), pytest.raises(LedgerBusy) as raised:
        recorder.insert_events([_event()])
    assert raised.value.attempts == 1
