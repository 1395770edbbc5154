"""Merkle proofs at scale: ledger.merkle on SQLite vs pymerkle, side by side, one run.

    .venv/bin/python bench/bench_merkle.py --leaves 1000000

Builds the node store for N leaves in a SQLite file through MerkleAppender (the table
the lead's SQL store will mirror: nodes(level, idx, hash) WITHOUT ROWID), then starts a
FRESH process (new interpreter, new connection: the "first call after a restart") that
times proofs, verification and roots. pymerkle (if installed) gets the same leaves: its
SqliteTree is queried from a fresh process too; its InmemoryTree is built and queried in
one process, whose peak RSS is reported. The OS page cache is not dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.merkle import (  # noqa: E402
    MerkleAppender,
    NodeMissing,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)

SAMPLES = 1000
BATCH = 10_000


def entry(i: int) -> bytes:
    return b"custodes chain entry %012d" % i


class SqliteNodeStore:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def get(self, level: int, index: int) -> bytes:
        row = self.con.execute(
            "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:
            raise NodeMissing(level, index)
        return bytes(row[0])

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        self.con.executemany("INSERT INTO nodes(level, idx, hash) VALUES (?, ?, ?)", items)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def ms(seconds: float) -> float:
    return round(seconds * 1000, 4)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_ms(fn: Callable[[int], Any], args: list[int]) -> float:
    times = []
    for a in args:
        start = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - start)
    return ms(statistics.median(times))


def build_ours(db: str, n: int) -> dict[str, Any]:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE nodes(level INTEGER, idx INTEGER, hash BLOB, "
        "PRIMARY KEY(level, idx)) WITHOUT ROWID"
    )
    store = SqliteNodeStore(con)
    appender = MerkleAppender()
    start = time.perf_counter()
    for first in range(0, n, BATCH):
        hashes = [leaf_hash(entry(i)) for i in range(first, min(n, first + BATCH))]
        con.execute("BEGIN")
        store.put_many(appender.append(hashes))
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return {
        "build_s": round(elapsed, 2),
        "root": appender.root().hex(),
        "db_mb": round(os.path.getsize(db) / 2**20, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def query_ours(db: str, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    first_index = rng.randrange(n)
    t_open, con = timed(lambda: sqlite3.connect(db))
    store = SqliteNodeStore(con)
    t_first, first_proof = timed(lambda: inclusion_proof(first_index, n, store))
    t_root, root = timed(lambda: root_at(n, store))
    indexes = [rng.randrange(n) for _ in range(SAMPLES)]
    olds = [rng.randrange(1, n) for _ in range(SAMPLES)]
    # Generation is timed before anything touched these indexes (no warm caches).
    incl_median = median_ms(lambda i: inclusion_proof(i, n, store), indexes)
    cons_median = median_ms(lambda m: consistency_proof(m, n, store), olds)
    root_median = median_ms(lambda m: root_at(m, store), olds)
    proofs = {i: inclusion_proof(i, n, store) for i in indexes}
    leaf_hashes = {i: leaf_hash(entry(i)) for i in indexes}
    old_roots = {m: root_at(m, store) for m in olds}
    cproofs = {m: consistency_proof(m, n, store) for m in olds}
    result = {
        "open_ms": ms(t_open),
        "incl_first_ms": ms(t_first),
        "incl_median_ms": incl_median,
        "incl_verify_median_ms": median_ms(
            lambda i: verify_inclusion(leaf_hashes[i], i, n, proofs[i], root), indexes
        ),
        "cons_median_ms": cons_median,
        "cons_verify_median_ms": median_ms(
            lambda m: verify_consistency(m, n, old_roots[m], root, cproofs[m]), olds
        ),
        "root_first_ms": ms(t_root),
        "root_median_ms": root_median,
        "proof_hashes": len(first_proof),
        "root": root.hex(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    verify_inclusion(leaf_hash(entry(first_index)), first_index, n, first_proof, root)
    return result


def build_pymerkle_sqlite(db: str, n: int) -> dict[str, Any]:
    from pymerkle import SqliteTree

    start = time.perf_counter()
    with SqliteTree(db) as tree:
        tree.append_entries((entry(i) for i in range(n)), chunksize=100_000)
        root = tree.get_state().hex()
    return {"build_s": round(time.perf_counter() - start, 2), "root": root}


def query_pymerkle(tree: Any, n: int, seed: int) -> dict[str, Any]:
    from pymerkle import verify_consistency as pm_verify_consistency
    from pymerkle import verify_inclusion as pm_verify_inclusion

    rng = random.Random(seed)
    first_index = rng.randrange(n)
    t_first, _ = timed(lambda: tree.prove_inclusion(first_index + 1, n))
    t_root, root = timed(lambda: tree.get_state(n))
    indexes = [rng.randrange(n) for _ in range(SAMPLES)]
    olds = [rng.randrange(1, n) for _ in range(SAMPLES)]
    # Timed before its subroot cache has seen these indexes, as for ours.
    incl_median = median_ms(lambda i: tree.prove_inclusion(i + 1, n), indexes)
    cons_median = median_ms(lambda m: tree.prove_consistency(m, n), olds)
    root_median = median_ms(lambda m: tree.get_state(m), olds)
    proofs = {i: tree.prove_inclusion(i + 1, n) for i in indexes}
    bases = {i: tree.get_leaf(i + 1) for i in indexes}
    old_states = {m: tree.get_state(m) for m in olds}
    cproofs = {m: tree.prove_consistency(m, n) for m in olds}
    return {
        "incl_first_ms": ms(t_first),
        "incl_median_ms": incl_median,
        "incl_verify_median_ms": median_ms(
            lambda i: pm_verify_inclusion(bases[i], root, proofs[i]), indexes
        ),
        "cons_median_ms": cons_median,
        "cons_verify_median_ms": median_ms(
            lambda m: pm_verify_consistency(old_states[m], root, cproofs[m]), olds
        ),
        "root_first_ms": ms(t_root),
        "root_median_ms": root_median,
        "root": root.hex(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def query_pymerkle_sqlite(db: str, n: int, seed: int) -> dict[str, Any]:
    from pymerkle import SqliteTree

    t_open, tree = timed(lambda: SqliteTree(db))
    result = {"open_ms": ms(t_open), **query_pymerkle(tree, n, seed)}
    tree.close()
    return result


def pymerkle_inmemory(n: int, seed: int) -> dict[str, Any]:
    from pymerkle import InmemoryTree

    start = time.perf_counter()
    tree = InmemoryTree()
    for i in range(n):
        tree.append_entry(entry(i))
    build = round(time.perf_counter() - start, 2)
    return {"build_s": build, **query_pymerkle(tree, n, seed)}


ROLES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "build-ours": lambda a: build_ours(a.db, a.leaves),
    "query-ours": lambda a: query_ours(a.db, a.leaves, a.seed),
    "build-pymerkle-sqlite": lambda a: build_pymerkle_sqlite(a.db, a.leaves),
    "query-pymerkle-sqlite": lambda a: query_pymerkle_sqlite(a.db, a.leaves, a.seed),
    "pymerkle-inmemory": lambda a: pymerkle_inmemory(a.leaves, a.seed),
}


def run_role(role: str, args: argparse.Namespace, db: str) -> dict[str, Any]:
    """Each role runs in its own interpreter, so every query phase is a cold start."""
    command = [sys.executable, __file__, "--role", role, "--db", db]
    command += ["--leaves", str(args.leaves), "--seed", str(args.seed)]
    print(f"  {role} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def pymerkle_available() -> str | None:
    try:
        import pymerkle
    except ImportError:
        return None
    return str(pymerkle.__version__)


ROWS = [
    ("build (s)", "build_s"),
    ("open connection (ms)", "open_ms"),
    ("inclusion proof, first call (ms)", "incl_first_ms"),
    ("inclusion proof, median of 1000 (ms)", "incl_median_ms"),
    ("inclusion verify, median (ms)", "incl_verify_median_ms"),
    ("consistency proof, median (ms)", "cons_median_ms"),
    ("consistency verify, median (ms)", "cons_verify_median_ms"),
    ("root, first call (ms)", "root_first_ms"),
    ("root at random size, median (ms)", "root_median_ms"),
    ("peak RSS of the query process (MB)", "peak_rss_mb"),
]


def print_table(n: int, columns: dict[str, dict[str, Any]]) -> None:
    names = list(columns)
    width = max(len(label) for label, _ in ROWS)
    print(f"\nMerkle proofs at {n:,} leaves ({SAMPLES} random samples, fresh process per store)")
    print(f"{'':{width}}  " + "  ".join(f"{name:>18}" for name in names))
    for label, key in ROWS:
        cells = []
        for name in names:
            value = columns[name].get(key)
            cells.append(f"{'-' if value is None else value:>18}")
        print(f"{label:{width}}  " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000, help="tree size (default 1e6)")
    parser.add_argument("--seed", type=int, default=9162, help="random seed for indexes")
    parser.add_argument("--skip-pymerkle", action="store_true", help="bench ours only")
    parser.add_argument(
        "--skip-inmemory", action="store_true", help="skip pymerkle's InmemoryTree (RAM)"
    )
    parser.add_argument("--role", choices=sorted(ROLES), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role:
        print(json.dumps(ROLES[args.role](args)))
        return

    columns: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-merkle-") as tmp:
        ours_db = str(Path(tmp) / "nodes.sqlite")
        built = run_role("build-ours", args, ours_db)
        queried = run_role("query-ours", args, ours_db)
        if built["root"] != queried["root"]:
            raise SystemExit("root after restart differs from the appender's root")
        columns["custodes SQLite"] = {**queried, "build_s": built["build_s"]}
        print(f"  our node store: {built['db_mb']} MB on disk", file=sys.stderr)

        version = None if args.skip_pymerkle else pymerkle_available()
        if version:
            pm_db = str(Path(tmp) / "pymerkle.sqlite")
            pm_built = run_role("build-pymerkle-sqlite", args, pm_db)
            pm_queried = run_role("query-pymerkle-sqlite", args, pm_db)
            columns[f"pymerkle {version} SQLite"] = {**pm_queried, "build_s": pm_built["build_s"]}
            if pm_built["root"] != built["root"]:
                print("  note: pymerkle's root differs from ours", file=sys.stderr)
            if not args.skip_inmemory:
                columns[f"pymerkle {version} memory"] = run_role("pymerkle-inmemory", args, "")
        elif not args.skip_pymerkle:
            print("  pymerkle is not installed: no comparison", file=sys.stderr)

    print_table(args.leaves, columns)
    print(
        "\nNotes: 'first call' is the first proof in a new interpreter with a new connection"
        " (OS page cache not dropped). pymerkle's consistency proofs are not RFC 9162's;"
        " its in-memory build and queries share one process, so its peak RSS includes the tree."
    )


if __name__ == "__main__":
    main()
