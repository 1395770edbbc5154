"""Checkpoints and proofs on the real ledger store at 1,000,000 entries.

    .venv/bin/python bench/bench_proofs.py --entries 1000000 [--db sqlite|postgres]

1. Build a chain of N entries with the chained recorder (1,000 events per call).
2. First checkpoint: verify the whole chain and build the Merkle tree from it
   (``verify_and_extend``), then sign. Then one more event and a second checkpoint:
   the incremental cost (a full verify walk again plus one leaf).
3. In a FRESH process (cold start, new connection): inclusion proofs for random events
   through ``ledger.integrity.prove`` (the real SqlNodeStore: O(log n) primary-key
   lookups), the first call and the median of 1,000; their verification; a
   consistency proof from N/2 to N. Peak RSS of that process.
4. In another FRESH process: consistency proofs through ``ledger.proof_files.
   prove_consistency`` (what ``custodes prove --consistency OLD NEW`` does after reading
   the two checkpoints: tree size, the new root recomputed from the stored subtrees,
   the RFC 9162 proof, and its verification against both signed roots) from 1,000
   random older signed checkpoints to the newest: the first call and the median; and
   ``verify_proof_data`` on the resulting file (what ``custodes verify-proof`` does:
   three signatures and the proof).

Targets (the project's design goals): an inclusion proof in under 1 ms at 1M entries, the first call
after a restart included, with bounded memory.

``--on URL NOTE_FILE KEY_PEM_FILE`` skips the build: on an existing ledger database and a
checkpoint of it, rounds of fresh processes (cold, warmed up, ``BENCH_OTHER_TREE`` warmed
up, then 1,000 proofs in one process for this tree and the other), each first proof's
wall and query time (``_QueryClock``) and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# BENCH_TREE: measure another checkout's ledger (e.g. main via `git archive`), same bench
sys.path.insert(0, os.environ.get("BENCH_TREE") or str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402

from ledger.acts import ActRequest, Signer, key_id  # noqa: E402
from ledger.chain import PendingAct  # noqa: E402
from ledger.chain_reader import ChainReader  # noqa: E402
from ledger.checkpoint import generate_signing_key, parse_and_verify  # noqa: E402
from ledger.integrity import (  # noqa: E402
    check_inclusion,
    issue_checkpoint,
    prove,
    sign_verified,
    verify_and_extend,
)
from ledger.merkle import consistency_proof, root_at, verify_consistency  # noqa: E402
from ledger.store import ChainedApplicationRecorder, ChainedDatastore  # noqa: E402

NOW = datetime(2026, 11, 29, tzinfo=UTC)
ORIGIN = "custodes/bench"


def recorder(url: str) -> ChainedApplicationRecorder:
    rec = ChainedApplicationRecorder(ChainedDatastore(url=url), events_table_name="ledger_events")
    rec.create_table()
    return rec


def _act() -> ActRequest:
    """Acts signed by a key no ledger enrolled: the bench measures the chain, the tree and
    the proofs (bench/bench_identity.py measures the signatures), so its verification
    takes every act record as it comes (``_AnyAct``)."""
    key = Ed25519PrivateKey.generate()
    signer = Signer(uuid.uuid4(), "Bench", "staff", key_id(key.public_key()), key)
    return ActRequest(signer, "bench", lambda: datetime.now(UTC))


class _AnyAct:
    clear_topics: frozenset[str] = frozenset()

    def close(self, act: PendingAct, record: bytes) -> None:
        return None


def checkpoint(reader: ChainReader, key: Any) -> tuple[Any, str]:
    """``issue_checkpoint`` with the bench's acts taken as they come (see ``_act``)."""
    outcome = verify_and_extend(reader, acts=_AnyAct())  # type: ignore[arg-type]
    return sign_verified(outcome, origin=ORIGIN, signing_key=key, now=NOW)


