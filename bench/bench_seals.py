"""The read-model check (R29) against the report it guards, at growing ledger sizes.

Ledgers of bench_reports' library year (captures, the daily sweep's purges, viewings,
refusals, flags, holds, requests; built through the application). Per size, medians of
``--runs`` (default 3), interleaved:

* ``report``: a month's compliance report built from the read models (no check);
* ``check``: checking every table that report read against its seal (``checked`` minus
  the report itself: the tables it read are recorded, then checked);
* ``compile``: the whole ``report compliance`` use-case (verify, build, check, sign);
* ``footage list``'s query unchecked and checked;
* a rebuild of every read model from empty, with seals kept and without (the seals'
  cost on catch-up: each row's HMAC, and updated rows read before and after).

Run: .venv/bin/python bench/bench_seals.py [--sizes 10000,100000] [--runs 3] [--keep DIR]
     [--json FILE] [--period-from DAY --period-to DAY]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_reports  # noqa: E402

from ledger.datadir import DataDir  # noqa: E402
from projections.base import Views  # noqa: E402
from projections.checked import check_reads  # noqa: E402
from projections.compliance import build_compliance_report, compile_compliance_report  # noqa: E402
from projections.registry import all_projections, open_views  # noqa: E402
from projections.retention import segment_rows  # noqa: E402

PERIOD = list(bench_reports.PERIOD)  # the month reported on (--period-from/--period-to)


def timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(dd: DataDir, runs: int) -> dict[str, Any]:
    ledger = bench_reports.open_signed(dd)
    # Rebuilds first (the last one sealed): a kept ledger's read models start fresh.
    rebuild: dict[str, float] = {}
    for sealed in (False, True):
        v = Views(ledger, all_projections())
        v.sealed = sealed
        rebuild["sealed" if sealed else "unsealed"] = timed(v.rebuild)
        v.close()
    views = open_views(ledger)  # caught up
    key = dd.signing_key(None)
    compiled, _ = compile_compliance_report(
        ledger, period_from=PERIOD[0], period_to=PERIOD[1],
        actor=bench_reports.D, now=bench_reports.REPORT_NOW, signing_key=key,
    )  # fmt: skip

    def report() -> None:
        build_compliance_report(
            ledger, views, period_from=PERIOD[0],
            period_to=PERIOD[1], now=bench_reports.REPORT_NOW,
            generated_by=bench_reports.D, integrity=compiled.integrity,
        )  # fmt: skip

    views.reads = set()
    report()
    read_tables = sorted(views.reads)

    def check() -> None:
        views.reads = set(read_tables)
        assert check_reads(views) == []

    def compile_() -> None:
        compile_compliance_report(
            ledger, period_from=PERIOD[0], period_to=PERIOD[1],
            actor=bench_reports.D, now=bench_reports.REPORT_NOW, signing_key=key,
        )  # fmt: skip

    def listing() -> None:
        views.reads = None
        with views.connect() as conn:
            segment_rows(conn, bench_reports.REPORT_NOW)

    def listing_checked() -> None:
        views.reads = set()
        with views.connect() as conn:
            segment_rows(conn, bench_reports.REPORT_NOW)
        assert check_reads(views) == []

    samples: dict[str, list[float]] = {
        k: [] for k in ("report", "check", "compile", "list", "list_checked")
    }
    for _ in range(runs):
        views.reads = None
        samples["report"].append(timed(report))
        samples["check"].append(timed(check))
        samples["compile"].append(timed(compile_))
        samples["list"].append(timed(listing))
        samples["list_checked"].append(timed(listing_checked))
    views.close()
    rows: dict[str, int] = {}
    with open_views(ledger).engine.connect() as conn:
        from sqlalchemy import func, select

        for p in all_projections():
            for t in p.metadata.sorted_tables:
                if t.name in read_tables:
                    rows[t.name] = int(
                        conn.execute(select(func.count()).select_from(t)).scalar() or 0
                    )
    ledger.close()
    ledger.close()
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "tables_read": read_tables,
        "rows_checked": sum(rows.values()),
        **{f"{k}_s": round(v, 4) for k, v in med.items()},
        "check_over_report": round(med["check"] / med["report"], 3),
        "report_with_check_over_report": round((med["report"] + med["check"]) / med["report"], 3),
        "list_checked_over_list": round(med["list_checked"] / med["list"], 3),
        "rebuild_unsealed_s": round(rebuild["unsealed"], 2),
        "rebuild_sealed_s": round(rebuild["sealed"], 2),
        "samples": samples,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep ledgers in DIR")
    ap.add_argument("--json", type=Path, default=None, help="append results (JSON lines)")
    ap.add_argument("--period-from", type=date.fromisoformat, default=None)
    ap.add_argument("--period-to", type=date.fromisoformat, default=None)
    args = ap.parse_args()
    if args.period_from is not None:
        PERIOD[:] = [args.period_from, args.period_to]
    print(f"# {platform.platform()}, Python {platform.python_version()}, SQLite")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) if args.keep is None else args.keep / f"sweep-{size}"
            if (root / "data").exists():
                dd = DataDir.open(root / "data")
            else:
                root.mkdir(parents=True, exist_ok=True)
                dd, ledger, built = bench_reports.build(root, size, "sweep")
                ledger.close()
                print(f"built {built['events']:,} events in {built['build_s']:.0f} s", flush=True)
            r = measure(dd, args.runs)
            events = bench_reports.open_signed(dd)
            r["events"] = events.recorder.max_notification_id()
            events.close()
            r["period"] = [d.isoformat() for d in PERIOD]
            print(json.dumps({k: v for k, v in r.items() if k != "samples"}), flush=True)
            if args.json is not None:
                with args.json.open("a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
