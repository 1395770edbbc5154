"""Scale: a library system's ledger at 100k and 1M events, SQLite and PostgreSQL side by side.

The ledger is built through the real application (its command methods and policy
checks): 40 cameras at 8 branches, 30-day retention, footage captured every day and the
daily sweep recording its purges in batches as ``capture.sweep`` does (no video files),
plus viewings, refusals, flags, holds and disclosure requests. After 65 simulated days
about 30% of the events are captures of footage that is still live (~300,000 segments at
1M events), ~35% purges, ~33% earlier captures, ~2% everything else.

Then, for each database and size:

* verification of the whole chain in a fresh child process: time and peak RSS (VmHWM),
  against a raw baseline (the same SELECT, two SHA-256 per row) in the same way;
* a projection rebuild from empty (every read model) in a child process: time, peak RSS;
* the due-for-purge listing (the sweep's query) and a month's compliance report;
* appends into that ledger, 1 and 100 events per save, 1 and 4 writer processes, the
  chained recorder against plain eventsourcing-sqlalchemy on a copy of the same rows in
  the same database (interleaved, medians of ``--repeats``).

Run:  .venv/bin/python bench/bench_scale.py --sizes 100000,1000000 --db both --json out.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_reports  # noqa: E402
from bench_ledger import DEFAULT_PG, STATE_SIZE, Databases, machine, vm_hwm_kib  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore  # noqa: E402
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from ledger.app import open_chain, open_ledger  # noqa: E402
from ledger.clock import ManualClock
from ledger.datadir import DataDir  # noqa: E402
from ledger.retention_commands import PurgeRecord  # noqa: E402
from ledger.store import ChainedApplicationRecorder, ChainedDatastore  # noqa: E402

DAYS = 65
RETENTION_DAYS = 30
BRANCHES = 8
CAMERAS = tuple(f"b{b}-{c}" for b in range(1, BRANCHES + 1) for c in ("lobby", "stacks", "entry", "parking", "desk"))  # fmt: skip
START = bench_reports.START  # 2025-11-01
PERIOD = (date(2025, 12, 1), date(2025, 12, 31))  # a whole month in the steady state
REPORT_NOW = START + timedelta(days=DAYS, hours=1)
EVENTS_TABLE = "ledger_events"
PLAIN_TABLE = "plain_events"
TOPIC = "bench.scale:Appended"


# ---- building -----------------------------------------------------------------------------


class SystemBuilder(bench_reports.Builder):
    """bench_reports' day (captures, viewings, refusals, flags, holds, requests) over
    DAYS days and 40 cameras, with the daily purge recorded in batches of 200."""

    def __init__(self, ledger: Any, events: int) -> None:
        super().__init__(ledger, events, mix="captures")
        self.retention_days = RETENTION_DAYS
        # captures C per day for DAYS days and purges of all but the last 30 days:
        # C * (2 * DAYS - RETENTION_DAYS) ~ 98% of the events.
        self.per_day = events / DAYS
        self.captures_per_day = max(
            len(CAMERAS), round(0.98 * events / (2 * DAYS - RETENTION_DAYS))
        )
        # a day's footage runs 00:00-20:00 and is ingested at 20:00 (never claimed ahead of
        # the clock, R26)
        self.segment_seconds = 72000 / max(1, self.captures_per_day // len(CAMERAS))
        self.releases = {}

    def day(self, d: int) -> None:
        super().day(d)  # self.sweep is False: no per-segment purges there
        # after the day's last act (its requests run on past 20:00, 45 minutes apart):
        # recorded times only move on (R26)
        now = max(START + timedelta(days=d, hours=20), self.ledger.clock())
        batch: list[PurgeRecord] = []
        while self.due and self.due[0][0] <= now:
            _deadline, sid = self.due.popleft()
            if sid in self.kept:
                continue
            batch.append(PurgeRecord(sid, "bench: crypto-shred", True, True, False))
            if len(batch) == 200:
                self._purge(batch, d, now)
                batch = []
        if batch:
            self._purge(batch, d, now)

    def _purge(self, batch: list[PurgeRecord], d: int, now: datetime) -> None:
        # the day's requests may run past 20:00: the sweep comes after them (R26)
        self.ledger.clock.set(max(now, self.ledger.clock()))
        done = self.ledger.record_purges(
            batch, sweep_run=f"sweep-{d}", actor=self.ledger.act_as_service()
        )
        self.kinds["FootagePurged"] += len(done)


def data_dir_for(path: Path | None, events: int, prefix: str) -> DataDir:
    """``path``'s data directory, or this library system of ``events`` built afresh in a
    new temporary directory (named ``prefix``...), its build time on stderr."""
    if path is not None:
        return DataDir.open(path)
    root = Path(tempfile.mkdtemp(prefix=prefix))
    dd, built = build(root / "data", None, events, lambda m: None)
    print(f"built {built['events']:,} events in {built['build_s']:.0f} s", file=sys.stderr)
    return dd


def build(root: Path, url: str | None, events: int, log: Any) -> tuple[DataDir, dict[str, Any]]:
    bench_reports.CAMERAS = CAMERAS  # Builder.setup/day read the module's camera list
    dd = DataDir.create(root, database_url=url)
    ledger = open_ledger(dd, clock=ManualClock(START))
    b = SystemBuilder(ledger, events)
    t0 = time.perf_counter()
    b.setup()
    for d in range(DAYS):
        b.day(d)
        if d % 10 == 9:
            log(
                f"    day {d + 1}: {ledger.recorder.max_notification_id():,} events, {time.perf_counter() - t0:.0f} s"
            )
    took = time.perf_counter() - t0
    total = ledger.recorder.max_notification_id() or 0
    ledger.close()
    live = b.kinds["FootageCaptured"] - b.kinds["FootagePurged"]
    return dd, {
        "build_s": took,
        "events": total,
        "build_rate": total / took,
        "live_segments": live,
        "kinds": dict(b.kinds),
    }


def copy_to_postgres(
    src: DataDir, upto: int, root: Path, url: str, log: Any
) -> tuple[DataDir, dict[str, Any]]:
    """The same ledger on PostgreSQL: the data directory (keys, config) copied, its
    database pointed at ``url``, and every event row copied as stored (ids, chain columns,
    encrypted states): the chain is defined over the rows, not the database, so it
    verifies unchanged. Building 1M events through the application on PostgreSQL takes
    longer than this machine's session allows; its build rate is measured at 100k."""
    import shutil

    shutil.copytree(src.path, root, ignore=shutil.ignore_patterns("ledger.sqlite*"))
    config = json.loads((root / "custodes.json").read_text())
    config["database_url"] = url
    (root / "custodes.json").write_text(json.dumps(config, indent=2) + "\n")
    dd = DataDir.open(root)
    open_ledger(dd, clock=ManualClock(START)).close()  # creates the tables
    import sqlite3

    import psycopg
    from sqlalchemy import make_url

    cols = "id, originator_id, originator_version, topic, state, position, state_digest, prev_hash, entry_hash, act"
    t0 = time.perf_counter()
    lite = sqlite3.connect(src.path / "ledger.sqlite")
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    n = 0
    with psycopg.connect(conninfo) as pg, pg.cursor() as cur:
        with cur.copy(f"COPY {EVENTS_TABLE} ({cols}) FROM STDIN") as copy:
            # Up to the built ledger's end (the append measurements came after it).
            rows = lite.execute(
                f"SELECT {cols} FROM {EVENTS_TABLE} WHERE id <= ? ORDER BY id", (upto,)
            )
            for row in rows:
                copy.write_row((row[0], uuid.UUID(bytes=row[1]), *row[2:]))
                n += 1
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{EVENTS_TABLE}', 'id'), {n})")
        cur.execute(f"ANALYZE {EVENTS_TABLE}")
    lite.close()
    took = time.perf_counter() - t0
    log(f"  copied {n:,} rows to PostgreSQL in {took:.0f} s")
    return dd, {
        "copied_s": took,
        "events": n,
        "build_s": float("nan"),
        "build_rate": float("nan"),
        "copied_from_sqlite": True,
    }


