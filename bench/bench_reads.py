"""Reading the events: the recorder's plain SELECT against the library's ORM query.

``ChainedApplicationRecorder.select_events`` (one aggregate's events, what every
``repository.get`` reads) and ``select_notifications`` (the log in id order: catch-up,
history, as-of replays) are one plain SELECT on a pooled DB-API connection
(``ChainSQL._select_events_on`` / ``_select_notifications_on``). The baseline is what
they replaced: eventsourcing-sqlalchemy's own methods, called on the same recorder
object (``SQLAlchemyApplicationRecorder.select_events(rec, ...)``), on the same rows and
the same pool. Both answers are checked equal before anything is timed.

A ledger of ``--aggregates`` aggregates with ``--versions`` events each is written once
per database (random 300-byte states, as the chain stores them: not decrypted here, the
reads are the thing timed). Timed, interleaved ORM / plain, ``--repeats`` rounds:
  - ``events``: ``select_events`` of every aggregate in a shuffled order (per call);
  - ``log``: the whole log in pages of 500 (``select_notifications``) (per row).
The timed section leaves out writing the ledger and the equality check; it includes
taking and returning the pooled connection on both sides.

Run:  .venv/bin/python bench/bench_reads.py --db both --aggregates 2000 --versions 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder  # noqa: E402

PAGE = 500


def fill(rec: Any, aggregates: int, versions: int) -> list[uuid.UUID]:
    """``aggregates`` aggregates of ``versions`` events, saved 100 events at a time in
    interleaved order (an aggregate's events spread over the log, as in a ledger)."""
    ids = [uuid.uuid4() for _ in range(aggregates)]
    events = [
        StoredEvent(oid, v, TOPIC, os.urandom(STATE_SIZE))
        for v in range(1, versions + 1)
        for oid in ids
    ]
    for k in range(0, len(events), 100):
        rec.insert_events(events[k : k + 100])
    return ids


def read_log(select: Any) -> int:
    rows, start = 0, 1
    while True:
        page = select(start, PAGE)
        if not page:
            return rows
        rows += len(page)
        start = page[-1].id + 1


def measure(db: str, dbs: Databases, aggregates: int, versions: int, repeats: int) -> dict:
    url = dbs.fresh(db, "reads")
    rec = make_recorder("chained", url)
    ids = fill(rec, aggregates, versions)
    orm_events = lambda oid: SQLAlchemyApplicationRecorder.select_events(rec, oid)  # noqa: E731
    orm_log = lambda start, n: SQLAlchemyApplicationRecorder.select_notifications(  # noqa: E731
        rec, start, n
    )
    kinds = {
        "orm": (orm_events, orm_log),
        "plain": (rec.select_events, rec.select_notifications),
    }
    for oid in ids[:50]:  # the same answers, before anything is timed
        assert orm_events(oid) == rec.select_events(oid)
    assert orm_log(1, 10**9) == rec.select_notifications(1, 10**9)
    times: dict[str, dict[str, list[float]]] = {k: {"events": [], "log": []} for k in kinds}
    order = list(ids)
    for r in range(repeats):
        random.Random(r).shuffle(order)
        for kind in kinds if r % 2 == 0 else reversed(list(kinds)):
            events, log = kinds[kind]
            t0 = time.perf_counter()
            for oid in order:
                events(oid)
            times[kind]["events"].append((time.perf_counter() - t0) / len(order))
            t0 = time.perf_counter()
            rows = read_log(log)
            times[kind]["log"].append((time.perf_counter() - t0) / rows)
            assert rows == aggregates * versions
    rec.datastore.engine.dispose()
    dbs.drop(url)
    out: dict[str, Any] = {"db": db, "aggregates": aggregates, "versions": versions}
    for what in ("events", "log"):
        orm = statistics.median(times["orm"][what])
        plain = statistics.median(times["plain"][what])
        out[what] = {
            "orm_us": round(orm * 1e6, 2),
            "plain_us": round(plain * 1e6, 2),
            "speedup": round(orm / plain, 2),
            "runs_orm_us": [round(t * 1e6, 2) for t in times["orm"][what]],
            "runs_plain_us": [round(t * 1e6, 2) for t in times["plain"][what]],
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--aggregates", type=int, default=2000)
    ap.add_argument("--versions", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--json", type=Path, help="append the results as JSON lines here")
    a = ap.parse_args()
    dbs = Databases(a.pg_url)
    print(json.dumps(machine(a.pg_url)))
    print("| db | read | library's ORM query | plain SELECT | ORM / plain | per run (ORM; plain) |")
    print("|---|---|---|---|---|---|")
    for db in ("sqlite", "postgres") if a.db == "both" else (a.db,):
        result = measure(db, dbs, a.aggregates, a.versions, a.repeats)
        result["load"] = os.getloadavg()[0]
        for what, unit in (("events", "per aggregate"), ("log", "per row")):
            r = result[what]
            print(
                f"| {db} | {what} ({unit}) | {r['orm_us']} us | {r['plain_us']} us "
                f"| **{r['speedup']}x** | {r['runs_orm_us']}; {r['runs_plain_us']} |"
            )
        if a.json:
            with a.json.open("a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
