"""``custodes demo`` from spawn to exit: this tree against another tree, interleaved.

Each run is a new process running the demo into a new output directory (SQLite, the
default), as a person runs the README's first command, after the install: bytecode
cached (one untimed run of each tree first). The two trees alternate run by run
(ABBA order), each child with the editable install's finder dropped and its own tree
first on ``sys.path``, the same interpreter and packages. Wall time from spawn to exit
and the child's CPU time (user + system); medians, min and max.

The timed section is the whole command: interpreter start, imports, the month recorded
(captures, acts, sweeps, requests), the reports written (HTML and PDF); it leaves out
nothing the user waits for, and removing the previous run's directory.

Run:  git archive <rev> | tar -x -C /tmp/base
      .venv/bin/python bench/bench_demo.py --baseline /tmp/base --runs 9
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CHILD = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
    "sys.path.insert(0, sys.argv.pop(1))\n"
    "from cli.main import main\n"
    "main()\n"
)


def run_once(tree: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``custodes demo`` of ``tree`` into ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), "demo", "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not a tree: '' on sys.path must not find one
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{tree}: the demo failed\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--baseline", type=Path, required=True, help="another tree of the project")
    ap.add_argument("--runs", type=int, default=9, help="timed runs of each tree")
    ap.add_argument("--json", type=Path, default=None, help="append the result as a JSON line")
    ap.add_argument("demo_args", nargs="*", help="passed to `custodes demo` (after --)")
    a = ap.parse_args()
    trees = {"baseline": a.baseline.resolve(), "this tree": HERE}
    work = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    loads = []
    try:
        for tree in trees.values():  # bytecode written, untimed
            run_once(tree, work / "warm", a.demo_args)
        for k in range(a.runs):
            order = list(trees.items()) if k % 2 == 0 else list(trees.items())[::-1]
            loads.append(os.getloadavg()[0])
            for name, tree in order:
                runs[name].append(run_once(tree, work / name.replace(" ", "_"), a.demo_args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result: dict[str, object] = {"runs": a.runs, "load_1min": [round(x, 2) for x in loads]}
    print("| tree | wall, median | min–max | CPU, median |")
    print("|---|---|---|---|")
    for name, rows in runs.items():
        wall = [w for w, _ in rows]
        cpu = [c for _, c in rows]
        result[name] = {"wall_s": [round(w, 3) for w in wall], "cpu_s": [round(c, 3) for c in cpu]}
        print(
            f"| {name} | {statistics.median(wall):.2f} s | {min(wall):.2f}–{max(wall):.2f} s "
            f"| {statistics.median(cpu):.2f} s |"
        )
    ratio = statistics.median(w for w, _ in runs["this tree"]) / statistics.median(
        w for w, _ in runs["baseline"]
    )
    result["ratio_wall"] = round(ratio, 3)
    print(
        f"this tree / baseline, wall: {ratio:.2f}x; load (1 min) {min(loads):.2f}–{max(loads):.2f}"
    )
    if a.json:
        with a.json.open("a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