# ---- children: verify, raw baseline, projection rebuild (own process, own VmHWM) ------------


def child(mode: str, data_dir: str) -> dict[str, Any]:
    dd = DataDir.open(Path(data_dir))
    rss0 = vm_hwm_kib()
    if mode == "rebuild":
        from projections.base import Views
        from projections.registry import all_projections

        ledger = open_ledger(dd, clock=ManualClock(START))
        views = Views(ledger, all_projections())
        t0 = time.perf_counter()
        count = views.rebuild()
        secs = time.perf_counter() - t0
        views.close()
        ledger.close()
    else:
        reader = open_chain(dd)
        if mode == "verify":
            t0 = time.perf_counter()
            res = reader.verify()
            secs = time.perf_counter() - t0
            assert res.ok, res
            count = res.count
        else:  # raw: the same rows through the same cursor, two SHA-256 each
            import hashlib

            pg = reader.recorder.dialect == "postgresql"
            uuid_expr = "uuid_send(originator_id)" if pg else "originator_id"
            select = (f"SELECT id, {uuid_expr}, originator_version, topic, state, position, "
                      f"state_digest, prev_hash, entry_hash FROM {reader.table} ORDER BY id")  # fmt: skip
            buf, count = bytes(200), 0
            t0 = time.perf_counter()
            with reader._connection() as conn:
                cur = conn.cursor(name="bench_raw") if pg else conn.cursor()
                if pg:
                    cur.itersize = reader.batch
                cur.execute(select)
                while rows := cur.fetchmany(reader.batch):
                    for row in rows:
                        hashlib.sha256(row[4]).digest()
                        hashlib.sha256(buf).digest()
                    count += len(rows)
            secs = time.perf_counter() - t0
    return {
        "mode": mode,
        "count": count,
        "secs": secs,
        "rate": count / secs,
        "rss_before_mib": rss0 / 1024,
        "peak_mib": vm_hwm_kib() / 1024,
    }


