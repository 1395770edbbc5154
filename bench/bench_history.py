"""A history's checked read: the subject's bucket of the subject tables' seals (this tree,
since session 26) against both tables checked whole (before it), side by side on one
ledger (issue 18: "history at any date in a second").

The ledger is bench_scale.py's library system, its read models caught up (rebuilt first
when they are behind). For seeded random segments and for cameras it times, interleaved:

* ``bucket``: ``checked(views, indexed)``, what ``history`` runs: the subject's rows read
  through its ``subject_prefix`` bucket of each table, and only those buckets checked;
* ``whole``: the same two queries read without the range, so the check reads, hashes and
  compares both tables whole, as every history did before;
* ``events``: the subject's notification ids (its aggregates' events from the log, and the
  indexed ones), and ``entries``: those events read from the log and decoded, as the
  history shows them (the same for both; for scale).

Both answers are compared before anything is reported. The timed sections leave out
opening the ledger and the views (measured once, ``open``), the authorization and the
record of the read (one append each, R27); they include the check's queries and hashing.
The first open after an upgrade scans both tables once to give their seals the new
buckets (``add_buckets``): measured as ``first_open`` when the seal lacks them.

Run: .venv/bin/python bench/bench_history.py --data-dir /work/bench-data/s1m --subjects 8
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import machine  # noqa: E402
from sqlalchemy import select  # noqa: E402

from ledger.app import open_ledger  # noqa: E402
from ledger.datadir import DataDir  # noqa: E402
from projections.checked import checked  # noqa: E402
from projections.history import (  # noqa: E402
    Indexed,
    _entries,
    aggregate_subjects,
    indexed,
    subject_index,
)
from projections.registry import open_views  # noqa: E402


def whole(conn: Any, key: str) -> Indexed:
    """``indexed`` as it read before session 26: no range, so both tables are checked
    whole."""
    from uuid import UUID

    a, i = aggregate_subjects.c, subject_index.c
    aggregates = conn.execute(select(a.aggregate_id).where(a.subject == key)).scalars()
    ids = conn.execute(select(i.notification_id).where(i.subject == key)).scalars()
    return Indexed(sorted(UUID(str(x)) for x in aggregates), sorted(int(n) for n in ids))


def timed(f: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def read_of(reader: Any, key: str) -> Any:
    def read(views: Any) -> Indexed:
        with views.connect() as conn:
            return reader(conn, key)  # type: ignore[no-any-return]

    return read


def measure(ledger: Any, key: str, repeats: int) -> dict[str, Any]:
    """One subject: its checked read both ways (interleaved, medians), then its events."""
    times: dict[str, list[float]] = {"open": [], "bucket": [], "whole": []}
    answers = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        views = open_views(ledger)
        times["open"].append(time.perf_counter() - t0)
        try:
            for how, reader in (("bucket", indexed), ("whole", whole)):
                t0 = time.perf_counter()
                answers.append(checked(views, read_of(reader, key)))
                times[how].append(time.perf_counter() - t0)
        finally:
            views.close()
    if any(a != answers[0] for a in answers):
        raise SystemExit(f"{key}: the two reads differ")
    t_ids, ids = timed(lambda: answers[0].events(ledger))
    t_entries, _ = timed(lambda: _entries(ledger, ids))
    row: dict[str, Any] = {
        "subject": key,
        "events": len(ids),
        **{k: statistics.median(v) for k, v in times.items()},
        "event_ids": t_ids,
        "entries": t_entries,
    }
    print(
        f"{key:24s} {len(ids):6,} events  open {row['open']:.3f}  bucket {row['bucket']:.3f}"
        f"  whole {row['whole']:.3f} ({row['whole'] / row['bucket']:.0f}x)  ids "
        f"{t_ids:.3f}  entries {t_entries:.3f} s",
        flush=True,
    )
    return row


def caught_up(ledger: Any, data_dir: Path) -> None:
    """The read models caught up with the log: rebuilt when they are far behind (a ledger
    bench_scale.py built has none), as ``custodes projections rebuild`` would. Read from
    the tracking table directly: opening the views would add the buckets, which the
    first open is to time."""
    from sqlalchemy import create_engine

    from projections.base import REBUILDING, Views, tracking
    from projections.registry import all_projections

    engine = create_engine(DataDir.open(data_dir).database_url)
    try:
        with engine.connect() as conn:
            q = select(tracking.c.projection, tracking.c.position)
            at: dict[str, int] = {str(n): int(p) for n, p in conn.execute(q)}
    finally:
        engine.dispose()
    events = ledger.recorder.max_notification_id() or 0
    names = [p.name for p in all_projections()]
    if REBUILDING in at or any(at.get(n, 0) < events - 1000 for n in names):
        views = Views(ledger, all_projections())
        try:
            took, _ = timed(lambda: views.rebuild(processes=2))
        finally:
            views.close()
        print(f"read models rebuilt in {took:.0f} s", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--subjects", type=int, default=8, help="random segments (seeded)")
    ap.add_argument("--cameras", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None, help="append the result as a JSON line")
    args = ap.parse_args()

    ledger = open_ledger(DataDir.open(args.data_dir))
    events = ledger.recorder.max_notification_id() or 0
    caught_up(ledger, args.data_dir)
    first_open, views = timed(lambda: open_views(ledger))
    print(f"{events:,} events; first open (catch-up, buckets added if missing) "
          f"{first_open:.2f} s", file=sys.stderr)  # fmt: skip
    rng = random.Random(26)  # noqa: S311 - bench subjects
    with views.engine.connect() as conn:
        s = aggregate_subjects.c
        segments = sorted(
            conn.execute(select(s.subject).where(s.subject.like("segment:%"))).scalars()
        )
        cameras = sorted(
            conn.execute(select(s.subject).where(s.subject.like("camera:%"))).scalars()
        )
    views.close()
    subjects = rng.sample(segments, args.subjects) + rng.sample(cameras, args.cameras)
    rows = [measure(ledger, key, args.repeats) for key in subjects]
    ledger.close()
    if args.json is not None:
        with args.json.open("a") as f:
            f.write(
                json.dumps(
                    {
                        "bench": "history",
                        "events": events,
                        "first_open": first_open,
                        "machine": machine(None),
                        "load": os.getloadavg(),
                        "rows": rows,
                    }
                )
                + "\n"
            )


if __name__ == "__main__":
    main()
