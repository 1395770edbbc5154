"""`custodes verify` with a checkpoint kept in the data directory: one walk or two.

Since session 14, `custodes verify` also checks that the chain still extends the
checkpoint the library signed and kept (`last.checkpoint`). Session 14 did that with a
second walk of the whole chain (``verify_against``); session 15 computes the checkpoint's
root in the verification's own walk (``verify_and_extend(roots_at=...)`` and
``judge_against``). Both are timed here on the same ledger, alternately, in one process:

* two walks: ``verify_and_extend(reader, acts=ActChecker(now))`` then
  ``verify_against(reader, cp)`` (what the command ran before);
* one walk: ``verify_and_extend(reader, acts=..., roots_at={cp.size})`` then
  ``judge_against(outcome, cp)`` (what it runs now).

The timed section leaves out opening the data directory and the chain, reading and
checking the checkpoint's signature, the read-model checks and the output. The ledger is
bench_scale's library system, built here unless --data-dir names one.

Run:  .venv/bin/python bench/bench_verify_kept.py --events 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale  # noqa: E402

from ledger.act_check import ActChecker  # noqa: E402
from ledger.datadir import DataDir  # noqa: E402
from ledger.integrity import (  # noqa: E402
    issue_checkpoint,
    judge_against,
    open_chain,
    verify_against,
    verify_and_extend,
)


def two_walks(dd: DataDir, cp) -> float:  # type: ignore[no-untyped-def]
    reader = open_chain(dd)
    t0 = time.process_time()
    outcome = verify_and_extend(reader, acts=ActChecker(now=datetime.now(UTC)))
    assert outcome.verify.ok
    verify_against(reader, cp)
    return time.process_time() - t0


def one_walk(dd: DataDir, cp) -> float:  # type: ignore[no-untyped-def]
    reader = open_chain(dd)
    t0 = time.process_time()
    outcome = verify_and_extend(reader, acts=ActChecker(now=datetime.now(UTC)), roots_at={cp.size})
    assert outcome.verify.ok
    judge_against(outcome, cp)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    dd = bench_scale.data_dir_for(a.data_dir, a.events, "bench_verify_kept_")
    site_origin = "custodes/bench"
    cp, _note = issue_checkpoint(
        open_chain(dd), origin=site_origin, signing_key=dd.signing_key(None), now=datetime.now(UTC)
    )
    times: dict[str, list[float]] = {"two walks": [], "one walk": []}
    for _ in range(a.repeats):  # alternately, so both meet the same machine
        times["two walks"].append(two_walks(dd, cp))
        times["one walk"].append(one_walk(dd, cp))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "entries": cp.size,
        "cpu_s": times,
        "median_s": med,
        "ratio": med["two walks"] / med["one walk"],
    }
    print(json.dumps(result, indent=2))
    if a.json:
        with a.json.open("a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
