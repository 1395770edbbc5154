"""Provable reports and consistency proofs on a library system's ledger built through the
application (bench/bench_scale.py's 40 cameras, 65 days, purges, viewings, refusals,
flags, holds and requests).

    .venv/bin/python bench/bench_report_proofs.py --data-dir /tmp/l100k --build 100000

``--build N`` builds the ledger into ``--data-dir`` first (slow: the application's own
command methods, ~10 minutes for 100k on a quiet machine); without it an existing one
is used, so one build serves several runs. Then:

1. consistency proofs (``ledger.proof_files.prove_consistency``, what ``custodes prove
   --consistency OLD NEW`` does after reading the checkpoints) from ``--samples`` older
   signed checkpoints at random sizes to the newest, in a FRESH interpreter: the first
   call after the start (new connection, nothing cached) and the median;
2. the month's compliance report (bench_scale's PERIOD, December 2025, in the steady
   state) compiled as ``custodes report compliance`` does: the whole chain verified,
   the read models checked, a checkpoint signed, every row proven
   (``ledger.report_proofs.prove_rows``); its rows per table, entries, the multi-leaf
   proof's hashes, and what per-entry inclusion paths (format 1) would have cost;
3. ``verify_report_proofs`` on the JSON (what ``custodes verify-report`` checks), without
   and with the events key, medians of ``--repeat``; and ``custodes verify-report`` run
   as a command (a new process, its imports included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger.clock import ManualClock  # noqa: E402


def cold_consistency(data_dir: str, notes_path: str) -> dict[str, Any]:
    """In a fresh interpreter: the first consistency proof after the start, then the rest."""
    from ledger.checkpoint import parse_unverified
    from ledger.datadir import DataDir
    from ledger.integrity import open_chain
    from ledger.proof_files import prove_consistency

    t0 = time.perf_counter()
    reader = open_chain(DataDir.open(Path(data_dir)))
    notes = json.loads(Path(notes_path).read_text())
    new_note = notes["new"]
    new = parse_unverified(new_note)
    olds = [(parse_unverified(n), n) for n in notes["old"]]
    opened = time.perf_counter() - t0
    t = time.perf_counter()
    first = prove_consistency(reader, olds[0][0], olds[0][1], new, new_note)
    first_ms = (time.perf_counter() - t) * 1000
    times = []
    for old, old_note in olds[1:]:
        t = time.perf_counter()
        prove_consistency(reader, old, old_note, new, new_note)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "open_ms": round(opened * 1000, 2),
        "consistency_first_ms": round(first_ms, 3),
        "consistency_first_path_len": len(first.path),
        "consistency_median_ms": round(statistics.median(times), 3),
        "consistency_p99_ms": round(times[int(len(times) * 0.99)], 3),
        "samples": len(times) + 1,
    }


def consistency_after_restart(args: Any, dd: Any, key: Any, note: str) -> dict[str, Any]:
    """Signed checkpoints at random older sizes (roots from the stored tree) and the
    newest; then the proofs in a fresh interpreter (``cold_consistency``)."""
    from ledger.checkpoint import Checkpoint, parse_unverified, sign_checkpoint
    from ledger.integrity import open_chain
    from ledger.merkle import root_at

    cp = parse_unverified(note)
    reader = open_chain(dd)
    store = reader.node_store()
    try:
        rng = random.Random(13)
        sizes = [cp.size // 2] + [rng.randint(1, cp.size - 1) for _ in range(args.samples - 1)]
        old_notes = [
            sign_checkpoint(Checkpoint(cp.origin, n, root_at(n, store), cp.time), key, cp.origin)
            for n in sizes
        ]
    finally:
        store.close()
    notes_path = dd.path.parent / (dd.path.name + "-notes.json")
    notes_path.write_text(json.dumps({"old": old_notes, "new": note}))
    out = subprocess.run(
        [sys.executable, __file__, "--data-dir", str(dd.path), "--cold", str(dd.path),
         str(notes_path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def on_postgres(args: Any) -> dict[str, Any]:
    """The same ledger copied row for row into a new PostgreSQL database
    (``bench_scale.copy_to_postgres``): its tree built by a verification, a checkpoint
    signed, then the consistency proofs after a restart."""
    import bench_scale
    import psycopg

    from ledger.app import open_ledger
    from ledger.datadir import DataDir
    from ledger.integrity import open_chain, sign_verified, verified

    name = f"bench_report_proofs_{os.getpid()}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        src = DataDir.open(args.data_dir)
        upto = open_chain(src).count_rows()
        root = args.data_dir.parent / (args.data_dir.name + "-pg")
        shutil.rmtree(root, ignore_errors=True)  # this script's copy from an earlier run
        dd, copied = bench_scale.copy_to_postgres(src, upto, root, url, print)
        key = dd.signing_key(None)
        ledger = open_ledger(dd, clock=ManualClock(bench_scale.REPORT_NOW))
        origin = ledger.site().log_origin
        ledger.close()
        t = time.perf_counter()
        outcome = verified(open_chain(dd))
        first_checkpoint_s = time.perf_counter() - t
        _cp, note = sign_verified(
            outcome, origin=origin, signing_key=key, now=bench_scale.REPORT_NOW
        )
        figures = consistency_after_restart(args, dd, key, note)
        return {"db": "postgresql", "events": outcome.tree_size, "copied_s": round(copied["copied_s"], 1),
                "verify_and_build_tree_s": round(first_checkpoint_s, 1), **figures}  # fmt: skip
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_s(fn: Any, repeat: int, cpu: list[float] | None = None) -> tuple[float, Any]:
    """The median wall time of ``repeat`` calls (and, into ``cpu``, their median CPU
    time: on a shared machine the wall time carries other work, the CPU time less)."""
    times, cpus, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--build", type=int, default=0, help="build N events there first")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None, help="append the result as a JSON line")
    ap.add_argument(
        "--postgres", action="store_true",
        help="only the consistency proofs, on a copy of the ledger in a new PostgreSQL database",
    )  # fmt: skip
    ap.add_argument("--cold", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold:
        print(json.dumps(cold_consistency(*args.cold)))
        return
    if args.postgres:
        result = {
            "load_before": os.getloadavg(),
            **on_postgres(args),
            "load_after": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        if args.json:
            with args.json.open("a") as f:
                f.write(json.dumps(result) + "\n")
        return

    import bench_reports
    import bench_scale
    from eventsourcing.persistence import StoredEvent

    from ledger.app import open_ledger
    from ledger.checkpoint import parse_unverified
    from ledger.datadir import DataDir
    from ledger.report_proofs import report_rows, row_check, verify_report_proofs
    from projections.base import Views
    from projections.compliance import compile_compliance_report
    from projections.registry import all_projections
    from projections.render_data import to_json

    load_before = os.getloadavg()
    built: dict[str, Any] = {}
    if args.build:
        _dd, built = bench_scale.build(args.data_dir, None, args.build, print)
    dd = DataDir.open(args.data_dir)
    ledger = open_ledger(dd, clock=ManualClock(bench_scale.REPORT_NOW))
    ledger.authenticate(bench_reports.D, bench_reports.PASSPHRASE)
    t = time.perf_counter()
    Views(ledger, all_projections()).catch_up()
    catch_up_s = time.perf_counter() - t
    key = dd.signing_key(None)
    period = bench_scale.PERIOD

    def compile_report() -> Any:
        return compile_compliance_report(
            ledger, period_from=period[0], period_to=period[1], actor=bench_reports.D,
            now=bench_scale.REPORT_NOW, signing_key=key,
        )  # fmt: skip

    cpu: list[float] = []
    compile_s, (report, note) = median_s(compile_report, args.repeat, cpu)
    cp = parse_unverified(note)
    text = to_json(report)
    proofs = report.proofs
    assert proofs is not None
    rows = report_rows(json.loads(text))
    public = dd.public_key()
    check_s, check = median_s(
        lambda: verify_report_proofs(rows, json.loads(text)["proofs"], public)[0],
        args.repeat,
        cpu,
    )
    mapper = ledger.mapper

    def decode(e: dict[str, Any]) -> Any:
        return mapper.to_domain_event(
            StoredEvent(UUID(e["originator_id"]), e["originator_version"], e["topic"], e["_state"])
        )

    events_s, _ = median_s(
        lambda: verify_report_proofs(
            rows, json.loads(text)["proofs"], public, decode=decode, check_row=row_check
        ),
        args.repeat,
        cpu,
    )
    # What format 1 (an inclusion path per entry, per row) would have carried.
    from ledger.merkle import _expected_inclusion_length

    per_row_entries = sum(len(r["positions"]) for r in proofs["rows"])
    v1_hashes = sum(
        _expected_inclusion_length(p - 1, cp.size) for r in proofs["rows"] for p in r["positions"]
    )
    # The command a board member runs (a new process: imports, JSON parse, checks).
    report_path = args.data_dir.parent / (args.data_dir.name + "-report.json")
    report_path.write_text(text)
    key_path = args.data_dir.parent / (args.data_dir.name + "-public.pem")
    from ledger.checkpoint import public_key_pem

    key_path.write_bytes(public_key_pem(public))
    custodes = Path(sys.executable).with_name("custodes")
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [str(custodes), "--data-dir", str(args.data_dir.parent / "no-ledger"), "verify-report",
         str(report_path), "--key", str(key_path)],
        check=True, capture_output=True,
    )  # fmt: skip
    cli_s = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    consistency = consistency_after_restart(args, dd, key, note)
    ledger.close()
    result = {
        "events": cp.size,
        "built": built,
        "load_before": load_before,
        "read_models_catch_up_s": round(catch_up_s, 2),
        "period": [str(d) for d in period],
        "rows": len(rows),
        "rows_by_table": dict(Counter(r["table"] for r in proofs["rows"])),
        "entries": len(proofs["entries"]),
        "entries_per_row_summed": per_row_entries,
        "multi_proof_hashes": len(proofs["multi_proof"]),
        "v1_path_hashes_would_be": v1_hashes,
        "json_bytes": len(text.encode()),
        "proofs_bytes": len(json.dumps(proofs).encode()),
        "compile_report_s": round(compile_s, 3),
        "verify_report_s": round(check_s, 4),
        "verify_report_with_events_s": round(events_s, 4),
        "verify_report_command_s": round(cli_s, 3),
        "compile_report_cpu_s": round(cpu[0], 3),
        "verify_report_cpu_s": round(cpu[1], 4),
        "verify_report_with_events_cpu_s": round(cpu[2], 4),
        "verify_report_command_cpu_s": round(cli_cpu, 3),
        "rows_without_subject": check.unproven,
        **consistency,
        "load_after": os.getloadavg(),
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
