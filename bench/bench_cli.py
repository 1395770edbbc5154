"""How long a person waits for the command line (issue 16, speed a person feels).

    .venv/bin/python bench/bench_cli.py [--repeats 15] [--json OUT]

Each command runs as its own process, as a person or cron runs it, and is timed from
spawn to exit (wall clock). Runs are interleaved with the baseline, ``python -c pass``
with the same interpreter, so the ratio holds under other load; medians are reported.
The data directory is made once (``init`` and ``login``: the passphrase KDF is paid
there, not in the timed runs, as a signed-in Director's commands do not pay it).

Timed: ``--help``; a mistyped command (usage error, exit 2); ``status``; ``verify`` on
the small ledger; a one-event act (``camera add``, the Director signed in).

``--instructions`` also counts the instructions each command executes (valgrind's
callgrind, one run each): unlike wall time this does not move with the machine's load, so
it compares two versions fairly on a busy machine.

``--baseline SRC``: also time ``status`` and the act of another source tree of this
project (e.g. ``git archive main``), interleaved with this tree's in the same run and on
the same ledger; each tree's commands then run through ``RUNNER`` (the venv's
editable-install finder dropped, the tree first on ``sys.path``), this tree's too, so
both pay the same start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_ledger import DEFAULT_PG, machine  # noqa: E402

CUSTODES = str(Path(sys.executable).with_name("custodes"))
DIRECTOR = "Dana Director"


def _passphrase_file(folder: Path) -> Path:
    path = folder / "director.pass"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("a long bench passphrase for the director\n")
    return path


def _run(argv: list[str], env: dict[str, str], expect: int = 0) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != expect:
        raise SystemExit(f"{argv} exited {done.returncode}: {done.stderr.strip()[:400]}")
    return elapsed


def _instructions(argv: list[str], env: dict[str, str]) -> int:
    """Instructions executed by one run of ``argv`` (callgrind's "Collected")."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"valgrind gave no count for {argv}: {done.stderr[-400:]}")
    return int(found.group(1))


def _login(env: dict[str, str], passphrase: str) -> None:
    """``custodes login`` at a terminal (a pty): the unlock it leaves is what a signed-in
    Director's later commands use, in this same login session."""
    primary, secondary = pty.openpty()
    quiet = {k: v for k, v in env.items() if k != "CUSTODES_PASSPHRASE_FILE"}
    with subprocess.Popen(
        [CUSTODES, "login", DIRECTOR], env=quiet, stdin=secondary, stdout=secondary,
        stderr=secondary,
    ) as child:  # fmt: skip
        os.close(secondary)
        seen = b""
        while b"assphrase" not in seen:  # getpass flushes what was typed before its prompt
            seen += os.read(primary, 1024)
        time.sleep(0.2)
        os.write(primary, passphrase.encode())
        if child.wait(timeout=60) != 0:
            raise SystemExit(f"login failed: {os.read(primary, 4096).decode(errors='replace')}")
    os.close(primary)


# Runs ``cli.main`` from the tree given as its first argument, not the installed one.
RUNNER = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '')]\n"
    "sys.path.insert(0, sys.argv.pop(1))\n"
    "sys.argv[0] = 'custodes'\n"
    "from cli.main import main\n"
    "main()\n"
)


def _add(camera: str, command: list[str] | None = None) -> list[str]:
    return [*(command or [CUSTODES]), "camera", "add", camera, "--location", "Lobby",
            "--zone", "public", "--signage-posted"]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind)"
    )
    ap.add_argument("--baseline", type=Path, default=None, help="another source tree")
    args = ap.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="custodes-bench-cli-") as tmp:
        folder = Path(tmp)
        secret = _passphrase_file(folder)
        env = {
            **os.environ,
            "CUSTODES_DATA_DIR": str(folder / "ledger"),
            "CUSTODES_PASSPHRASE_FILE": str(secret),
            "CUSTODES_NEW_PASSPHRASE_FILE": str(secret),
        }
        env.pop("CUSTODES_DATABASE_URL", None)
        _run([CUSTODES, "init", "--director", DIRECTOR], env)
        _login(env, secret.read_text())
        cases: dict[str, tuple[list[str], int]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], 0),
            "custodes --help": ([CUSTODES, "--help"], 0),
            "custodes verfy (usage error)": ([CUSTODES, "verfy"], 2),
            "custodes status": ([CUSTODES, "status"], 0),
            "custodes verify": ([CUSTODES, "verify"], 0),
        }
        acts = {"custodes camera add (one signed event)": [CUSTODES]}
        if args.baseline is not None:
            for tree, src in (("this tree", ROOT), ("baseline", args.baseline.resolve())):
                command = [sys.executable, "-c", RUNNER, str(src)]
                cases[f"{tree}: custodes status"] = ([*command, "status"], 0)
                acts[f"{tree}: custodes camera add"] = command
        times: dict[str, list[float]] = {name: [] for name in [*cases, *acts]}
        for i in range(args.repeats):
            for name, (argv, expect) in cases.items():
                times[name].append(_run(argv, env, expect))
            for n, (name, command) in enumerate(acts.items()):
                times[name].append(_run(_add(f"cam-{i}-{n}", command), env))
        counts: dict[str, int] = {}
        if args.instructions:
            for name, (argv, _expect) in cases.items():
                counts[name] = _instructions(argv, env)
            for n, (name, command) in enumerate(acts.items()):
                counts[name] = _instructions(_add(f"cam-x-{n}", command), env)

    base = statistics.median(times["python -c pass"])
    rows = []
    print(f"{'command':48} {'median':>9} {'min':>9} {'x python -c pass':>17}", end="")
    print(f" {'instructions':>14}" if counts else "")
    for name, runs in times.items():
        median = statistics.median(runs)
        row = {"what": name, "median_s": median, "min_s": min(runs), "ratio": median / base}
        line = f"{name:48} {median:8.3f}s {min(runs):8.3f}s {median / base:16.1f}x"
        if counts:
            row["instructions"] = counts[name]
            line += f" {counts[name] / 1e6:12.0f} M"
        rows.append(row)
        print(line)
    load = os.getloadavg()
    print(f"load average before the run: {load_before[0]:.2f}, after it: {load[0]:.2f}")
    bytecode = "not written" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "cached"
    print(f"bytecode: {bytecode} (PYTHONDONTWRITEBYTECODE)")
    if args.json:
        with args.json.open("a") as out:
            run_info = {
                "machine": machine(DEFAULT_PG),
                "load_before": load_before,
                "load": load,
                "bytecode": bytecode,
                "baseline": str(args.baseline) if args.baseline else None,
            }
            out.write(json.dumps(run_info) + "\n")
            for row in rows:
                out.write(json.dumps({"repeats": args.repeats, **row}) + "\n")


if __name__ == "__main__":
    main()
