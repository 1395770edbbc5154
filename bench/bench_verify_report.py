"""Provable reports: making and checking a month's compliance report's row proofs.

    .venv/bin/python bench/bench_verify_report.py [--events 100000] [--repeat 5]

The ledger is built as in bench/bench_reports.py (mix ``captures``: the real command
methods over 365 simulated days, disclosure requests included). Then, with the read
models caught up: the full compile of the last month's compliance report (verify the
whole chain with its stored-tree audit, sign, build the report, prove every disclosure
row: ``ledger.report_proofs.prove_rows``), the proofs alone, the JSON written, and
``verify_report_proofs`` on the JSON (what ``custodes verify-report`` does: one
checkpoint signature, each row's entries, digests and inclusion paths), without and
with the events key (decrypting and replaying each request), and the state tables
replayed from the log as ``verify-report --events`` makes them to compare (since session
27). Medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.persistence import StoredEvent  # noqa: E402

from bench.bench_reports import PERIOD, REPORT_NOW, D, build, open_signed  # noqa: E402
from ledger.checkpoint import parse_unverified  # noqa: E402
from ledger.integrity import open_chain  # noqa: E402
from ledger.report_proofs import EVENTS, prove_rows, report_rows, row_check, verify_report_proofs  # noqa: E402
from projections.base import Views  # noqa: E402
from projections.compliance import compile_compliance_report, replayed_state_rows  # noqa: E402
from projections.registry import all_projections  # noqa: E402
from projections.render_data import to_json  # noqa: E402


def median_s(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dd, ledger, built = build(Path(tmp), args.events, "captures")
        ledger.close()
        ledger = open_signed(dd)
        Views(ledger, all_projections()).rebuild()
        key = dd.signing_key(None)
        compile_s, (report, note) = median_s(
            lambda: compile_compliance_report(
                ledger, period_from=PERIOD[0], period_to=PERIOD[1], actor=D,
                now=REPORT_NOW, signing_key=key,
            ),
            args.repeat,
        )  # fmt: skip
        text = to_json(report)
        data = json.loads(text)
        rows = report_rows(data)
        cp = parse_unverified(note)
        reader = open_chain(dd)
        # The proofs alone, for the rows about a subject (the one-event rows need the
        # read models' notification ids, which compile_compliance_report reads).
        subject_rows = [r for r in rows if r[0][0] not in EVENTS]
        prove_s, proofs = median_s(lambda: prove_rows(reader, cp, note, subject_rows), args.repeat)
        public = dd.public_key()
        check_s, check = median_s(
            lambda: verify_report_proofs(rows, json.loads(text)["proofs"], public)[0],
            args.repeat,
        )
        mapper = ledger.mapper

        def decode(e):  # type: ignore[no-untyped-def]
            return mapper.to_domain_event(
                StoredEvent(
                    __import__("uuid").UUID(e["originator_id"]),
                    e["originator_version"],
                    e["topic"],
                    e["_state"],
                )
            )

        events_s, _ = median_s(
            lambda: verify_report_proofs(
                rows, json.loads(text)["proofs"], public, decode=decode,
                check_row=row_check,
            ),
            args.repeat,
        )  # fmt: skip
        # What --events adds for the report's state tables (footage held, overdue, the
        # attention list): the report's read models replayed from the log under the
        # checkpoint, then the report's own code (projections.compliance).
        stop = ledger.chain_reader().entry(position=cp.size)[0]
        states_s, states = median_s(
            lambda: replayed_state_rows(
                ledger, stop=stop, period_from=PERIOD[0], period_to=PERIOD[1],
                now=cp.time, as_of=None,
            ),
            args.repeat,
        )  # fmt: skip
        ledger.close()
        result = {
            "events": built["events"],
            "tree_size": cp.size,
            "rows": len(rows),
            "entries": check.entries,  # type: ignore[attr-defined]
            "json_bytes": len(text.encode()),
            "proofs_bytes": len(json.dumps(data["proofs"]).encode()),
            "compile_s": round(compile_s, 3),
            "prove_rows_s": round(prove_s, 4),
            "verify_report_s": round(check_s, 4),
            "verify_report_with_events_s": round(events_s, 4),
            "state_rows": {t: len(r) for t, r in states.items()},  # type: ignore[attr-defined]
            "state_rows_replayed_s": round(states_s, 3),
            "python": platform.python_version(),
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
