"""PostgreSQL: W writer processes appending one-event saves into ONE ledger at once, the
chained recorder (one round trip when it wrote the head itself, backing off when its
guesses miss) against the same recorder always reading the head first (two round trips,
``bench_ledger.ChainedReadRecorder``: the path before the one-round-trip save).

Each run is a fresh database; the kinds alternate run by run; the aggregate rate is all
writers' saves over the slowest writer's time (from a barrier). Every run's chain is
verified afterwards (not timed).

Run:  .venv/bin/python bench/bench_contention.py --writers 1,2,4 --saves 600 --repeats 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import DEFAULT_PG, STATE_SIZE, TOPIC, Databases, machine, make_recorder  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402

from ledger.chain_reader import ChainReader  # noqa: E402

KINDS = ("chained", "chained_read")


def _writer(kind: str, url: str, saves: int, barrier: Any, out: Any) -> None:
    rec = make_recorder(kind, url)
    barrier.wait()
    t0 = time.perf_counter()
    for _ in range(saves):
        rec.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, os.urandom(STATE_SIZE))])
    out.put(time.perf_counter() - t0)
    rec.datastore.engine.dispose()


def run(dbs: Databases, kind: str, writers: int, saves: int) -> float:
    """Saves per second, all writers together."""
    url = dbs.fresh("postgres", f"contention_{kind}")
    make_recorder(kind, url).datastore.engine.dispose()  # the table, before the writers
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(writers), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(kind, url, saves, barrier, out)) for _ in range(writers)
    ]
    for p in procs:
        p.start()
    slowest = max(out.get() for _ in procs)
    for p in procs:
        p.join()
    rec = make_recorder("chained", url)
    result = ChainReader(rec).verify()
    assert result.ok and result.count == writers * saves, result
    rec.datastore.engine.dispose()
    dbs.drop(url)
    return writers * saves / slowest


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--writers", default="1,2,4", help="comma list of writer counts")
    ap.add_argument("--saves", type=int, default=600, help="one-event saves per writer")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    a = ap.parse_args()
    dbs = Databases(a.pg_url, no_fsync=True)
    print("| writers | chained (1 round trip when it can) | always reading the head | ratio "
          "| per run | load (1 min) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    try:
        for writers in (int(w) for w in a.writers.split(",")):
            rates: dict[str, list[float]] = {k: [] for k in KINDS}
            for _ in range(a.repeats):
                for kind in KINDS:
                    rates[kind].append(run(dbs, kind, writers, a.saves))
            m = {k: statistics.median(v) for k, v in rates.items()}
            runs = ", ".join(
                f"{x / y:.2f}" for x, y in zip(rates["chained"], rates["chained_read"], strict=True)
            )
            print(
                f"| {writers} | {m['chained']:,.0f}/s | {m['chained_read']:,.0f}/s "
                f"| **{m['chained'] / m['chained_read']:.2f}x** | {runs} "
                f"| {os.getloadavg()[0]:.1f} |",
                flush=True,
            )
    finally:
        dbs.close()
    print()
    print(", ".join(f"{k}: {v}" for k, v in machine(a.pg_url).items()))


if __name__ == "__main__":
    main()
