"""``--as-of``: the kept read models' versions (this tree) against today's replay of the
log into memory, side by side on one ledger (issue 18, item 1).

The ledger is bench_scale.py's library system (40 cameras, daily captures and the
sweep's purges, viewings, refusals, flags, holds, requests), built through the
application, its read models then rebuilt once (with their versions and the time
index). At random recorded times (seeded) it measures:

* ``replay``: today's way, ``Views(as_of=T)`` over the report's read models, caught up
  from the log into an in-memory SQLite;
* ``asof``: ``projections.asof.views_as_of`` over the same read models (catch-up, T
  resolved to a position through the time index, the version tables read as of it);
  beside it ``open_current``, the same read models opened and caught up for the current
  state, which every command pays;
* ``footage list`` (every segment's status at T) on both, with the rows compared;
* the same listing on the kept versions with its R29 check (``checked=True``), and the
  current state's listing with its check, for scale.

Run: .venv/bin/python bench/bench_asof.py --events 100000 --keep /tmp/asof100k --db both --json out.jsonl

PostgreSQL gets a row-for-row copy of the SQLite ledger (bench_scale's copy_to_postgres)
in a new database, its read models rebuilt there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale  # noqa: E402

from ledger.app import open_ledger  # noqa: E402
from ledger.clock import ManualClock  # noqa: E402
from ledger.datadir import DataDir  # noqa: E402
from projections.asof import views_as_of  # noqa: E402
from projections.base import Views  # noqa: E402
from projections.compliance import report_projections  # noqa: E402
from projections.registry import all_projections, read_views  # noqa: E402
from projections.retention import segment_rows  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(f: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def measure(dd: DataDir, db: str, args: Any) -> list[dict[str, Any]]:
    ledger = open_ledger(dd, clock=ManualClock(bench_scale.REPORT_NOW))
    events = ledger.recorder.max_notification_id() or 0
    views = Views(ledger, all_projections())
    if views.rebuilding() or any(views.position(p) < events for p in views.projections):
        log(f"rebuilding the read models with versions (load {load()})")
        took, _ = timed(lambda: views.rebuild())
        log(f"rebuilt in {took:.0f} s")
    views.close()

    rng = random.Random(18)  # noqa: S311 - bench dates
    span = (bench_scale.REPORT_NOW - bench_scale.START).total_seconds()
    dates = [
        bench_scale.START + timedelta(seconds=rng.uniform(0.1 * span, 0.95 * span))
        for _ in range(args.dates)
    ]
    results: list[dict[str, Any]] = []
    for k, at in enumerate(dates):
        r: dict[str, Any] = {
            "db": db,
            "events": events,
            "as_of": at.isoformat(),
            "load_before": load(),
        }

        # What every command pays to open its read models caught up (no as-of), for scale.
        def current() -> None:
            v = Views(ledger, report_projections())
            v.catch_up()
            v.close()

        r["open_current_s"], _ = timed(current)
        r["asof_s"], kept = timed(lambda at=at: views_as_of(ledger, report_projections(), at))
        r["position"] = kept.position_read
        with kept.connect() as conn:
            r["asof_list_s"], rows = timed(lambda conn=conn, at=at: segment_rows(conn, at))
        kept.close()
        r["segments_listed"] = len(rows)
        r["asof_list_checked_s"], _ = timed(
            lambda at=at: read_views(ledger, lambda c: segment_rows(c, at), as_of=at, checked=True)
        )
        # The same listing of the current state, checked: what `footage list` costs today.
        r["current_list_checked_s"], _ = timed(
            lambda at=at: read_views(ledger, lambda c: segment_rows(c, at), checked=True)
        )
        if k < args.replays:

            def replay(at: Any = at) -> Views:
                v = Views(ledger, report_projections(), as_of=at)
                v.catch_up()
                return v

            r["replay_s"], old = timed(replay)
            with old.connect() as conn:
                r["replay_list_s"], old_rows = timed(
                    lambda conn=conn, at=at: segment_rows(conn, at)
                )
            old.close()
            r["equal"] = old_rows == rows
            r["speedup"] = r["replay_s"] / r["asof_s"]
        r["load_after"] = load()
        log(json.dumps(r))
        results.append(r)
    ledger.close()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--keep", type=Path, required=True, help="data directory (built if absent)")
    ap.add_argument("--dates", type=int, default=5, help="random dates measured")
    ap.add_argument("--replays", type=int, default=3, help="of which also replayed (slow)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server for --db postgres/both (the ledger is copied into a new database)",
    )
    args = ap.parse_args()

    if not (args.keep / "custodes.json").exists():
        log(f"building {args.events:,} events in {args.keep} (load {load()})")
        _dd, info = bench_scale.build(args.keep, None, args.events, log)
        log(f"built: {info['events']:,} events in {info['build_s']:.0f} s")
    results = []
    if args.db in ("sqlite", "both"):
        results += measure(DataDir.open(args.keep), "sqlite", args)
    if args.db in ("postgres", "both"):
        import psycopg
        from sqlalchemy import make_url

        name = f"custodes_asof_bench_{os.getpid()}"
        admin = make_url(args.pg_url)
        conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = admin.set(database=name).render_as_string(hide_password=False)
            root = args.keep.parent / (args.keep.name + "-pg")
            if root.exists():
                shutil.rmtree(root)
            src = DataDir.open(args.keep)
            upto = open_ledger(src, clock=ManualClock(bench_scale.REPORT_NOW))
            top = upto.recorder.max_notification_id() or 0
            upto.close()
            pg, _info = bench_scale.copy_to_postgres(src, top, root, url, log)
            results += measure(pg, "postgres", args)
        finally:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    meta = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    if args.json:
        with args.json.open("a") as f:
            for r in results:
                f.write(json.dumps({**meta, **r}) + "\n")


if __name__ == "__main__":
    main()