def run_child(mode: str, data_dir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--child-data-dir", str(data_dir)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- in-process measurements: due for purge, a month's report -----------------------------


def measure_queries(dd: DataDir) -> dict[str, Any]:
    from projections.compliance import build_compliance_report, compile_compliance_report
    from projections.registry import open_views
    from projections.retention import due_segment_ids

    r: dict[str, Any] = {}
    ledger = bench_reports.open_signed(dd)
    views = open_views(ledger)  # caught up by the rebuild child
    with views.connect() as conn:
        for label, when in (
            ("due_now", REPORT_NOW),
            ("due_next_week", REPORT_NOW + timedelta(days=7)),
        ):
            t0 = time.perf_counter()
            ids = due_segment_ids(conn, when)
            r[label + "_ms"] = (time.perf_counter() - t0) * 1000
            r[label + "_n"] = len(ids)
    t0 = time.perf_counter()
    compiled, _note = compile_compliance_report(
        ledger, period_from=PERIOD[0], period_to=PERIOD[1], actor=bench_reports.D,
        now=REPORT_NOW, signing_key=dd.signing_key(None),
    )  # fmt: skip
    r["report_compile_s"] = time.perf_counter() - t0  # verify + sign + build
    t0 = time.perf_counter()
    build_compliance_report(
        ledger, views, period_from=PERIOD[0], period_to=PERIOD[1], now=REPORT_NOW,
        generated_by=bench_reports.D, integrity=compiled.integrity,
    )  # fmt: skip
    r["report_build_s"] = time.perf_counter() - t0
    views.close()
    ledger.close()
    return r


# ---- appends: chained vs plain eventsourcing-sqlalchemy on the same N rows ----------------


def _recorder(kind: str, url: str) -> Any:
    if kind == "plain":
        return SQLAlchemyApplicationRecorder(
            SQLAlchemyDatastore(url=url), events_table_name=PLAIN_TABLE
        )
    return ChainedApplicationRecorder(ChainedDatastore(url=url), events_table_name=EVENTS_TABLE)


def copy_into_plain_table(url: str) -> None:
    """The plain recorder's table with the same rows as the ledger (so both append onto
    N existing rows), copied in SQL."""
    rec = _recorder("plain", url)
    rec.create_table()
    rec.datastore.engine.dispose()
    engine = create_engine(url)
    cols = "id, originator_id, originator_version, topic, state"
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {PLAIN_TABLE}"))
        conn.execute(text(f"INSERT INTO {PLAIN_TABLE} ({cols}) SELECT {cols} FROM {EVENTS_TABLE}"))
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{PLAIN_TABLE}', 'id'), (SELECT max(id) FROM {PLAIN_TABLE}))"
                )
            )
    engine.dispose()


def _writer(kind: str, url: str, saves: int, per_save: int, barrier: Any, out: Any) -> None:
    rec = _recorder(kind, url)
    batches = []
    for _ in range(saves):
        oid = uuid.uuid4()
        batches.append(
            [StoredEvent(oid, v, TOPIC, os.urandom(STATE_SIZE)) for v in range(1, per_save + 1)]
        )
    rec.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, b"warm-up")])  # first connection
    barrier.wait()
    t0 = time.perf_counter()
    for b in batches:
        rec.insert_events(b)
    out.put(time.perf_counter() - t0)
    rec.datastore.engine.dispose()


