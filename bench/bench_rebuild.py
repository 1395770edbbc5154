"""`projections rebuild` from empty: today's code (a git revision, default ``main``) against
this tree, side by side on the same ledger, SQLite and PostgreSQL (issue 18, item 2).

The ledger is bench_scale.py's library system (built through the application, or an
existing data directory given with ``--data-dir``); PostgreSQL gets a row-for-row copy
of it (bench_scale's ``copy_to_postgres``). Each rebuild runs in a fresh child process
(its own peak RSS, its CPU time and its decoding workers'), alternating baseline and new,
``--repeats`` times. On a shared machine the wall times carry other work; the writing
process's CPU time (the rebuild's critical path) is the steadier figure. After each run
the child checks every seal (R29) and digests every proj_* table but the seals (rows
sorted, as the database returns them; each version table as every content a row held
with its positions, however the tree stores them): the new rebuild's digest must equal
the baseline's, and no seal may fail, or the bench fails.

Run:  .venv/bin/python bench/bench_rebuild.py --size 100000 --db both --json out.jsonl
      .venv/bin/python bench/bench_rebuild.py --data-dir /work/bench-data/x --db both
      .venv/bin/python bench/bench_rebuild.py --data-dir COPY --db sqlite --together --new HEAD
      .venv/bin/python bench/bench_rebuild.py --data-dir COPY --baseline HEAD --baseline-processes 1 --processes 2
(``--together``: both trees at the same time, each on its own copy, so a shared machine's
load falls on both alike; ``--new REV``: a commit instead of the tree's files.)
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
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_ledger import DEFAULT_PG, Databases, machine  # noqa: E402

# Runs in the child with the tree under test first on sys.path: only APIs that both
# today's code and this tree have (Views(ledger, projections).rebuild()).
CHILD = textwrap.dedent(
    """
    import hashlib, json, os, sys, time
    from pathlib import Path
    from sqlalchemy import MetaData, create_engine, select
    from ledger.app import open_ledger
    from ledger.datadir import DataDir
    from projections.base import Views
    import projections.base
    from projections.registry import all_projections
    def server_cpu():
        # Every postgres process's CPU so far, the postmaster's reaped children included
        # (an upper bound for the rebuild's share: other use of the server counts too).
        tck, total = os.sysconf("SC_CLK_TCK"), 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = open(f"/proc/{pid}/stat").read()
            except OSError:
                continue
            if stat[stat.index("(") + 1:].startswith("postgres"):
                f = stat[stat.rindex(")") + 2:].split()
                total += sum(int(x) for x in f[11:15])
        return total / tck
    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    dd = DataDir.open(Path(sys.argv[1]))
    ledger = open_ledger(dd)
    views = Views(ledger, all_projections())
    import resource
    s0 = server_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    processes = os.environ.get("BENCH_REBUILD_PROCESSES")
    n = views.rebuild(**({"processes": int(processes)} if processes else {}))
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = server_cpu() - s0 if dd.database_url.startswith("postgresql") else 0.0
    # The seals (R29) are MACs of the rows as stored, so they differ between trees that
    # store versions differently: each tree checks its own (outside the timed section).
    from projections.seal import check_projections
    findings = len(check_projections(views, views.projections))
    views.close()
    engine = create_engine(dd.database_url)
    meta = MetaData()
    meta.reflect(engine)
    # What the read models say, whichever way the tree stores them: each table as every
    # content a row held with its (from, to) positions (the current content from its
    # asof_from, to NULL; replaced ones from its version table), a row's consecutive
    # equal contents as one; a table without versions as its rows. The retention terms
    # (one row per segment in proj_retention_terms up to session 23, columns of
    # proj_retention_segments since) are read as one table "terms" from whichever holds
    # them, and the segments without those columns; the subject index as every
    # (subject, event) pair, however stored (below). Equal digests: the same rows and the
    # same history. "stored" counts the rows as stored.
    TERMS = ["segment_id", "camera_id", "recorded_start", "recorded_end", "retention_days",
             "retention_version", "deadline", "purged_at", "purge_retention_days",
             "purge_policy_version"]
    def history(conn, base, cols):
        version = meta.tables.get(base.name + "_asof")
        if version is None:
            got = [tuple(r) for r in conn.execute(select(*[base.c[c] for c in cols]))]
            return got, len(got)
        got = [tuple(r) for r in conn.execute(select(*[version.c[c] for c in cols], version.c.asof_from, version.c.asof_to))]
        got += [(*r, None) for r in conn.execute(select(*[base.c[c] for c in cols], base.c.asof_from))]
        stored = len(got)
        key = [cols.index(c.name) for c in base.primary_key.columns]
        got.sort(key=lambda r: (repr([r[i] for i in key]), r[-2]))
        out = []
        for r in got:
            last = out[-1] if out else None
            if last and [last[i] for i in key] == [r[i] for i in key] and last[:-2] == r[:-2] and last[-1] == r[-2]:
                out[-1] = (*last[:-1], r[-1])  # the same content on: one span
            else:
                out.append(r)
        return out, stored
    digest, rows, stored = hashlib.sha256(), 0, 0
    logical = {}
    for name, table in meta.tables.items():
        if not name.startswith("proj_") or name in ("proj_tracking", "proj_seals") or name.endswith("_asof"):
            continue
        cols = [c.name for c in table.columns if c.name != "asof_from"]
        if name == "proj_retention_segments":
            folded = ("retention_days", "retention_version", "purge_retention_days", "purge_policy_version")
            logical[name] = (table, [c for c in cols if c not in folded])
            if "retention_days" in cols:
                logical["terms"] = (table, TERMS)
        elif name == "proj_retention_terms":
            logical["terms"] = (table, TERMS)
        elif name == "proj_subject_aggregates":
            logical[name] = (table, [c for c in cols if c != "notification_id"])
        else:
            logical[name] = (table, cols)
    # The subject index as (subject, event) for every event about a subject: up to
    # session 23 stored so for every one; since, an aggregate's own events are found in
    # the log by aggregate (proj_subject_aggregates, which then has notification_id).
    owned = []
    owners_table = meta.tables.get("proj_subject_aggregates")
    if owners_table is not None and "notification_id" in owners_table.c:
        import uuid
        owners = {}
        with engine.connect() as conn:
            for aggregate, subject in conn.execute(select(owners_table.c.aggregate_id, owners_table.c.subject)):
                owners.setdefault(str(aggregate), []).append(subject)
            events = ledger.chained_recorder.table
            for nid, oid in conn.exec_driver_sql(f"SELECT id, originator_id FROM {events}"):
                aggregate = str(oid if isinstance(oid, uuid.UUID) else uuid.UUID(bytes=oid))
                owned += [(subject, nid) for subject in owners.get(aggregate, ())]
    counted = set()
    with engine.connect() as conn:
        for name, (table, cols) in sorted(logical.items()):
            got, n = history(conn, table, cols)
            stored += 0 if table.name in counted else n
            counted.add(table.name)
            if name == "proj_subject_index":
                got = sorted(set(got) | set(owned))
            got = sorted(repr(r) for r in got)
            rows += len(got)
            digest.update(name.encode() + b"\\0" + "\\n".join(got).encode())
    engine.dispose()
    ledger.close()
    print(json.dumps({"events": n, "secs": secs, "rate": n / secs, "rows": rows, "stored_rows": stored, "seal_findings": findings, "cpu_s": cpu,
                      "workers_cpu_s": kids.ru_utime + kids.ru_stime, "server_cpu_s": server,
                      "children_peak_mib": kids.ru_maxrss / 1024,
                      "digest": digest.hexdigest(), "peak_mib": hwm() / 1024,
                      "module": projections.base.__file__}))
    """
)


def export_tree(rev: str, into: Path) -> Path:
    """The source of ``rev`` (today's code) as files, for the baseline's child."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


# --processes / --baseline-processes: the rebuild's processes in each tree's child (unset:
# the tree's own default, for code from before the option).
PROCESSES: dict[str, int | None] = {"baseline": None, "new": None}


def start_child(tree: Path, data_dir: Path, label: str = "new") -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("BENCH_REBUILD_PROCESSES", None)
    if PROCESSES[label] is not None:
        env["BENCH_REBUILD_PROCESSES"] = str(PROCESSES[label])
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tree, env=env,
    )  # fmt: skip


