"""What a patron pseudonym costs, and so what trying every card number costs someone who
holds keys/pseudonym.key (issue 14, finding 4).

Measures, side by side in one run: the HMAC-SHA-256 pseudonym Custodes used before, and
the Argon2id pseudonym it uses now (ledger.patrons.pseudonym), one at a time on one core
and as throughput on every core (one process per core). Projects the time to compute the
pseudonym of every card number in a space of 10^9 (and 10^10, 10^14) on this machine.

Run: .venv/bin/python bench/bench_pseudonym.py [--samples 60] [--seconds 10]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.patrons import PSEUDONYM_KDF, pseudonym  # noqa: E402

KEY = bytes(range(32))


def hmac_pseudonym(card: str) -> str:
    """The pseudonym before issue 14: HMAC-SHA-256(key, card), 16 hex digits."""
    digest = hmac.new(KEY, b"custodes patron\x00" + card.encode(), hashlib.sha256)
    return "p-" + digest.hexdigest()[:16]


def argon_pseudonym(card: str) -> str:
    return pseudonym(KEY, card)


def _worker(args: tuple[str, int, float]) -> int:
    kind, first, seconds = args
    fn = argon_pseudonym if kind == "argon2id" else hmac_pseudonym
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn(f"{first + done:010d}")
        done += 1
    return done


def throughput(kind: str, processes: int, seconds: float) -> float:
    """Pseudonyms per second with ``processes`` processes trying cards at once."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_worker, [(kind, 0, 0.2)] * processes)  # warm up (imports, page faults)
        start = time.perf_counter()
        counts = pool.map(_worker, [(kind, i * 10**8, seconds) for i in range(processes)])
        elapsed = time.perf_counter() - start
    return sum(counts) / elapsed


def one_at_a_time(fn: object, samples: int) -> list[float]:
    times = []
    for i in range(samples):
        start = time.perf_counter()
        fn(f"21000{i:09d}")  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365 * 86400):,.0f} years"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=60, help="single pseudonyms timed")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of a throughput run")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {cpu_model()}, {cores} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} at start")  # fmt: skip
    print(f"argon2id parameters: {PSEUDONYM_KDF} (memory in KiB)")
    one = one_at_a_time(argon_pseudonym, args.samples)
    print(
        f"argon2id, one at a time: median {statistics.median(one) * 1000:.1f} ms, "
        f"min {min(one) * 1000:.1f} ms, max {max(one) * 1000:.1f} ms ({args.samples} samples)"
    )
    old = one_at_a_time(hmac_pseudonym, 20000)
    print(f"hmac-sha256, one at a time: median {statistics.median(old) * 1e6:.2f} us")
    for kind in ("hmac-sha256", "argon2id"):
        rate = throughput(kind, cores, args.seconds)
        print(f"{kind}: {rate:,.1f} pseudonyms/s on {cores} processes")
        for space in (10**9, 10**10, 10**14):
            print(f"  every card of a space of 10^{len(str(space)) - 1}: {human(space / rate)}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
