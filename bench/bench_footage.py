"""Footage benchmarks: batched FootageCaptured appends/s, and listing segments due for purge
among N (default 100,000) from the retention projection (no replay).

Run: .venv/bin/python bench/bench_footage.py [--segments 100000] [--batch 1000]
     [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.app import open_ledger  # noqa: E402
from ledger.clock import ManualClock
from ledger.datadir import DataDir  # noqa: E402
from ledger.footage import MediaFacts  # noqa: E402
from ledger.footage_commands import CaptureItem  # noqa: E402
from projections.registry import open_views  # noqa: E402
from projections.retention import (  # noqa: E402
    due_for_purge,
    due_segment_ids,
    segment_rows,
    status_counts,
)  # noqa: E402

START = datetime(2026, 9, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
MEDIA = MediaFacts("mov,mp4,m4a,3gp,3g2,mj2", "mpeg4", 9000, 5.0, 1800.0, 1280, 720)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dd = DataDir.create(Path(tmp) / "data", database_url=args.database_url)
        ledger = open_ledger(dd, clock=ManualClock(NOW))
        ledger.clock.set(START)
        ledger.initialise(director="Dana Director", library="Bench", timezone="UTC")
        ledger.register_camera(
            "cam-1",
            location="Lobby",
            zone="public",
            signage_posted=True,
            actor="Dana Director",
        )
        backend = "postgresql" if args.database_url else "sqlite"
        print(f"# {platform.platform()}, Python {platform.python_version()}, {backend}")
        # 30-minute segments spread over ~62 days, so about half are past 30 days.
        span = (NOW - START).total_seconds()
        t0 = time.perf_counter()
        for first in range(0, args.segments, args.batch):
            items = [
                CaptureItem(
                    sha256=hashlib.sha256(f"segment {i}".encode()).hexdigest(),
                    size=50_000_000,
                    camera_id="cam-1",
                    recorded_start=START + timedelta(seconds=span * i / args.segments),
                    media=MEDIA,
                    source_name=f"cam-1_{i}.mp4",
                )
                for i in range(first, min(first + args.batch, args.segments))
            ]
            ledger.clock.set(NOW)
            ledger.record_captures(items, actor="Dana Director")
        append = time.perf_counter() - t0
        print(
            f"FootageCaptured appends: {args.segments} in {append:.1f} s = "
            f"{args.segments / append:,.0f}/s (batches of {args.batch}, policy checks included)"
        )
        t0 = time.perf_counter()
        views = open_views(ledger)
        print(f"projection catch-up from empty: {time.perf_counter() - t0:.1f} s")
        with views.connect() as conn:
            timings = {}
            for label, fn in (
                ("due (all rows, with holds/flags)", lambda: due_for_purge(conn, NOW)),
                ("due ids for the sweep (all rows)", lambda: due_segment_ids(conn, NOW)),
                ("due (first 1000)", lambda: due_for_purge(conn, NOW, limit=1000)),
                ("status=overdue (all rows)", lambda: segment_rows(conn, NOW, status="overdue")),
                ("status counts", lambda: status_counts(conn, NOW)),
            ):
                fn()  # warm
                best = min(_timed(fn) for _ in range(3))
                timings[label] = best
            due_n = len(due_for_purge(conn, NOW))
        views.close()
        print(f"segments due at {NOW:%Y-%m-%d}: {due_n:,} of {args.segments:,}")
        for label, secs in timings.items():
            print(f"  {label}: {secs * 1000:.0f} ms (best of 3)")
        ledger.close()


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
