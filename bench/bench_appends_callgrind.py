"""Instructions per appended event, chained against raw unchained, counted by callgrind.

    .venv/bin/python bench/bench_appends_callgrind.py [--other-tree DIR] [--saves 30]

Wall and CPU time move with the machine's load; instruction counts do not. Each figure
is one child process under ``valgrind --tool=callgrind`` with collection switched on
only around the timed saves (a tiny C helper compiled with gcc toggles it, through
``valgrind/callgrind.h``): SQLite on /dev/shm, ``RawRecorder`` and the chained recorder
of bench_ledger.py, 1 and 100 events per save, the same seeded events. ``--other-tree``
(e.g. main via ``git archive``) measures that checkout's chained recorder too
(``BENCH_TREE``), against this tree's raw baseline.

Under valgrind OpenSSL finds no SHA extensions and hashes in software, so the SHA-256
block function (found by its address in libcrypto, ``--sha-symbol``) is reported
apart, and the ratios are given without it; on the real CPU those blocks cost far less.

``--proto-c`` adds this tree's chained recorder with ``chain_rows``' per-entry hashing
and packing in C (bench/proto: a prototype compiled here with gcc, not part of the
package), checked byte for byte against ``chain_rows`` in the child before counting.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOGGLE_C = "#include <valgrind/callgrind.h>\nvoid cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }\n"
# The SHA-256 block function in Debian 12's libcrypto.so.3 (no symbol): what
# callgrind_annotate prints for it.
SHA_SYMBOL = "???:0x000000000029ad80 [/usr/lib/x86_64-linux-gnu/libcrypto.so.3]"


def child(kind: str, per: int, saves: int, toggle: str) -> None:
    """Runs under valgrind: five untimed saves, then ``saves`` counted ones."""
    import ctypes

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_ledger import STATE_SIZE, TOPIC, make_recorder
    from eventsourcing.persistence import StoredEvent

    if kind == "proto-c":  # the chained recorder with chain_rows' loop in C (prototype)
        sys.path.insert(0, str(ROOT / "bench" / "proto"))
        import chainc_rows

        import ledger.chain_sql

        rows_c = chainc_rows.make_rows(chainc_rows.load(Path(os.environ["BENCH_CHAINC"])))
        chainc_rows.check(rows_c, cases=20)  # byte for byte against chain_rows, first
        ledger.chain_sql.chain_rows = rows_c  # type: ignore[assignment]
        kind = "chained"

    rng = random.Random(1)
    work = tempfile.mkdtemp(dir="/dev/shm")
    try:
        rec = make_recorder(kind, f"sqlite:///{work}/x.db")
        batches = [
            [
                StoredEvent(
                    uuid.UUID(int=rng.getrandbits(128)), v, TOPIC, rng.randbytes(STATE_SIZE)
                )
                for v in range(1, per + 1)
            ]
            for _ in range(saves + 5)
        ]
        for b in batches[:5]:
            rec.insert_events(b)
        cg = ctypes.CDLL(toggle)
        cg.cg_toggle()
        for b in batches[5:]:
            rec.insert_events(b)
        cg.cg_toggle()
    finally:
        shutil.rmtree(work)


def count(
    tree: str | None, kind: str, per: int, saves: int, toggle: Path, sha: str
) -> tuple[float, float]:
    """(instructions per event, of which SHA-256 blocks)."""
    env = dict(os.environ)
    env.pop("BENCH_TREE", None)
    if tree:
        env["BENCH_TREE"] = tree
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no",
             f"--callgrind-out-file={out}", sys.executable, __file__,
             "--child", kind, "--per", str(per), "--saves", str(saves), "--toggle", str(toggle)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        text = subprocess.run(
            ["callgrind_annotate", "--threshold=100", str(out)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    total = sha_total = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if m.group(2).strip() == "PROGRAM TOTALS":
            total = n
        elif m.group(2).strip() == sha:
            sha_total += n
    events = saves * per
    return total / events, sha_total / events


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--other-tree", default=None)
    ap.add_argument("--saves", type=int, default=30, help="saves counted at 100 events/save")
    ap.add_argument("--sha-symbol", default=SHA_SYMBOL)
    ap.add_argument(
        "--proto-c",
        action="store_true",
        help="also this tree's chained recorder with chain_rows' per-entry hashing and "
        "packing in C (bench/proto, a prototype built here, checked byte for byte first)",
    )
    ap.add_argument("--child", choices=("raw", "chained", "proto-c"), help=argparse.SUPPRESS)
    ap.add_argument("--per", type=int, default=100, help=argparse.SUPPRESS)
    ap.add_argument("--toggle", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.per, a.saves, a.toggle)
        return
    with tempfile.TemporaryDirectory() as tmp:
        toggle = Path(tmp) / "libcgtoggle.so"
        (Path(tmp) / "t.c").write_text(TOGGLE_C)
        subprocess.run(
            ["gcc", "-O2", "-shared", "-fPIC", "-o", str(toggle), str(Path(tmp) / "t.c")],
            check=True,
        )
        runs = [(None, "raw"), (None, "chained")]
        if a.other_tree:
            runs.append((a.other_tree, "chained"))
        if a.proto_c:
            sys.path.insert(0, str(ROOT / "bench" / "proto"))
            import chainc_rows

            os.environ["BENCH_CHAINC"] = str(chainc_rows.build(Path(tmp)))
            runs.append((None, "proto-c"))
        print("| events/save | recorder | instructions/event | of which SHA-256 blocks "
              "| raw/this, without SHA blocks |")  # fmt: skip
        print("|---|---|---|---|---|")
        for per in (1, 100):
            saves = a.saves if per > 1 else a.saves * 10
            raw = None
            for tree, kind in runs:
                total, sha = count(tree, kind, per, saves, toggle, a.sha_symbol)
                raw = total if raw is None else raw
                label = f"{kind} ({'this tree' if tree is None else tree})"
                print(f"| {per} | {label} | {total:,.0f} | {sha:,.0f} "
                      f"| {raw / (total - sha):.2f}x |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
