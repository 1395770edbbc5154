"""A consortium on one PostgreSQL (issue 18, item 3): 1, 2, 4 and 8 libraries appending
at once, each in its own schema (its own chain and lock), against the same writers
sharing one chain.

    .venv/bin/python bench/bench_consortium.py [--events 1500] [--repeats 3] [--json OUT]

Each writer is its own process (as each library's `custodes` runs), with the chained
recorder and a signed act per save, one event per save (a typical act), ~144-byte states.
The processes start together (a barrier after connecting and creating their tables); the
aggregate rate is all events over the wall time from the barrier to the last writer's
end. "Schemas": writer i appends to schema lib_i through ``options=-csearch_path=lib_i``
(what ``CUSTODES_DATABASE_SCHEMA`` sets). "One chain": the same N writers append to one
schema and so take turns at its lock. Left out: the application's event construction,
encryption and authorization (bench_identity.py measures what signing adds).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ledger import DEFAULT_PG, STATE_SIZE, Databases, machine  # noqa: E402

TOPIC = "ledger.footage:Segment.FootageCaptured"


def _writer(url: str, events: int, barrier: Any, out: Any) -> None:
    from bench_identity import _signer
    from eventsourcing.persistence import StoredEvent

    from ledger.store import (
        ChainedApplicationRecorder,
        ChainedDatastore,
        create_search_path_schema,
    )

    datastore = ChainedDatastore(url=url)
    create_search_path_schema(datastore.engine)
    recorder = ChainedApplicationRecorder(datastore, events_table_name="ledger_events")
    recorder.create_table()
    act = _signer()
    recorder.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, b"warm-up")], act=act)
    saves = [StoredEvent(uuid.uuid4(), 1, TOPIC, os.urandom(STATE_SIZE)) for _ in range(events)]
    barrier.wait()
    started = time.time()
    for event in saves:
        recorder.insert_events([event], act=act)
    out.put((started, time.time()))
    assert datastore.engine is not None
    datastore.engine.dispose()


def run(url: str, libraries: int, events: int, shared: bool) -> float:
    from ledger.datadir import with_search_path

    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(libraries), ctx.Queue()
    urls = [with_search_path(url, "lib_0" if shared else f"lib_{i}") for i in range(libraries)]
    if shared:  # create the shared table once, before the writers race to create it
        _prepare(urls[0])
    procs = [ctx.Process(target=_writer, args=(u, events, barrier, out)) for u in urls]
    for p in procs:
        p.start()
    spans = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a writer failed (exit {p.exitcode})")
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return libraries * events / wall


def _prepare(url: str) -> None:
    from ledger.store import ChainedApplicationRecorder, ChainedDatastore, create_search_path_schema

    datastore = ChainedDatastore(url=url)
    create_search_path_schema(datastore.engine)
    ChainedApplicationRecorder(datastore, events_table_name="ledger_events").create_table()
    assert datastore.engine is not None
    datastore.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--events", type=int, default=1500, help="events per writer")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--libraries", default="1,2,4,8")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows: list[dict[str, Any]] = [{"machine": machine(args.pg_url), "load": os.getloadavg()}]
    print(json.dumps(rows[0]), flush=True)
    dbs = Databases(args.pg_url)
    try:
        counts = [int(n) for n in args.libraries.split(",")]
        rates: dict[tuple[int, str], list[float]] = {}
        for r in range(args.repeats):
            for n in counts:
                for kind in ("schemas", "one chain"):
                    if n == 1 and kind == "one chain":
                        continue  # the same thing as one schema
                    url = dbs.fresh("postgres", f"consortium_{n}")
                    rate = run(url, n, args.events, shared=kind == "one chain")
                    dbs.drop(url)
                    rates.setdefault((n, kind), []).append(rate)
                    print(f"  run {r + 1}: {n} writer(s), {kind}: {rate:,.0f} events/s", flush=True)
        one = statistics.median(rates[(1, "schemas")])
        for (n, kind), runs in sorted(rates.items()):
            median = statistics.median(runs)
            rows.append(
                {
                    "libraries": n, "layout": kind, "events_per_writer": args.events,
                    "events_per_s": median, "runs": runs, "vs_one_library": median / one,
                }
            )  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    finally:
        dbs.close()
    rows.append({"load_after": os.getloadavg()})
    if args.json:
        with args.json.open("a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
