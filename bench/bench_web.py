"""The web dashboard's server-side latency and memory on a large ledger (issue 17).

Builds (or reuses, --data-dir) bench_scale's library-system ledger on SQLite through the
real application, then serves it with ``web.app.create_app`` on the simulated clock the
ledger was built to (the day after its last day: the daily sweep has run, so the
attention list is the steady state's), signs the Director in with her real passphrase
(the real argon2id), and times requests through the WSGI application in this process
(no network: the server's own time, template rendering and recording the reads
included). Each page is requested --warmup times first, then --requests times; p50/p95
in ms. The process's resident memory (VmRSS) and peak (VmHWM) after the run. Opening
the ledger (``create_app``, untimed in the pages' figures) is timed apart; a ledger
sealed without seal buckets gains them when the first page opens the read models (in
the warm-ups).

``--compare-unchecked`` times each page twice, interleaved request by request: as the
code stands (the read models checked against their seals, R29) and with every
``read_views`` forced unchecked (the dashboard before it checked), so the cost of the
checks is a side-by-side ratio on the same process, data and load.

Run:  .venv/bin/python bench/bench_web.py --events 100000 --json out.jsonl

``--postgres``: the --data-dir ledger (SQLite) is copied row for row into a new
PostgreSQL database (bench_scale's copy_to_postgres), its read models rebuilt there, the
pages measured on it, and the database dropped after.

``--baseline SRC``: the same measurement of another tree of this project (e.g. an
export of main: ``git archive main | tar -x -C SRC``) in child processes running SRC's own
bench_web.py, alternating with this tree's, --rounds times each, on
``--baseline-data-dir`` (a copy of the same ledger: the trees may add indexes to the one
they open) or, without it, on the same ledger with every baseline round first. With
--postgres the rounds alternate on the one PostgreSQL copy, whose read models this tree
rebuilt (its indexes are there for the baseline too). The load average is noted before
each round.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_reports  # noqa: E402
import bench_scale  # noqa: E402
from bench_ledger import DEFAULT_PG, machine, vm_hwm_kib  # noqa: E402

from ledger.clock import ManualClock  # noqa: E402
from ledger.datadir import DataDir  # noqa: E402


def vm_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timed(client: Any, path: str, warmup: int, n: int) -> dict[str, Any]:
    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, path
    times.sort()
    return {
        "path": path,
        "n": n,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(0.95 * n) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "bytes": len(response.data),
    }


class Unchecked:
    """Every read_views call unchecked while entered (the dashboard before R29 checks)."""

    def __enter__(self) -> None:
        import projections.compliance
        import projections.registry

        self.original = projections.registry.read_views

        def unchecked(ledger: Any, query: Any, *, as_of: Any = None, checked: bool = False) -> Any:
            return self.original(ledger, query, as_of=as_of, checked=False)

        projections.registry.read_views = unchecked  # type: ignore[assignment]
        projections.compliance.read_views = unchecked  # type: ignore[assignment]

    def __exit__(self, *_exc: Any) -> None:
        import projections.compliance
        import projections.registry

        projections.registry.read_views = self.original  # type: ignore[assignment]
        projections.compliance.read_views = self.original  # type: ignore[assignment]


def compared(client: Any, path: str, warmup: int, n: int) -> dict[str, Any]:
    """``path`` timed checked and unchecked, alternating, after warm-ups of both."""
    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
        with Unchecked():
            assert client.get(path).status_code == 200, path
    times: dict[str, list[float]] = {"checked": [], "unchecked": []}
    for i in range(2 * n):
        which = "checked" if i % 2 == 0 else "unchecked"
        t0 = time.perf_counter()
        if which == "unchecked":
            with Unchecked():
                response = client.get(path)
        else:
            response = client.get(path)
        times[which].append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, path
    out: dict[str, Any] = {"path": path, "n": n}
    for which, ts in times.items():
        ts.sort()
        out[f"{which}_p50_ms"] = round(statistics.median(ts), 1)
        out[f"{which}_p95_ms"] = round(ts[max(0, round(0.95 * n) - 1)], 1)
    out["ratio_p50"] = round(out["checked_p50_ms"] / out["unchecked_p50_ms"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--data-dir", type=Path, default=None, help="a ledger built before")
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None, help="append the result as a JSON line")
    ap.add_argument("--postgres", action="store_true", help="measure a PostgreSQL copy")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--baseline", type=Path, default=None, help="another tree to compare")
    ap.add_argument("--baseline-data-dir", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--compare-unchecked",
        action="store_true",
        help="time each page checked (R29) and unchecked, interleaved",
    )
    args = ap.parse_args()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.baseline is not None:
        compare(args, log)
        return
    if args.postgres:
        with postgres_copy(args.data_dir, args.pg_url, log) as pg_dir:
            measure(args, pg_dir, log, {})
        return

    built: dict[str, Any] = {}
    if args.data_dir is not None and (args.data_dir / "keys").exists():
        dd = DataDir.open(args.data_dir)
    else:
        root = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-web-")) / "data"
        log(f"building {args.events:,} events in {root} ...")
        dd, built = bench_scale.build(root, None, args.events, log)
        log(f"  built {built['events']:,} events in {built['build_s']:.0f} s")
    measure(args, dd.path, log, built)


def load() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def after_last_act(ledger: Any, clock: ManualClock) -> None:
    """The clock a minute after the ledger's last event when that is later than
    REPORT_NOW (at 1M events the builder's requests run on into the next morning): a page
    that records a read is refused while the clock is behind the ledger (R26)."""
    top = ledger.recorder.max_notification_id() or 0
    if not top:
        return
    [last] = ledger.recorder.select_notifications(top, 1)
    at = ledger.mapper.to_domain_event(last).timestamp
    if at > clock():
        clock.set(at + timedelta(minutes=1))


def measure(args: Any, data_dir: Path, log: Any, built: dict[str, Any]) -> None:
    from web.app import create_app

    dd = DataDir.open(data_dir)
    database = "postgres" if dd.database_url.startswith("postgresql") else "sqlite"
    load_before = load()

    rss_before = vm_rss_kib()
    t_open = time.perf_counter()
    clock = ManualClock(bench_scale.REPORT_NOW)
    app = create_app(dd.path, clock=clock)
    open_ms = (time.perf_counter() - t_open) * 1000
    after_last_act(app.extensions["custodes"].ledger, clock)
    try:  # as ``custodes serve`` does after creating the application
        from web.app import freeze_startup_heap
    except ImportError:  # a --baseline tree from before it
        pass
    else:
        freeze_startup_heap()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    t0 = time.perf_counter()
    response = client.post(
        "/login",
        data={"name": bench_reports.D, "passphrase": bench_reports.PASSPHRASE.decode(),
              "csrf_token": csrf},
    )  # fmt: skip
    login_ms = (time.perf_counter() - t0) * 1000
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    ledger = app.extensions["custodes"].ledger
    events = ledger.recorder.max_notification_id()
    ref = ledger.request_refs()[-1]
    camera = bench_scale.CAMERAS[0]
    pages = [
        "/",
        "/footage",
        f"/footage?camera={camera}&status=retained",
        f"/requests/{ref}",
        "/requests",
    ]
    results = []
    for path in pages:
        if args.compare_unchecked:
            r = compared(client, path, args.warmup, args.requests)
            log(f"  {path}: checked p50 {r['checked_p50_ms']} / p95 {r['checked_p95_ms']} ms; "
                f"unchecked p50 {r['unchecked_p50_ms']} / p95 {r['unchecked_p95_ms']} ms; "
                f"x{r['ratio_p50']}")  # fmt: skip
        else:
            r = timed(client, path, args.warmup, args.requests)
            log(f"  {path}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms ({r['bytes']:,} bytes)")
        results.append(r)
    result = {
        "bench": "web",
        "events": events,
        "database": database,
        "load_before": load_before,
        "load_after": load(),
        "login_ms": round(login_ms, 1),
        "open_ms": round(open_ms, 1),
        "clock": clock().isoformat(),
        "pages": results,
        "rss_kib_before_app": rss_before,
        "rss_kib": vm_rss_kib(),
        "hwm_kib": vm_hwm_kib(),
        "built": built,
        "machine": machine(None),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    log(f"  open {open_ms:.0f} ms; login {login_ms:.0f} ms; RSS {result['rss_kib'] / 1024:.0f} MiB, peak "
        f"{result['hwm_kib'] / 1024:.0f} MiB")  # fmt: skip
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(result) + "\n")
    app.extensions["custodes"].ledger.close()


@contextmanager
def postgres_copy(data_dir: Path, pg_url: str, log: Any) -> Iterator[Path]:
    """The SQLite ledger in ``data_dir`` copied into a new PostgreSQL database, its read
    models rebuilt there; the database dropped after."""
    import psycopg
    from sqlalchemy import make_url

    from ledger.app import open_ledger
    from projections.base import Views
    from projections.registry import all_projections

    name = f"custodes_web_bench_{os.getpid()}"
    admin = make_url(pg_url)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    root = Path(tempfile.mkdtemp(prefix="bench-web-pg-")) / "data"
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        src = DataDir.open(data_dir)
        lite = open_ledger(src, clock=ManualClock(bench_scale.REPORT_NOW))
        top = lite.recorder.max_notification_id() or 0
        lite.close()
        pg, _info = bench_scale.copy_to_postgres(src, top, root, url, log)
        ledger = open_ledger(pg, clock=ManualClock(bench_scale.REPORT_NOW))
        t0 = time.perf_counter()
        views = Views(ledger, all_projections())
        views.rebuild()
        views.close()
        ledger.close()
        log(f"  read models rebuilt on PostgreSQL in {time.perf_counter() - t0:.0f} s")
        yield root
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(root.parent, ignore_errors=True)


def compare(args: Any, log: Any) -> None:
    """This tree against ``args.baseline``, round by round, each in its own process."""
    if args.data_dir is None:
        raise SystemExit("--baseline needs --data-dir (a ledger built before)")
    here = Path(__file__).resolve()
    base = args.baseline.resolve()
    if args.postgres:
        with postgres_copy(args.data_dir, args.pg_url, log) as pg_dir:
            runs = _rounds(args, here, base, pg_dir, pg_dir, log)
    else:
        runs = _rounds(args, here, base, args.data_dir, args.baseline_data_dir, log)
    paths = [p["path"] for p in runs[0][1]["pages"]]
    for path in paths:
        line = []
        for tree in ("baseline", "this"):
            p50 = [
                next(x for x in r["pages"] if x["path"] == path)["p50_ms"]
                for t, r in runs
                if t == tree
            ]
            p95 = [
                next(x for x in r["pages"] if x["path"] == path)["p95_ms"]
                for t, r in runs
                if t == tree
            ]
            line.append(f"{tree} p50 {statistics.median(p50)} / p95 {statistics.median(p95)} ms")
        log(f"  {path}: " + "; ".join(line))
    if args.json:
        with args.json.open("a") as f:
            for tree, r in runs:
                f.write(
                    json.dumps(
                        {
                            **r,
                            "tree": tree,
                            "tree_path": str(base if tree == "baseline" else here.parents[1]),
                        }
                    )
                    + "\n"
                )


def _rounds(
    args: Any, here: Path, base: Path, data_dir: Path, base_dir: Path | None, log: Any
) -> list[tuple[str, dict[str, Any]]]:
    order = []
    if base_dir is None:  # the same ledger: every baseline round before this tree opens it
        order = [("baseline", data_dir)] * args.rounds + [("this", data_dir)] * args.rounds
    else:
        for _ in range(args.rounds):
            order += [("baseline", base_dir), ("this", data_dir)]
    runs = []
    for tree, where in order:
        root = base if tree == "baseline" else here.parents[1]
        out = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        env = {**os.environ, "PYTHONPATH": str(root)}
        round_load = load()
        log(f"round: {tree} on {where} (load {round_load})")
        subprocess.run(
            [sys.executable, str(root / "bench" / "bench_web.py"), "--data-dir", str(where),
             "--requests", str(args.requests), "--warmup", str(args.warmup), "--json", str(out)],
            env=env, check=True,
        )  # fmt: skip
        runs.append(
            (tree, {**json.loads(out.read_text().splitlines()[-1]), "round_load": round_load})
        )
        out.unlink()
    return runs


if __name__ == "__main__":
    main()
