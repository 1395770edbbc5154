"""kill -9 in the middle of appending: the ledger verifies and holds every acknowledged event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from ledger.integrity import verify_chain
from ledger.store import ChainedApplicationRecorder, ChainedDatastore, ChainReader

WRITER = textwrap.dedent(
    """
    import sys, uuid
    from eventsourcing.persistence import StoredEvent
    from ledger.store import ChainedApplicationRecorder, ChainedDatastore
    recorder = ChainedApplicationRecorder(
        ChainedDatastore(url=sys.argv[1]), events_table_name="ledger_events"
    )
    n = 0
    while True:
        n += 1
        ids = recorder.insert_events(
            [StoredEvent(uuid.uuid4(), 1, "t", b"x" * 200) for _ in range(1 + n % 5)]
        )
        print(" ".join(map(str, ids)), flush=True)  # acknowledged: committed
    """
)


def test_a_writer_killed_mid_append_leaves_a_verifying_ledger_with_every_acknowledged_event(
    database_url: str,
) -> None:
    datastore = ChainedDatastore(url=database_url)
    recorder = ChainedApplicationRecorder(datastore, events_table_name="ledger_events")
    recorder.create_table()
    datastore.init_sqlite_wal_mode()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, database_url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    acknowledged: list[int] = []
    assert writer.stdout is not None
    for line in writer.stdout:
        acknowledged += [int(i) for i in line.split()]
        if len(acknowledged) >= 400:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    reader = ChainReader(recorder)
    result = verify_chain(reader)
    assert result.ok, result.damage
    stored = {n.id for n in recorder.select_notifications(1, 1_000_000)}
    assert set(acknowledged) <= stored
    assert result.count == len(stored) >= len(acknowledged)
