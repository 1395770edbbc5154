"""What session 18's clock checks add: the sweep's check of its clock before it touches a
file (``Ledger.check_clock_to_destroy``: the ledger's last act, and on PostgreSQL the
database server's clock), and the search for purges a clock correction set aside
(``Ledger.set_aside_purges``) that the compliance report and the home page make once the
site records a correction.

Each is timed beside what the same command already does there, in the same run: the
sweep beside its read of the segments due (``due_segment_ids``, checked against the
seals, as ``retention sweep`` reads them); the set-aside search beside ``desk`` (the
home page's attention list), which now includes it.

Run: .venv/bin/python bench/bench_sweep_clock.py [--events 100000]
     [--database-url postgresql+psycopg://...] [--rounds 7]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_reports  # noqa: E402
import bench_scale  # noqa: E402

from ledger.app import open_ledger  # noqa: E402
from ledger.clock import ManualClock  # noqa: E402
from ledger.retention_commands import PurgeRecord  # noqa: E402
from projections.compliance import desk  # noqa: E402
from projections.registry import read_views  # noqa: E402
from projections.retention import due_segment_ids  # noqa: E402


def _median_ms(f: Any, rounds: int) -> tuple[float, float, float]:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--purges", type=int, default=100)
    args = ap.parse_args()
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"# {platform.platform()}, Python {platform.python_version()}, {backend}")
    with tempfile.TemporaryDirectory() as tmp:
        dd, built = bench_scale.build(Path(tmp) / "data", args.database_url, args.events, print)
        print(f"built {built['events']:,} events in {built['build_s']:.1f} s")
        ledger = open_ledger(dd, clock=ManualClock(datetime.now(UTC)))
        last = ledger.chain_head()[0]
        now = ledger.clock()
        # a plain clock (what the installed command has): the server's is asked on PostgreSQL
        ledger.clock = lambda: datetime.now(UTC)  # type: ignore[method-assign]
        check = _median_ms(ledger.check_clock_to_destroy, args.rounds)
        due = _median_ms(
            lambda: read_views(ledger, lambda c: due_segment_ids(c, now), checked=True),
            args.rounds,
        )
        print(f"check_clock_to_destroy: {check[0]:.2f} ms ({check[1]:.2f}-{check[2]:.2f})")
        print(f"due_segment_ids, checked: {due[0]:.1f} ms ({due[1]:.1f}-{due[2]:.1f})")

        # 100 purges recorded by a sweep 40 days ahead (their files are not touched: the
        # bench ledger has none), then the Director's correction
        ahead = ManualClock(datetime.now(UTC) + timedelta(days=40))
        ledger.clock = ahead  # type: ignore[method-assign]
        gone = read_views(ledger, lambda c: due_segment_ids(c, ahead()))[: args.purges]
        ledger.record_purges(
            [PurgeRecord(g.segment_id, "bench", True, True, False) for g in gone],
            sweep_run="sweep-ahead", actor=ledger.act_as_service(),
        )  # fmt: skip
        ledger.clock = ManualClock(datetime.now(UTC))  # type: ignore[method-assign]
        ledger.authenticate(bench_reports.D, bench_reports.PASSPHRASE)
        done = ledger.correct_clock(reason="bench: a clock 40 days ahead", actor=bench_reports.D)
        print(f"{len(gone)} purges recorded ahead after entry {last}; correction at entry "
              f"{done.position}")  # fmt: skip
        ledger.close()

        fresh = open_ledger(dd, clock=ManualClock(datetime.now(UTC)))
        t0 = time.perf_counter()
        found = fresh.set_aside_purges()
        first = (time.perf_counter() - t0) * 1000
        again = _median_ms(fresh.set_aside_purges, args.rounds)
        home = _median_ms(lambda: desk(fresh, fresh.clock()), args.rounds)
        print(f"set_aside_purges: first call {first:.1f} ms (the log scanned for corrections), "
              f"then {again[0]:.2f} ms ({again[1]:.2f}-{again[2]:.2f}); found {len(found)}")  # fmt: skip
        print(
            f"desk (home page list, including it): {home[0]:.1f} ms ({home[1]:.1f}-{home[2]:.1f})"
        )
        fresh.close()


if __name__ == "__main__":
    main()
