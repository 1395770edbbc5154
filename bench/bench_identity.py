"""The cost of who and when (issue 11), measured side by side in one run.

    .venv/bin/python bench/bench_identity.py --db both --verify-sizes 100000
    .venv/bin/python bench/bench_identity.py --verify-sizes 1000000 --keep /work/bench-data

1. Appends: the chained recorder with a signed act per save vs the same recorder
   without one (``act=None``: what it wrote before signed acts), into fresh databases,
   ~144-byte states, 1 and 100 events per save; runs interleaved, medians of
   ``--repeats``. The timed section is the ``insert_events`` calls only: the signed runs
   include reading the head's act time, building the statement, Ed25519 signing and the
   longer last row; neither side includes the application's event construction,
   encryption or the authorization checks.
2. Unlock: one argon2id derivation with the real parameters (64 MiB, 3 passes, 4 lanes)
   plus the AES-GCM unwrap, as ``ledger.authenticate`` pays it once per sign-in; medians.
3. Verify with signatures vs without, each in a fresh process on the SAME ledger: the
   library system of bench/bench_scale.py (capture and sweep batches dominate), built
   through the application. "Without" is the chain walk alone (what ``verify`` did before
   signed acts); "with" adds parsing each act record, checking its statement, the key in
   force, the role table and one Ed25519 verification per act.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ledger import DEFAULT_PG, STATE_SIZE, Databases, machine  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402

from ledger import credentials  # noqa: E402
from ledger.acts import ActRequest, Signer, key_id  # noqa: E402
from ledger.clock import system_clock  # noqa: E402
from ledger.store import ChainedApplicationRecorder, ChainedDatastore  # noqa: E402

TOPIC = "ledger.footage:Segment.FootageCaptured"


def _signer() -> ActRequest:
    key = Ed25519PrivateKey.generate()
    return ActRequest(
        Signer(uuid.uuid4(), "Bench", "staff", key_id(key.public_key()), key), "bench", system_clock
    )


def _batches(total: int, per_save: int) -> list[list[StoredEvent]]:
    out = []
    for _ in range(total // per_save):
        oid = uuid.uuid4()
        out.append(
            [StoredEvent(oid, v, TOPIC, os.urandom(STATE_SIZE)) for v in range(1, per_save + 1)]
        )
    return out


def bench_appends(
    dbs: Databases, db: str, per_save: int, total: int, repeats: int
) -> dict[str, Any]:
    batches = _batches(total, per_save)
    n = len(batches) * per_save
    rates: dict[str, list[float]] = {"unsigned": [], "signed": []}
    act = _signer()
    for r in range(repeats):
        for kind in ("unsigned", "signed"):
            url = dbs.fresh(db, f"{kind}_{per_save}")
            rec = ChainedApplicationRecorder(
                ChainedDatastore(url=url), events_table_name="ledger_events"
            )
            rec.create_table()
            rec.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, b"warm-up")], act=act)
            kw = {"act": act} if kind == "signed" else {}
            t0 = time.perf_counter()
            for b in batches:
                rec.insert_events(b, **kw)
            secs = time.perf_counter() - t0
            rates[kind].append(n / secs)
            rec.datastore.engine.dispose()
            dbs.drop(url)
            print(
                f"  {db} {per_save}/save run {r + 1} {kind}: {n / secs:,.0f} events/s", flush=True
            )
    unsigned, signed = statistics.median(rates["unsigned"]), statistics.median(rates["signed"])
    return {
        "what": "appends",
        "db": db,
        "per_save": per_save,
        "events": n,
        "unsigned": unsigned,
        "signed": signed,
        "ratio": signed / unsigned,
        "ratio_runs": [s / u for u, s in zip(rates["unsigned"], rates["signed"], strict=True)],
    }


def bench_unlock(repeats: int) -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    member = uuid.uuid4()
    sealed = credentials.wrap(key, b"a passphrase of some length", member_id=member, name="Bench")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        credentials.unwrap(
            sealed, b"a passphrase of some length", member_id=member,
            key_id_expected=key_id(key.public_key()),
        )  # fmt: skip
        times.append(time.perf_counter() - t0)
    p = credentials.KDF_PARAMS
    return {
        "what": "unlock",
        "params": f"argon2id m={p.memory_kib} KiB t={p.iterations} p={p.lanes}",
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
    }


def child_verify(data_dir: str, signatures: bool) -> dict[str, Any]:
    from ledger.act_check import ActChecker
    from ledger.datadir import DataDir
    from ledger.integrity import open_chain

    reader = open_chain(DataDir.open(Path(data_dir)))
    t0 = time.perf_counter()
    result = reader.verify(acts=ActChecker() if signatures else None)
    secs = time.perf_counter() - t0
    assert result.ok, result.damage
    return {"secs": secs, "entries": result.count, "acts": result.acts}


def run_child(data_dir: Path, signatures: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "with" if signatures else "without",
         "--child-data-dir", str(data_dir)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_verify(events: int, keep: Path | None, repeats: int) -> dict[str, Any]:
    import bench_scale

    root = (keep / f"identity-sqlite-{events}") if keep else Path(tempfile.mkdtemp())
    if not (root / "custodes.json").exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        bench_scale.build(root, None, events, lambda m: print(m, flush=True))
        print(f"  built {events:,} events in {time.perf_counter() - t0:.0f} s", flush=True)
    runs: dict[str, list[float]] = {"without": [], "with": []}
    counts: dict[str, Any] = {}
    for _ in range(repeats):
        for kind in ("without", "with"):
            r = run_child(root, kind == "with")
            runs[kind].append(r["secs"])
            counts = {"entries": r["entries"], "acts": r["acts"]} if kind == "with" else counts
            print(f"  verify {events:,} {kind} signatures: {r['secs']:.2f} s", flush=True)
    without, with_ = statistics.median(runs["without"]), statistics.median(runs["with"])
    return {
        "what": "verify",
        "db": "sqlite",
        "events": counts["entries"],
        "signatures_checked": counts["acts"],
        "without_s": without,
        "with_s": with_,
        "ratio": with_ / without,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--append-events-1", type=int, default=2000)
    ap.add_argument("--append-events-100", type=int, default=40000)
    ap.add_argument("--verify-sizes", default="", help="comma-separated event counts (SQLite)")
    ap.add_argument(
        "--keep", type=Path, default=None, help="keep built ledgers here and reuse them"
    )
    ap.add_argument("--skip-appends", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", choices=("with", "without"), help=argparse.SUPPRESS)
    ap.add_argument("--child-data-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child_verify(args.child_data_dir, args.child == "with")))
        return
    results: list[dict[str, Any]] = [{"machine": machine(args.pg_url), "load": os.getloadavg()}]
    print(json.dumps(results[0]), flush=True)
    if not args.skip_appends:
        dbs = Databases(args.pg_url)
        try:
            for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
                for per_save, total in ((1, args.append_events_1), (100, args.append_events_100)):
                    results.append(bench_appends(dbs, db, per_save, total, args.repeats))
                    print(json.dumps(results[-1]), flush=True)
        finally:
            dbs.close()
        results.append(bench_unlock(5))
        print(json.dumps(results[-1]), flush=True)
    for size in [int(s) for s in args.verify_sizes.split(",") if s]:
        results.append(bench_verify(size, args.keep, args.repeats))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        with args.json.open("a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