def child_result(tree: Path, proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"rebuild with {tree} failed: {err}")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["module"].startswith(str(tree)), result["module"]  # the intended tree
    return result


def run_child(tree: Path, data_dir: Path, label: str) -> dict[str, Any]:
    return child_result(tree, start_child(tree, data_dir, label))


def run_together(trees: dict[str, Path], source: Path, work: Path) -> dict[str, dict[str, Any]]:
    """Each tree rebuilds its own copy of the SQLite data directory, all at the same
    time: on a shared machine both then meet the same load, which sequential runs do
    not (the other work comes and goes between them)."""
    procs = {}
    for label, tree in trees.items():
        copy = work / f"together-{label}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(source, copy)
        procs[label] = start_child(tree, copy, label)
    results = {label: child_result(trees[label], proc) for label, proc in procs.items()}
    for label in trees:
        shutil.rmtree(work / f"together-{label}", ignore_errors=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", type=int, default=100000, help="events to build (no --data-dir)")
    ap.add_argument("--data-dir", type=Path, help="an existing SQLite data directory")
    ap.add_argument("--keep", type=Path, help="build into this directory and keep it")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--baseline", default="main", help="git revision of today's code")
    ap.add_argument(
        "--new",
        help="git revision of the new code (default: this tree's files, "
        "as they are; a revision lets the tree change while the bench runs)",
    )
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--processes", type=int, help="the new tree's rebuild processes")
    ap.add_argument("--baseline-processes", type=int, help="the baseline's rebuild processes")
    ap.add_argument("--together", action="store_true",
                    help="SQLite: run baseline and new at the same time, each on its own copy "
                         "of the data directory (the same load for both)")  # fmt: skip
    ap.add_argument("--json", type=Path, help="append results as JSON lines")
    ap.add_argument("--proofs", type=int, default=0, metavar="N",
                    help="also time the first inclusion proof after start on the PostgreSQL "
                         "copy, cold and warmed up, N fresh processes each (bench_proofs)")  # fmt: skip
    a = ap.parse_args()
    PROCESSES.update(baseline=a.baseline_processes, new=a.processes)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    import bench_scale

    dbs = Databases(a.pg_url)
    work = Path(tempfile.mkdtemp(prefix="bench_rebuild_", dir=dbs.tmp))
    baseline = export_tree(a.baseline, work / "baseline")
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", a.baseline],
                         check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", a.new or "HEAD"],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    if a.new is None and subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        check=True, capture_output=True, text=True,
    ).stdout.strip():  # fmt: skip
        head += " with uncommitted changes"  # the tree's files, not HEAD's
    new_tree = ROOT if a.new is None else export_tree(a.new, work / "new")
    if a.json:
        with a.json.open("a") as f:
            f.write(json.dumps({"machine": machine(a.pg_url), "baseline": rev, "new": head,
                                "processes": PROCESSES}) + "\n")  # fmt: skip
    try:
        from ledger.datadir import DataDir

        if a.data_dir:
            src = DataDir.open(a.data_dir)
        else:
            root = a.keep or work / "sqlite"
            log(f"building {a.size:,} events")
            src, _r = bench_scale.build(root, None, a.size, log)
        import sqlite3

        with sqlite3.connect(src.path / "ledger.sqlite") as lite:
            events = lite.execute(f"SELECT max(id) FROM {bench_scale.EVENTS_TABLE}").fetchone()[0]
        kinds = ("sqlite", "postgres") if a.db == "both" else (a.db,)
        for db in kinds:
            if db == "sqlite":
                dd = src
            else:
                url = dbs.fresh("postgres", "rebuild")
                dd, _r = bench_scale.copy_to_postgres(src, events, work / "pg", url, log)
            runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "new": []}
            trees = {"baseline": baseline, "new": new_tree}
            for _ in range(a.repeats):
                if a.together and db == "sqlite":
                    ran = run_together(trees, dd.path, work)
                else:
                    ran = {label: run_child(tree, dd.path, label) for label, tree in trees.items()}
                for label, c in ran.items():
                    runs[label].append(c)
                    log(f"{db} {label}: {c['secs']:.1f} s ({c['rate']:,.0f} events/s), CPU "
                        f"{c['cpu_s']:.1f} s + workers {c['workers_cpu_s']:.1f} s "
                        f"+ server {c.get('server_cpu_s', 0):.1f} s, "
                        f"{c['rows']:,} rows ({c.get('stored_rows', c['rows']):,} stored), peak {c['peak_mib']:.0f} MiB (a child's "
                        f"{c.get('children_peak_mib', 0):.0f} MiB)")  # fmt: skip
            if any(c.get("seal_findings") for r in runs.values() for c in r):
                raise SystemExit(f"{db}: a rebuilt read model does not match its seal")
            digests = {c["digest"] for r in runs.values() for c in r}
            if len(digests) != 1:
                raise SystemExit(f"{db}: the rebuilt read models differ from today's code")
            old = statistics.median(c["secs"] for c in runs["baseline"])
            new = statistics.median(c["secs"] for c in runs["new"])
            cpu_old = statistics.median(c["cpu_s"] for c in runs["baseline"])
            cpu_new = statistics.median(c["cpu_s"] for c in runs["new"])
            ours = {label: statistics.median(c["cpu_s"] + c["workers_cpu_s"] for c in r)
                    for label, r in runs.items()}  # fmt: skip
            log(f"{db}: CPU of the rebuild's own processes (writer, decoders or groups): today "
                f"{ours['baseline']:.1f} s, new {ours['new']:.1f} s")  # fmt: skip
            row = {"db": db, "events": events, "baseline_s": old, "new_s": new,
                   "baseline_cpu_s": cpu_old, "new_cpu_s": cpu_new,
                   "speedup": old / new, "rows": runs["new"][0]["rows"], "equal": True,
                   "stored_rows": {label: r[0].get("stored_rows") for label, r in runs.items()},
                   "runs": runs}  # fmt: skip
            log(f"{db}: {events:,} events, today {old:.1f} s, new {new:.1f} s = {old / new:.1f}x faster, read models equal")  # fmt: skip
            if a.json:
                with a.json.open("a") as f:
                    f.write(json.dumps(row) + "\n")
            if db == "postgres" and a.proofs:
                import bench_proofs

                r = bench_proofs.first_proofs(dd.path, a.proofs)
                log(f"first proof after start on PostgreSQL ({r['entries']:,} entries): "
                    f"cold {r['cold_first_proof_ms']:.2f} ms, warmed up {r['warm_first_proof_ms']:.2f} ms "
                    f"(open {r['cold_open_ms']:.1f} / {r['warm_open_ms']:.1f} ms; second proof "
                    f"{r['cold_second_proof_ms']:.2f} / {r['warm_second_proof_ms']:.2f} ms)")  # fmt: skip
                if a.json:
                    with a.json.open("a") as f:
                        f.write(json.dumps({"first_proof": r}) + "\n")
            if db == "postgres":
                dbs.drop(url)
                shutil.rmtree(work / "pg", ignore_errors=True)
    finally:
        dbs.close()


if __name__ == "__main__":
    main()
