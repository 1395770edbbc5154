"""Several processes appending at once: no error, contiguous positions, one valid chain."""

from __future__ import annotations

import multiprocessing as mp
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from ledger.integrity import verify_chain
from ledger.store import ChainedApplicationRecorder, ChainedDatastore, ChainReader

PROCESSES = 4
SAVES = 60


def _writer(url: str, seed: int, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        recorder = ChainedApplicationRecorder(
            ChainedDatastore(url=url), events_table_name="ledger_events"
        )
        for n in range(SAVES):
            originator = uuid4()
            count = 1 + (seed + n) % 3
            recorder.insert_events(
                [StoredEvent(originator, v, "topic", b"state %d" % v) for v in range(1, count + 1)]
            )
    except Exception as e:  # reported to the parent, which fails the test
        errors.put(f"{type(e).__name__}: {e}")


def test_concurrent_writer_processes_share_one_contiguous_chain(database_url: str) -> None:
    datastore = ChainedDatastore(url=database_url)
    recorder = ChainedApplicationRecorder(datastore, events_table_name="ledger_events")
    recorder.create_table()
    datastore.init_sqlite_wal_mode()  # once, before several processes start writing
    ctx = mp.get_context("spawn")
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(database_url, i, errors)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    reader = ChainReader(recorder)
    expected = sum(1 + (i + n) % 3 for i in range(PROCESSES) for n in range(SAVES))
    result = verify_chain(reader)
    assert result.ok, result.damage
    assert result.count == expected == reader.count_rows()
    assert reader.head()[0] == expected