def build(url: str, n: int) -> float:
    rec = recorder(url)
    act = _act()
    started = time.perf_counter()
    for start in range(0, n, 1000):
        oid = uuid.uuid4()
        rec.insert_events(
            [
                StoredEvent(oid, v + 1, "bench:Event", bytes(144))
                for v in range(min(1000, n - start))
            ],
            act=act,
        )
    return time.perf_counter() - started


def vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold(url: str, note_path: str, key_pem: str, samples: int) -> dict[str, float]:
    """Runs in a fresh interpreter: nothing cached."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    t0 = time.perf_counter()
    reader = ChainReader(recorder(url))
    note = Path(note_path).read_text()
    cp = parse_and_verify(note, load_pem_public_key(key_pem.encode()), ORIGIN)  # type: ignore[arg-type]
    opened = time.perf_counter() - t0
    rng = random.Random(7)
    events = [rng.randint(1, cp.size) for _ in range(samples)]
    t = time.perf_counter()
    first = prove(reader, events[0], cp, note)
    first_ms = (time.perf_counter() - t) * 1000
    gen, ver = [], []
    for e in events[1:]:
        t = time.perf_counter()
        p = prove(reader, e, cp, note)  # includes its own check_inclusion
        gen.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        check_inclusion(p, cp)
        ver.append((time.perf_counter() - t) * 1000)
    store = reader.node_store()
    t = time.perf_counter()
    old = cp.size // 2
    proof = consistency_proof(old, cp.size, store)
    cons_ms = (time.perf_counter() - t) * 1000
    verify_consistency(old, cp.size, root_at(old, store), cp.root, proof)
    return {
        "open_ms": opened * 1000,
        "first_proof_ms": first_ms,
        "first_proof_path_len": len(first.path),
        "median_proof_ms": statistics.median(gen),
        "p99_proof_ms": sorted(gen)[int(len(gen) * 0.99)],
        "median_verify_ms": statistics.median(ver),
        "consistency_proof_ms": cons_ms,
        "peak_rss_mib": vm_hwm_mib(),
    }


class _QueryClock:
    """Wall time spent inside the DB-API (execute and fetch: the round trips and the
    server's work), summed over every cursor the engine's pooled connections make: what
    "query time" means for the first proof (issue 18, item 4). PostgreSQL only."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0
        self.each: list[tuple[str, float]] = []

    def install(self, engine: Any) -> None:
        import psycopg
        from sqlalchemy import event

        clock = self

        class TimedCursor(psycopg.Cursor):  # type: ignore[type-arg]
            def execute(self, *args: Any, **kwargs: Any) -> Any:
                t = time.perf_counter()
                try:
                    return super().execute(*args, **kwargs)
                finally:
                    took = time.perf_counter() - t
                    clock.seconds += took
                    clock.statements += 1
                    clock.each.append((str(args[0])[:40], took * 1000))

            def _timed(self, name: str, *args: Any) -> Any:
                t = time.perf_counter()
                try:
                    return getattr(super(), name)(*args)
                finally:
                    clock.seconds += time.perf_counter() - t

            def fetchone(self) -> Any:
                return self._timed("fetchone")

            def fetchall(self) -> Any:
                return self._timed("fetchall")

            def fetchmany(self, *args: Any) -> Any:
                return self._timed("fetchmany", *args)

        @event.listens_for(engine, "checkout")
        def _timed_cursors(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.cursor_factory = TimedCursor

        # a connection the pool already holds (opened before install) gets it too
        engine.pool.dispose()


def first_proof_on(url: str, note_path: str, key_pem: str, warm: str) -> dict[str, float]:
    """Runs in a fresh interpreter on a ledger the bench built: the first inclusion proof
    after start, cold or warmed up (``ChainReader.warm_up``: the pool's connection opened
    and the proof's statements prepared, before the clock starts), its wall time and its
    QUERY time (time inside the DB-API, ``_QueryClock``), then a second proof."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    rec = ChainedApplicationRecorder(ChainedDatastore(url=url), events_table_name="ledger_events")
    clock = _QueryClock()
    clock.install(rec.datastore.engine)
    t0 = time.perf_counter()
    reader = ChainReader(rec)
    if warm == "warm":
        reader.warm_up()
    opened = time.perf_counter() - t0
    note = Path(note_path).read_text()
    cp = parse_and_verify(note, load_pem_public_key(key_pem.encode()), ORIGIN)  # type: ignore[arg-type]
    rng = random.Random(os.getpid())
    out: dict[str, float] = {"open_ms": opened * 1000}
    for label in ("first", "second"):
        clock.seconds, clock.statements, clock.each = 0.0, 0, []
        t = time.perf_counter()
        prove(reader, rng.randint(1, cp.size), cp, note)
        if os.environ.get("BENCH_EACH"):
            print(label, [(q, round(ms, 2)) for q, ms in clock.each], file=sys.stderr)
        out[f"{label}_proof_ms"] = (time.perf_counter() - t) * 1000
        out[f"{label}_query_ms"] = clock.seconds * 1000
        out[f"{label}_statements"] = clock.statements
    return out


def first_proofs_on(url: str, note: str, key: Any, repeats: int) -> dict[str, Any]:
    """Cold and warmed-up fresh processes, alternately; medians and the least disturbed."""
    from ledger.checkpoint import public_key_pem

    return first_proofs_on_pem(url, note, public_key_pem(key).decode(), repeats)


def first_proofs_on_pem(
    url: str, note: str, key_pem: str, repeats: int, medians: bool = False
) -> dict[str, Any]:
    """``first_proofs_on``; with ``medians`` also a ``--cold`` process per tree and round
    (the median of 999 proofs after the first, no warm-up), in the same rotation."""
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    other = os.environ.get("BENCH_OTHER_TREE")  # e.g. main, warmed up, side by side
    if other:
        runs["other_warm"] = []
    if medians:
        runs["many"] = []
        if other:
            runs["other_many"] = []
    with tempfile.TemporaryDirectory() as tmp:
        note_path = Path(tmp) / "cp.txt"
        note_path.write_text(note)
        for _ in range(repeats):
            for mode in runs:
                env = dict(os.environ)
                if mode.startswith("other_"):
                    env["BENCH_TREE"] = other  # type: ignore[assignment]
                what = mode.removeprefix("other_")
                args = ["--first-on", url, str(note_path), key_pem, what]
                if what == "many":
                    args = ["--cold", url, str(note_path), key_pem]
                out = subprocess.run(
                    [sys.executable, __file__, *args],
                    capture_output=True, text=True, check=True, env=env,
                )  # fmt: skip
                runs[mode].append(json.loads(out.stdout))
    med = {
        f"{mode}_{k}": statistics.median(r[k] for r in rs)
        for mode, rs in runs.items()
        for k in rs[0]
    }
    med |= {f"{mode}_{k}_min": min(r[k] for r in rs) for mode, rs in runs.items() for k in rs[0]}
    return med | ({"runs": runs} if medians else {})


def first_proof(data_dir: str, note_path: str, key_pem: str, warm: str) -> dict[str, float]:
    """Runs in a fresh interpreter on a ledger built through the application: the first
    inclusion proof after start, as ``custodes prove`` makes it (``open_chain``), with
    and without the warm-up (connection opened and the proof's statements prepared at
    open). On PostgreSQL the server's own time for each statement is summed from
    ``pg_stat_statements`` when it is installed; otherwise the wall time is all there is."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ledger.datadir import DataDir
    from ledger.integrity import open_chain

    t0 = time.perf_counter()
    reader = open_chain(DataDir.open(Path(data_dir)), warm_up=warm == "warm")
    opened = time.perf_counter() - t0
    note = Path(note_path).read_text()
    cp = parse_and_verify(note, load_pem_public_key(key_pem.encode()), ORIGIN)  # type: ignore[arg-type]
    rng = random.Random(os.getpid())
    ids = [rng.randint(1, cp.size) for _ in range(2)]
    t = time.perf_counter()
    prove(reader, ids[0], cp, note)
    first = time.perf_counter() - t
    t = time.perf_counter()
    prove(reader, ids[1], cp, note)
    second = time.perf_counter() - t
    return {"open_ms": opened * 1000, "first_proof_ms": first * 1000,
            "second_proof_ms": second * 1000}  # fmt: skip


def first_proofs(data_dir: Path, repeats: int) -> dict[str, Any]:
    """The first proof after start on an existing data directory, cold and warmed up,
    alternating fresh processes; medians."""
    from ledger.checkpoint import public_key_pem
    from ledger.datadir import DataDir
    from ledger.integrity import open_chain

    key = generate_signing_key()
    reader = open_chain(DataDir.open(data_dir))
    cp, note = issue_checkpoint(reader, origin=ORIGIN, signing_key=key, now=NOW)
    reader.recorder.datastore.engine.dispose()  # type: ignore[union-attr]
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        note_path = Path(tmp) / "cp.txt"
        note_path.write_text(note)
        for _ in range(repeats):
            for mode in runs:
                out = subprocess.run(
                    [sys.executable, __file__, "--first", str(data_dir), str(note_path),
                     public_key_pem(key).decode(), mode],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                runs[mode].append(json.loads(out.stdout))
    med = {
        f"{mode}_{k}": statistics.median(r[k] for r in rs)
        for mode, rs in runs.items()
        for k in rs[0]
    }
    # The least disturbed run too: on a shared machine the median carries other work.
    med |= {f"{mode}_{k}_min": min(r[k] for r in rs) for mode, rs in runs.items() for k in rs[0]}
    return {"entries": cp.size, "repeats": repeats, **med, "runs": runs}


def cold_consistency(url: str, notes_path: str, key_pem: str) -> dict[str, float]:
    """Runs in a fresh interpreter: consistency proofs from signed older checkpoints."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ledger.proof_files import prove_consistency, verify_proof_data

    key = load_pem_public_key(key_pem.encode())
    t0 = time.perf_counter()
    reader = ChainReader(recorder(url))
    notes = json.loads(Path(notes_path).read_text())
    new_note = notes["new"]
    new = parse_and_verify(new_note, key, ORIGIN)  # type: ignore[arg-type]
    olds = [(parse_and_verify(n, key, ORIGIN), n) for n in notes["old"]]  # type: ignore[arg-type]
    opened = time.perf_counter() - t0
    t = time.perf_counter()
    first = prove_consistency(reader, olds[0][0], olds[0][1], new, new_note)
    first_ms = (time.perf_counter() - t) * 1000
    gen, ver = [], []
    for old, old_note in olds[1:]:
        t = time.perf_counter()
        proof = prove_consistency(reader, old, old_note, new, new_note)
        gen.append((time.perf_counter() - t) * 1000)
        data = proof.to_json()
        t = time.perf_counter()
        verify_proof_data(data, key)  # type: ignore[arg-type]
        ver.append((time.perf_counter() - t) * 1000)
    return {
        "consistency_open_ms": opened * 1000,
        "consistency_first_ms": first_ms,
        "consistency_first_path_len": len(first.path),
        "consistency_median_ms": statistics.median(gen),
        "consistency_p99_ms": sorted(gen)[int(len(gen) * 0.99)],
        "verify_proof_file_median_ms": statistics.median(ver),
        "consistency_peak_rss_mib": vm_hwm_mib(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--data-dir", type=Path,
                    help="only the first proof after start, cold and warmed up, on this "
                         "data directory's ledger (built through the application)")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cold", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--first", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--first-on", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument(
        "--first-only",
        action="store_true",
        help="after building and the first checkpoint: only the first proof after start, "
        "cold and warmed up (--repeats fresh processes each), with its query time",
    )
    ap.add_argument("--cold-consistency", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument(
        "--on",
        nargs=3,
        metavar=("URL", "NOTE_FILE", "KEY_PEM_FILE"),
        help="no build: the first proof after start (cold, warmed up, and BENCH_OTHER_TREE "
        "warmed up) and the median of 999 proofs, --repeats fresh processes each, on an "
        "existing ledger database and a checkpoint of it (its note and public key files)",
    )
    args = ap.parse_args()
    if args.on:
        url, note_file, pem_file = args.on
        note, pem = Path(note_file).read_text(), Path(pem_file).read_text()
        r = first_proofs_on_pem(url, note, pem, args.repeats, medians=True)
        for k, v in r.items():
            if k != "runs":
                print(f"{k:40} {v:.3f}")
        print(json.dumps(r))
        return
    if args.cold:
        print(json.dumps(cold(*args.cold, samples=args.samples)))
        return
    if args.first:
        print(json.dumps(first_proof(*args.first)))
        return
    if args.first_on:
        print(json.dumps(first_proof_on(*args.first_on)))
        return
    if args.data_dir:
        r = first_proofs(args.data_dir, args.repeats)
        for k, v in r.items():
            if k != "runs":
                print(f"{k:30} {v:.3f}" if isinstance(v, float) else f"{k:30} {v}")
        print(json.dumps(r))
        return
    if args.cold_consistency:
        print(json.dumps(cold_consistency(*args.cold_consistency)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url, cleanup = f"sqlite:///{tmp}/bench.sqlite", None
        else:
            import psycopg

            name = f"custodes_bench_{uuid.uuid4().hex[:8]}"
            admin = args.pg.replace("+psycopg", "")
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            url = args.pg.rsplit("/", 1)[0] + "/" + name

            def cleanup() -> None:
                with psycopg.connect(admin, autocommit=True) as c:
                    c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

        try:
            build_s = build(url, args.entries)
            key = generate_signing_key()
            reader = ChainReader(recorder(url))
            t = time.perf_counter()
            cp, note = checkpoint(reader, key)
            first_cp = time.perf_counter() - t
            if args.first_only:
                reader.recorder.datastore.engine.dispose()  # type: ignore[union-attr]
                r = first_proofs_on(url, note, key, args.repeats)
                print(f"entries {args.entries:,} on {args.db}, {args.repeats} fresh processes each")
                for k, v in r.items():
                    print(f"{k:36} {v:.3f}")
                print(json.dumps(r))
                return
            rec = recorder(url)
            rec.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:Event", bytes(144))], act=_act())
            t = time.perf_counter()
            cp2, note2 = checkpoint(reader, key)
            second_cp = time.perf_counter() - t
            note_path = Path(tmp) / "cp.txt"
            note_path.write_text(note)
            from ledger.checkpoint import public_key_pem

            out = subprocess.run(
                [sys.executable, __file__, "--samples", str(args.samples), "--cold", url,
                 str(note_path), public_key_pem(key).decode()],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            cold_figures = json.loads(out.stdout)
            # Older signed checkpoints at random sizes (their roots from the tree), and
            # the newest, for the consistency phase in its own fresh process.
            from ledger.checkpoint import Checkpoint, sign_checkpoint

            store = reader.node_store()
            try:
                rng = random.Random(11)
                olds = [rng.randint(1, cp2.size) for _ in range(args.samples)]
                old_notes = [
                    sign_checkpoint(Checkpoint(ORIGIN, n, root_at(n, store), NOW), key, ORIGIN)
                    for n in olds
                ]
            finally:
                store.close()
            notes_path = Path(tmp) / "notes.json"
            notes_path.write_text(json.dumps({"old": old_notes, "new": note2}))
            out = subprocess.run(
                [sys.executable, __file__, "--cold-consistency", url, str(notes_path),
                 public_key_pem(key).decode()],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            cold_figures |= json.loads(out.stdout)
        finally:
            if cleanup:
                cleanup()
    result = {
        "db": args.db,
        "entries": args.entries,
        "build_s": round(build_s, 1),
        "first_checkpoint_s (verify + build tree + sign)": round(first_cp, 2),
        "next_checkpoint_s (verify + 1 leaf + sign)": round(second_cp, 2),
        **{k: round(v, 3) for k, v in cold_figures.items()},
    }
    for k, v in result.items():
        print(f"{k:50} {v}")


if __name__ == "__main__":
    main()
