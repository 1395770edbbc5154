"""Several processes appending at once (through either recorder): no error, contiguous
positions, one valid chain."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.chain_reader import ChainReader
from ledger.clock import ManualClock
from ledger.dbapi_store import DbapiRecorder
from ledger.integrity import verify_chain
from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from tests.identity import enrol, open_test_ledger, use_fast_kdf

pytestmark = pytest.mark.heavy(seconds=8)  # started first (tests/conftest.py)

PROCESSES = 4
SAVES = 60


def _writer(url: str, seed: int, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    """Half the writers are the DB-API recorder a command line act uses: both kinds take
    turns at the one write lock."""
    try:
        recorder: Any = (
            DbapiRecorder.open(url, table="ledger_events")
            if seed % 2
            else ChainedApplicationRecorder(
                ChainedDatastore(url=url), events_table_name="ledger_events"
            )
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
    # The recorder alone, unsigned: the chain's structure (signed acts under concurrent
    # writers are the next test's, through the whole application).
    result = reader.verify()
    assert result.ok, result.damage
    assert result.count == expected == reader.count_rows()
    assert reader.head()[0] == expected


# ---- the whole application: commands, refusals and read-model catch-up at once ------------

DIRECTOR = "Dana Director"
ROUNDS = 12


def _app_writer(path: str, seed: int, acks: mp.Queue, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    from datetime import timedelta

    from ledger.datadir import DataDir
    from ledger.errors import NotPermitted
    from projections.registry import open_views
    from tests.conftest import NOW

    try:
        use_fast_kdf()
        ledger = open_test_ledger(DataDir.open(Path(path)), clock=ManualClock(NOW))
        for n in range(ROUNDS):
            # Processes run at their own pace: seconds apart, within the clock tolerance.
            now = NOW + timedelta(seconds=n)
            name = f"Writer {seed}-{n}"
            ledger.clock.set(now)
            enrol(ledger, name, "staff", actor=DIRECTOR)
            acks.put(name)  # acknowledged: the save returned
            try:  # a refused act is recorded too (AccessDenied)
                ledger.clock.set(now)
                enrol(ledger, f"Intruder {seed}-{n}", "staff", actor=name)
            except NotPermitted:
                acks.put(f"refused {seed}-{n}")
            if n % 3 == 2:  # catch the read models up while the others write
                open_views(ledger).close()
        ledger.close()
    except Exception as e:  # reported to the parent, which fails the test
        errors.put(f"{type(e).__name__}: {e}")


def _rows(views: object) -> dict[str, list[tuple[object, ...]]]:
    from sqlalchemy import select

    out: dict[str, list[tuple[object, ...]]] = {}
    with views.connect() as conn:  # type: ignore[attr-defined]
        for p in views.projections:  # type: ignore[attr-defined]
            for table in p.metadata.sorted_tables:
                rows = conn.execute(select(table)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def test_four_application_processes_record_and_catch_up_read_models_at_once(
    data_dir: Path,
) -> None:

    from ledger.app import open_chain
    from ledger.datadir import DataDir
    from projections.base import Views
    from projections.registry import all_projections, open_views
    from tests.conftest import NOW

    ctx = mp.get_context("spawn")
    acks, errors = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=_app_writer, args=(str(data_dir), i, acks, errors))
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    acknowledged = []
    while not acks.empty():
        acknowledged.append(acks.get())
    assert len(acknowledged) == 2 * PROCESSES * ROUNDS

    datadir = DataDir.open(data_dir)
    ledger = open_test_ledger(datadir, clock=ManualClock(NOW))
    names = {s.name for s in ledger.staff()}
    assert {a for a in acknowledged if a.startswith("Writer")} <= names
    reader = open_chain(datadir)

    result = verify_chain(reader)
    expected = 5 + 3 * PROCESSES * ROUNDS  # init's act; a member (2 events), a refusal
    assert result.ok, result.damage
    assert result.count == expected == reader.count_rows() == reader.head()[0]

    # The read models that four processes caught up concurrently hold exactly what a
    # replay of the whole log into a fresh database holds.
    live = open_views(ledger)
    # (a scratch store: the whole log replayed as a fresh database would hold it, the
    # read models' versions included; an as-of replay keeps no versions)
    replay = Views(ledger, all_projections(), scratch=True)
    replay.catch_up()
    try:
        assert _rows(live) == _rows(replay)
    finally:
        live.close()
        replay.close()
        ledger.close()
