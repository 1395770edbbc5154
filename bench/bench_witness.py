"""The witness's add-checkpoint round trip over loopback (C2SP tlog-witness), side by side.

    .venv/bin/python bench/bench_witness.py [--leaves 1048576] [--requests 300]

A log of N leaves is built in memory (its checkpoints are signed like the ledger's); a
witness trusting it runs as `WitnessServer` in a SEPARATE process on 127.0.0.1 with its
state directory on the same disk as the repository (fsync included). The client is the
production one (`ledger.witness.client.Connection`, HTTP/1.1 keep-alive). Measured, each
over the same sequence of growing checkpoints (consistency proofs of ~log2 N hashes):

1. the first add-checkpoint after the witness process started (a fresh connection);
2. add-checkpoint round trips that are cosigned (200): parse, log signature, consistency
   proof, cosignature, state written with fsync and rename;
3. round trips refused with 409 (wrong old size): the same request path without the
   proof check, cosignature or write — the HTTP and parsing floor;
4. the same `add_checkpoint` call in-process, no HTTP (the witness's own work), with
   its state on the same disk and on tmpfs (/dev/shm: what the fsync costs);
5. `request_cosignature`, the client `custodes checkpoint` uses: stateless, so a 409
   and then the 200 on one connection.

Medians and p90 in milliseconds, one run, interleaved where they share a witness.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.checkpoint import Checkpoint, sign_checkpoint  # noqa: E402
from ledger.merkle import MemoryNodeStore, MerkleAppender, consistency_proof, leaf_hash  # noqa: E402
from ledger.witness.client import Connection, request_cosignature  # noqa: E402
from ledger.witness.cosignature import log_vkey  # noqa: E402
from ledger.witness.policy import Witness  # noqa: E402
from ledger.witness.service import add_checkpoint, request_body  # noqa: E402
from ledger.witness.state import WitnessDir  # noqa: E402

ORIGIN = "custodes/bench-witness"
KEY = Ed25519PrivateKey.from_private_bytes(b"\x42" * 32)
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def serve(path: str, ready: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from ledger.witness.server import WitnessServer

    server = WitnessServer(("127.0.0.1", 0), WitnessDir.open(Path(path)), lambda: NOW, log=None)
    ready.put(server.url)
    server.serve_forever()


def build(leaves: int) -> tuple[MemoryNodeStore, float]:
    store, appender = MemoryNodeStore(), MerkleAppender()
    started = time.perf_counter()
    batch = 4096
    for start in range(0, leaves, batch):
        store.put_many(
            appender.append(
                [leaf_hash(b"entry %d" % i) for i in range(start, min(start + batch, leaves))]
            )
        )
    return store, time.perf_counter() - started


def note(size: int, store: MemoryNodeStore) -> str:
    from ledger.merkle import root_at

    return sign_checkpoint(Checkpoint(ORIGIN, size, root_at(size, store), NOW), KEY, ORIGIN)


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9)], 3),
        "n": len(ordered),
    }


def witness_dir(base: Path, name: str) -> WitnessDir:
    w = WitnessDir.create(base / name, f"bench.example/{name}")
    w.add_log(log_vkey(ORIGIN, KEY.public_key()))
    return w


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--leaves", type=int, default=1 << 20)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    store, build_s = build(args.leaves)
    step = max(1, (args.leaves // 2) // (3 * args.requests + 10))
    sizes = [args.leaves // 2 + i * step for i in range(3 * args.requests + 10)]
    notes = {s: note(s, store) for s in sizes}
    proofs = {
        (a, b): consistency_proof(a, b, store) for a, b in zip(sizes, sizes[1:], strict=False)
    }
    shm_root = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with (
        tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp,
        tempfile.TemporaryDirectory(dir=shm_root) as shm_tmp,
    ):
        base = Path(tmp)
        http = witness_dir(base, "http")
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing shared
        ready = spawn.Queue()
        proc = spawn.Process(target=serve, args=(str(http.path), ready))
        proc.start()
        try:
            url = ready.get(timeout=60)
            conn = Connection(url)
            t = time.perf_counter()
            first = conn.add_checkpoint(request_body(0, [], notes[sizes[0]]))
            first_ms = (time.perf_counter() - t) * 1000
            assert first.status == 200, first.text
            local = witness_dir(base, "local")
            shm = witness_dir(Path(shm_tmp), "shm")
            for w in (local, shm):
                assert add_checkpoint(w, request_body(0, [], notes[sizes[0]]), NOW).status == 200
            cosigned, conflicts, inproc, inproc_shm = [], [], [], []
            pairs = list(zip(sizes[: args.requests], sizes[1 : args.requests + 1], strict=True))
            for a, b in pairs:  # interleaved: HTTP 409, HTTP 200, in-process on disk and tmpfs
                wrong = request_body(a + 1, proofs[(a, b)], notes[b])
                t = time.perf_counter()
                r = conn.add_checkpoint(wrong)
                conflicts.append((time.perf_counter() - t) * 1000)
                assert r.status == 409, r.text
                body = request_body(a, proofs[(a, b)], notes[b])
                t = time.perf_counter()
                r = conn.add_checkpoint(body)
                cosigned.append((time.perf_counter() - t) * 1000)
                assert r.status == 200, r.text
                for w, times in ((local, inproc), (shm, inproc_shm)):
                    t = time.perf_counter()
                    r = add_checkpoint(w, body, NOW)
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status == 200, r.text
            conn.close()
            # The client `custodes checkpoint` uses: old 0 -> 409 -> proof -> 200.
            witness = Witness("http", http.vkey, url)
            client = []
            for b in sizes[args.requests + 1 : 2 * args.requests + 1]:
                t = time.perf_counter()
                out = request_cosignature(
                    witness, notes[b], b, lambda old, b=b: consistency_proof(old, b, store)
                )
                client.append((time.perf_counter() - t) * 1000)
                assert out.status == "cosigned", out.detail
        finally:
            proc.terminate()
            proc.join()
    result = {
        "leaves": args.leaves,
        "proof_hashes_median": statistics.median(len(p) for p in proofs.values()),
        "build_tree_s": round(build_s, 1),
        "first_add_checkpoint_after_start_ms": round(first_ms, 3),
        "add_checkpoint_200_over_loopback": stats(cosigned),
        "add_checkpoint_409_over_loopback": stats(conflicts),
        "add_checkpoint_in_process": stats(inproc),
        "add_checkpoint_in_process_state_on_tmpfs": stats(inproc_shm),
        "client_request_cosignature_409_then_200": stats(client),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
