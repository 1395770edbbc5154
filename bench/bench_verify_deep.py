"""`custodes verify --deep`: what judging every release and disclosure record costs.

Since session 22 the deep walk replays each request and the site as their events come
(``DeepActChecker._check_records``), judges every release by ``ledger.release_rules`` and
compares every disclosure record part by part. Timed side by side in one process on the
same ledger, alternately:

* baseline: the same deep walk (decrypting and checking every event's actor, time and
  policy citation) with the release and record checks left out entirely -- stronger than
  the code before session 22, which still tracked each release's inventory digest;
* now: the deep walk as ``custodes verify --deep`` runs it.

The timed section is ``verify_chain(open_chain(dd), acts=deep_checker(mapper))``: it
leaves out opening the data directory and the ledger (the mapper), the read-model replay
``verify --deep`` also runs, and the output. CPU seconds of this process. The ledger is
bench_scale's library system, built here unless --data-dir names one.

Run:  .venv/bin/python bench/bench_verify_deep.py --events 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale  # noqa: E402

from ledger import act_check  # noqa: E402
from ledger.app import open_ledger  # noqa: E402
from ledger.datadir import DataDir  # noqa: E402
from ledger.integrity import deep_checker, open_chain, verify_chain  # noqa: E402


def walk(dd: DataDir, mapper: Any, *, judge: bool) -> tuple[float, dict[str, int]]:
    checker = deep_checker(mapper)
    if not judge:
        checker._check_records = lambda decoded, role: None  # type: ignore[method-assign]
    t0 = time.process_time()
    result = verify_chain(open_chain(dd), acts=checker)
    spent = time.process_time() - t0
    assert result.damage is None, result.damage
    counts = {
        "requests": len(getattr(checker, "requests", {})),
        "releases": sum(len(b) for b in getattr(checker, "bodies", {}).values()),
    }
    return spent, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    dd = bench_scale.data_dir_for(a.data_dir, a.events, "bench_verify_deep_")
    ledger = open_ledger(dd)
    times: dict[str, list[float]] = {"baseline": [], "now": []}
    counts: dict[str, int] = {}
    try:
        for _ in range(a.repeats):  # alternately, so both meet the same machine
            times["baseline"].append(walk(dd, ledger.mapper, judge=False)[0])
            spent, counts = walk(dd, ledger.mapper, judge=True)
            times["now"].append(spent)
    finally:
        ledger.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "entries": open_chain(dd).count_rows(),
        **counts,
        "cpu_s": times,
        "median_s": med,
        "now_over_baseline": med["now"] / med["baseline"],
        "checker": act_check.__name__,
    }
    print(json.dumps(result, indent=2))
    if a.json:
        with a.json.open("a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