def append_run(kind: str, url: str, writers: int, per_save: int, events: int) -> float:
    """Events per second of ``writers`` processes appending ``events`` in all."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(writers + 1), ctx.Queue()
    saves = max(1, events // (writers * per_save))
    procs = [
        ctx.Process(target=_writer, args=(kind, url, saves, per_save, barrier, out))
        for _ in range(writers)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError(f"{kind} writer failed")
    return saves * per_save * writers / wall


def measure_appends(
    url: str, repeats: int, events_1: int, events_100: int, log: Any
) -> list[dict[str, Any]]:
    copy_into_plain_table(url)
    out = []
    for per_save, events in ((1, events_1), (100, events_100)):
        for writers in (1, 4):
            rates: dict[str, list[float]] = {"plain": [], "chained": []}
            for _ in range(repeats):
                for kind in ("plain", "chained"):
                    rates[kind].append(append_run(kind, url, writers, per_save, events))
            plain, chained = statistics.median(rates["plain"]), statistics.median(rates["chained"])
            row = {"per_save": per_save, "writers": writers, "events": events, "plain": plain, "chained": chained,
                   "ratio": chained / plain, "ratio_runs": [c / p for p, c in zip(rates["plain"], rates["chained"], strict=True)]}  # fmt: skip
            log(
                f"    appends {per_save}/save x{writers}: plain {plain:,.0f}/s chained {chained:,.0f}/s = {chained / plain:.2f}x"
            )
            out.append(row)
    # The chain is still whole after all those concurrent appends.
    reader = ChainedApplicationRecorder(ChainedDatastore(url=url), events_table_name=EVENTS_TABLE)
    from ledger.chain_reader import ChainReader

    res = ChainReader(reader).verify()
    assert res.ok, res.damage
    reader.datastore.engine.dispose()
    return out


# ---- main ---------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--append-events-1", type=int, default=2000, help="events per 1/save run")
    ap.add_argument("--append-events-100", type=int, default=40000, help="events per 100/save run")
    ap.add_argument("--json", type=Path, default=None, help="append each result as a JSON line")
    ap.add_argument("--pg-from-sqlite", action="store_true",
                    help="PostgreSQL: copy the ledger just built on SQLite instead of building it again")  # fmt: skip
    ap.add_argument("--child", choices=("verify", "raw", "rebuild"), help=argparse.SUPPRESS)
    ap.add_argument("--child-data-dir", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.child_data_dir)))
        return

    def log(msg: str) -> None:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)

    dbs_kinds = ("sqlite", "postgres") if a.db == "both" else (a.db,)
    dbs = Databases(a.pg_url)
    built: dict[int, tuple[DataDir, dict[str, Any]]] = {}
    if a.json:
        with a.json.open("a") as f:
            f.write(
                json.dumps({"machine": machine(a.pg_url if "postgres" in dbs_kinds else None)})
                + "\n"
            )
    try:
        for size in [int(s) for s in a.sizes.split(",")]:
            for db in dbs_kinds:
                url = None if db == "sqlite" else dbs.fresh("postgres", f"scale_{size}")
                root = Path(tempfile.mkdtemp(prefix=f"bench_scale_{db}_{size}_", dir=dbs.tmp))
                if db == "postgres" and a.pg_from_sqlite and size in built:
                    log(f"{db} {size:,}: copying the SQLite ledger")
                    dd, r = copy_to_postgres(
                        built[size][0], built[size][1]["events"], root / "data", url, log
                    )
                    r["live_segments"] = built[size][1]["live_segments"]
                else:
                    log(f"{db} {size:,}: building")
                    dd, r = build(root / "data", url, size, log)
                if db == "sqlite":
                    built[size] = (dd, r)
                r.update(db=db, size=size)
                log(
                    f"  built {r['events']:,} events in {r['build_s']:.0f} s ({r['build_rate']:,.0f}/s), {r['live_segments']:,} live segments"
                )
                for mode in ("raw", "verify", "raw", "verify"):
                    c = run_child(mode, dd.path)
                    r.setdefault(mode, []).append(c)
                    log(
                        f"  {mode}: {c['secs']:.1f} s ({c['rate']:,.0f}/s), peak {c['peak_mib']:.1f} MiB"
                    )
                c = run_child("rebuild", dd.path)
                r["rebuild"] = c
                log(f"  projection rebuild: {c['secs']:.1f} s, peak {c['peak_mib']:.1f} MiB")
                r.update(measure_queries(dd))
                log(
                    f"  due now {r['due_now_ms']:.1f} ms ({r['due_now_n']:,}); next week {r['due_next_week_ms']:.1f} ms ({r['due_next_week_n']:,}); report build {r['report_build_s']:.2f} s, with verify+sign {r['report_compile_s']:.2f} s"
                )
                r["appends"] = measure_appends(
                    dd.database_url, a.repeats, a.append_events_1, a.append_events_100, log
                )
                if a.json:
                    with a.json.open("a") as f:
                        f.write(json.dumps(r, default=str) + "\n")
                if url is not None:
                    dbs.drop(url)
                elif not a.pg_from_sqlite:
                    import shutil

                    shutil.rmtree(root, ignore_errors=True)
    finally:
        dbs.close()


if __name__ == "__main__":
    main()
