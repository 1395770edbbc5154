"""Ledger appends and chain verification, measured side by side in one run.

    .venv/bin/python bench/bench_ledger.py --events 100000 --db both

1. Appends: the stock eventsourcing-sqlalchemy application recorder (SQLAlchemyDatastore
   + SQLAlchemyApplicationRecorder) vs ledger.store's ChainedApplicationRecorder (with
   ChainedDatastore), each run into its own fresh SQLite file / PostgreSQL database,
   ~144-byte states, at 1 and 100 events per ``insert_events`` call; and the honest
   baseline, ``RawRecorder``: our own insert path (same connection handling, lock and
   ids) without the chain. Runs are interleaved (plain, raw, chained, ...); medians of
   ``--repeats``. ``BENCH_TREE=<dir>`` measures another checkout's recorder (e.g. today's
   main via ``git archive``) against the same baselines.
2. Verification: ``ChainReader.verify()`` vs raw hashlib over the same bytes read from
   the database with the same DB-API cursor and SELECT (SHA-256 of the state and of an
   entry-sized buffer: two digests per row, no checks). Each run is a FRESH child process.
3. Verify's peak memory at N and at 10x N: the child's own peak RSS (VmHWM from
   /proc/self/status; ru_maxrss is no good here, Linux carries the parent's over exec),
   and its growth from just before ``verify()`` to the end.

Ratios are what matter; absolute figures depend on the machine (printed with them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# BENCH_TREE: measure another checkout's ledger.store (e.g. today's main, exported with
# `git archive`) with this file's baselines, for ratios side by side.
sys.path.insert(0, os.environ.get("BENCH_TREE") or str(ROOT))

from eventsourcing.persistence import StoredEvent  # noqa: E402
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore  # noqa: E402
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from ledger.chain import DOMAIN  # noqa: E402
from ledger.chain_reader import ChainReader  # noqa: E402
from ledger.chain_sql import _rollback_quietly  # noqa: E402
from ledger.store import ChainedApplicationRecorder, ChainedDatastore  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Distinct table names: both record classes share eventsourcing-sqlalchemy's declarative
# MetaData, which refuses a second Table of the same name in one process.
TABLE = "chained_events"
PLAIN_TABLE = "plain_events"
RAW_TABLE = "raw_events"
TOPIC = "ledger.custody:CustodyRecord.CustodyRecorded"
STATE_SIZE = 144
# entry_bytes: domain, position, prev, notification id, originator id, version,
# topic length, topic, digest (docs/FORMAT.md)
ENTRY_SIZE = len(DOMAIN) + 8 + 32 + 8 + 16 + 8 + 4 + len(TOPIC.encode()) + 32


# --------------------------------------------------------------------------- databases


class Databases:
    """Fresh scratch databases: SQLite files in a temp dir, PostgreSQL databases on the
    server of ``pg_url`` (created and dropped here)."""

    def __init__(self, pg_url: str, *, no_fsync: bool = False) -> None:
        # --no-fsync: SQLite files on tmpfs and PostgreSQL sessions with
        # synchronous_commit=off, so a save's CPU and round trips are what is timed, not
        # the disk's flush (which dominates one event per save on a loaded machine).
        shm = Path("/dev/shm")
        base = str(shm) if no_fsync and shm.is_dir() else None
        self.tmp = Path(tempfile.mkdtemp(prefix="bench_ledger_", dir=base))
        url = make_url(pg_url)
        if no_fsync:
            url = url.update_query_dict({"options": "-csynchronous_commit=off"})
        self.pg_url = url
        self.n = 0
        self.created: list[str] = []
        self._admin = None

    def admin(self) -> Any:
        if self._admin is None:
            self._admin = create_engine(
                self.pg_url.set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
        return self._admin

    def fresh(self, db: str, label: str) -> str:
        self.n += 1
        if db == "sqlite":
            return f"sqlite:///{self.tmp / f'{self.n:03d}_{label}.db'}?timeout=30"
        name = f"bench_ledger_{os.getpid()}_{self.n:03d}"
        with self.admin().connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(text(f"CREATE DATABASE {name}"))
        self.created.append(name)
        return self.pg_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if url.startswith("sqlite"):
            path = make_url(url).database
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
            return
        name = make_url(url).database
        with self.admin().connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            with self.admin().connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        if self._admin is not None:
            self._admin.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)


class RawRecorder(ChainedApplicationRecorder):
    """Our own insert path without the chain (issue 18, item 5): everything
    ``ChainedApplicationRecorder`` does on a save (no SQLAlchemy session when the save
    owns its transaction, the same DB-API connection, write lock, NOTIFY, id allocation,
    round trips and retries) except the chain: no head, no hashing, no act, a plain
    five-column INSERT. What appending costs on our path before the chain.

    On PostgreSQL, like the chained recorder, one round trip once it has saved: the ids
    chosen after its last save's, checked by a guard on the highest id alone (no head),
    which moves the sequence past them. ``RawReturningRecorder`` is the other way to
    one round trip (the INSERT draws its ids and returns them); ``RawRecorder2`` the
    two-round-trip path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p = "?" if self.dialect == "sqlite" else "%s"
        self._insert_sql = (
            f"INSERT INTO {self.table} (id, originator_id, originator_version, topic, state) "
            f"VALUES ({p}, {p}, {p}, {p}, {p})"
        )
        self._sqlite_read_sql = f"SELECT max(id), NULL, NULL, NULL FROM {self.table}"
        self._pg_guard_sql = (
            f"SELECT setval(pg_get_serial_sequence('{self.table}', 'id'), %s * guard.ok) FROM ("
            f"SELECT 1 / count(*)::int AS ok FROM (SELECT max(id) AS top FROM {self.table}) AS m "
            "WHERE m.top = %s) AS guard"
        )

    def _pg_guard_params(self, ids: Any, guess: Any) -> tuple[Any, ...]:
        return (ids[-1], guess[3])

    def _guess_after(self, ids: Any, rows: Any) -> tuple[int, bytes, None, int]:
        return (0, b"", None, ids[-1])  # no chain, no head: the ids alone

    def _pg_prelude(self, n: int) -> str:
        return f"{self._pg_lock_sql}{self._pg_ids_sql.format(n=int(n))}"

    def _write_sqlite(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        cur.executemany(self._insert_sql, rows)

    def _pg_rows(self, cur: Any, stored_events: Any, act: Any) -> tuple[None, list[int], list[Any]]:
        for _ in range(3):  # SET, LOCK, NOTIFY
            cur.nextset()
        ids = [r[0] for r in cur.fetchall()]
        return None, ids, self._rows(ids, stored_events, None, None, sqlite=False)

    def _rows(
        self,
        ids: Any,
        events: Any,
        head: Any,
        act: Any,
        *,
        sqlite: bool | None = None,
        binary_uuid: bool | None = None,  # the keyword's name in trees before `appends2`
    ) -> list[tuple[Any, ...]]:
        """SQLite: the BLOBs as ``bytearray``, which Python's sqlite3 binds without its
        adapter lookup (the same generic saving the chained recorder's rows get)."""
        if sqlite or binary_uuid:
            return [
                (i, bytearray(e.originator_id.bytes), e.originator_version, e.topic,
                 bytearray(e.state))
                for i, e in zip(ids, events, strict=True)
            ]  # fmt: skip
        return [
            (i, e.originator_id, e.originator_version, e.topic, e.state)
            for i, e in zip(ids, events, strict=True)
        ]


class RawReturningRecorder(RawRecorder):
    """PostgreSQL: the unchained save in one round trip without a guess: BEGIN, the
    lock's statements, the INSERT drawing its ids from the sequence and returning them,
    COMMIT, all pipelined."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._insert_drawing_sql = (
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s) RETURNING id"
        )

    def _save_postgres(self, conn: Any, stored_events: Any, act: Any) -> list[int]:
        rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in stored_events]
        was_autocommit = conn.autocommit
        conn.autocommit = True
        try:
            cur, insert = conn.cursor(), conn.cursor()
            with conn.pipeline():
                cur.execute("BEGIN")
                for statement in self._pg_lock_statements:
                    cur.execute(statement)
                insert.executemany(self._insert_drawing_sql, rows, returning=True)
                cur.execute("COMMIT")
            ids = []
            while True:
                ids.append(insert.fetchone()[0])
                if not insert.nextset():
                    return ids
        finally:
            _rollback_quietly(conn)
            conn.autocommit = was_autocommit


class RawRecorder2(RawRecorder):
    """PostgreSQL: the unchained save in two round trips, as ``RawRecorder`` measured it
    before the chained recorder's one-round-trip save: the lock and the ids drawn in
    one, the INSERT and COMMIT in the other."""

    def _save_postgres_on_guess(self, *args: Any) -> None:
        return None


class ChainedReadRecorder(ChainedApplicationRecorder):
    """The chained recorder that never builds on its last save: every save reads the head
    (two round trips on PostgreSQL), as the first save of a process does, or any save
    after another writer's."""

    def _save_postgres_on_guess(self, *args: Any) -> None:
        return None


def make_recorder(kind: str, url: str) -> Any:
    if kind == "plain":
        ds = SQLAlchemyDatastore(url=url)
        rec = SQLAlchemyApplicationRecorder(ds, events_table_name=PLAIN_TABLE)
    elif kind.startswith("raw"):
        cls = {"raw": RawRecorder, "raw2": RawRecorder2, "raw_returning": RawReturningRecorder}
        rec = cls[kind](ChainedDatastore(url=url), events_table_name=RAW_TABLE)
    elif kind == "chained_read":
        rec = ChainedReadRecorder(ChainedDatastore(url=url), events_table_name=TABLE)
    else:
        ds = ChainedDatastore(url=url)
        rec = ChainedApplicationRecorder(ds, events_table_name=TABLE)
    rec.create_table()
    return rec


def make_batches(total: int, per_call: int) -> list[list[StoredEvent]]:
    """One aggregate per call (a new one each save), versions 1..per_call, random states."""
    batches = []
    for _ in range(total // per_call):
        oid = uuid.uuid4()
        batches.append(
            [StoredEvent(oid, v, TOPIC, os.urandom(STATE_SIZE)) for v in range(1, per_call + 1)]
        )
    return batches


def fill(rec: Any, batches: list[list[StoredEvent]]) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds for the saves (the PostgreSQL server's
    CPU is not in the second figure)."""
    insert = rec.insert_events
    c0 = time.process_time()
    t0 = time.perf_counter()
    for b in batches:
        insert(b)
    return time.perf_counter() - t0, time.process_time() - c0


# --------------------------------------------------------------------------- appends


def bench_appends(
    dbs: Databases,
    db: str,
    per_call: int,
    total: int,
    repeats: int,
    log: Callable[[str], None],
    kinds: tuple[str, ...] = ("plain", "raw", "chained"),
    block: int = 0,
) -> dict[str, Any]:
    """Each kind's saves timed in runs of its own (interleaved run by run), or, with
    ``block``, all kinds' recorders open at once taking turns every ``block`` saves (the
    order rotating), each kind's time summed over its turns: a machine whose speed drifts
    within a run slows every kind alike."""
    batches = make_batches(total, per_call)
    n = len(batches) * per_call
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(repeats):
        if block:
            _alternating_run(dbs, db, per_call, batches, block, rates, cpu, log, r)
            continue
        for kind in rates:
            url = dbs.fresh(db, f"{kind}_{per_call}")
            rec = make_recorder(kind, url)
            # one warm-up save into a throwaway aggregate: WAL switch, first connection
            rec.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, os.urandom(STATE_SIZE))])
            secs, cpu_secs = fill(rec, batches)
            rates[kind].append(n / secs)
            cpu[kind].append(cpu_secs / n * 1e6)
            if kind.startswith("chained"):
                res = ChainReader(rec).verify()
                assert res.ok and res.count == n + 1, res
            rec.datastore.engine.dispose()
            dbs.drop(url)
            log(
                f"  {db} {per_call}/call run {r + 1} {kind}: {n / secs:,.0f} events/s, "
                f"{cpu_secs / n * 1e6:.1f} us CPU/event"
            )
    plain = statistics.median(rates["plain"]) if rates.get("plain") else float("nan")
    raw = statistics.median(rates["raw"])
    chained = statistics.median(rates["chained"])
    per_run = (
        [c / p for p, c in zip(rates["plain"], rates["chained"], strict=True)]
        if ("plain" in rates)
        else []
    )
    per_run_raw = [c / p for p, c in zip(rates["raw"], rates["chained"], strict=True)]
    return {
        "db": db,
        "per_call": per_call,
        "events": n,
        "plain": plain,
        "raw": raw,
        "chained": chained,
        "ratio": chained / plain,
        "ratio_raw": chained / raw,
        "ratio_runs": per_run,
        "ratio_raw_runs": per_run_raw,
        "cpu_us": {k: statistics.median(v) for k, v in cpu.items() if v},
        "cpu_ratio_raw": statistics.median(cpu["raw"]) / statistics.median(cpu["chained"]),
        "rates": rates,
        "load": os.getloadavg(),
    }


def _alternating_run(
    dbs: Databases,
    db: str,
    per_call: int,
    batches: list[list[StoredEvent]],
    block: int,
    rates: dict[str, list[float]],
    cpu: dict[str, list[float]],
    log: Callable[[str], None],
    r: int,
) -> None:
    """One run of ``bench_appends(block=...)``: every kind into its own fresh database."""
    kinds = list(rates)
    urls = {k: dbs.fresh(db, f"{k}_{per_call}") for k in kinds}
    recs = {k: make_recorder(k, urls[k]) for k in kinds}
    for rec in recs.values():
        rec.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, os.urandom(STATE_SIZE))])
    wall = dict.fromkeys(kinds, 0.0)
    spent = dict.fromkeys(kinds, 0.0)
    for turn, start in enumerate(range(0, len(batches), block)):
        part = batches[start : start + block]
        for i in range(len(kinds)):
            kind = kinds[(turn + i) % len(kinds)]
            secs, cpu_secs = fill(recs[kind], part)
            wall[kind] += secs
            spent[kind] += cpu_secs
    n = len(batches) * per_call
    for kind, rec in recs.items():
        rates[kind].append(n / wall[kind])
        cpu[kind].append(spent[kind] / n * 1e6)
        if kind.startswith("chained"):
            res = ChainReader(rec).verify()
            assert res.ok and res.count == n + 1, res
        rec.datastore.engine.dispose()
        dbs.drop(urls[kind])
        log(
            f"  {db} {per_call}/call run {r + 1} {kind} (turns of {block}): "
            f"{n / wall[kind]:,.0f} events/s, {spent[kind] / n * 1e6:.1f} us CPU/event"
        )


# --------------------------------------------------------------------------- verification


def build_chained(dbs: Databases, db: str, total: int, per_call: int = 1000) -> tuple[str, float]:
    url = dbs.fresh(db, f"verify_{total}")
    rec = make_recorder("chained", url)
    done = 0
    t0 = time.perf_counter()
    while done < total:
        k = min(per_call, total - done)
        oid = uuid.uuid4()
        rec.insert_events(
            [StoredEvent(oid, v, TOPIC, os.urandom(STATE_SIZE)) for v in range(1, k + 1)]
        )
        done += k
    secs = time.perf_counter() - t0
    rec.datastore.engine.dispose()
    return url, total / secs


def vm_hwm_kib() -> int:
    """This process's peak RSS (VmHWM, KiB). Unlike ru_maxrss, which Linux carries over
    from the parent across fork+exec, VmHWM belongs to the new address space alone."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_verify(url: str, mode: str, batch: int, profile: bool) -> dict[str, Any]:
    """Runs in a fresh interpreter. ``verify``: ChainReader.verify(); ``raw``: the same
    SELECT through the same cursor kind, two SHA-256 per row and nothing else."""
    ds = ChainedDatastore(url=url)
    rec = ChainedApplicationRecorder(ds, events_table_name=TABLE)
    reader = ChainReader(rec, batch=batch)
    rss_before = vm_hwm_kib()
    if mode == "verify":
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            t0 = time.perf_counter()
            prof.enable()
            res = reader.verify()
            prof.disable()
            secs = time.perf_counter() - t0
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(15)
        else:
            t0 = time.perf_counter()
            res = reader.verify()
            secs = time.perf_counter() - t0
        assert res.ok, res
        count = res.count
    else:
        uuid_expr = "uuid_send(originator_id)" if rec.dialect == "postgresql" else "originator_id"
        select = (
            f"SELECT id, {uuid_expr}, originator_version, topic, state, position, "
            f"state_digest, prev_hash, entry_hash FROM {rec.table} ORDER BY id"
        )
        buf = bytes(ENTRY_SIZE)
        sha256 = hashlib.sha256
        count = 0
        t0 = time.perf_counter()
        with reader._connection() as conn:
            if rec.dialect == "postgresql":
                cur = conn.cursor(name="bench_raw")
                cur.itersize = batch
            else:
                cur = conn.cursor()
            cur.execute(select)
            while rows := cur.fetchmany(batch):
                for row in rows:
                    sha256(row[4]).digest()
                    sha256(buf).digest()
                count += len(rows)
        secs = time.perf_counter() - t0
    rss_after = vm_hwm_kib()
    ds.engine.dispose()
    return {
        "count": count,
        "secs": secs,
        "rate": count / secs,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
    }


def run_child(url: str, mode: str, batch: int, profile: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", mode, "--child-url", url, "--batch", str(batch)]
    if profile:
        args.append("--profile")
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"child {mode} failed with {proc.returncode}")
        out.seek(0)
        result = json.loads(out.read().decode().strip().splitlines()[-1])
    # wait4's ru_maxrss is this child's alone, but Linux starts it at the parent's RSS
    # (kept across exec): report the child's own VmHWM; keep ru_maxrss for reference.
    result["ru_maxrss_kib"] = usage.ru_maxrss
    result["maxrss_kib"] = result["rss_after_kib"]
    return result


def bench_verify(
    dbs: Databases,
    db: str,
    sizes: list[int],
    repeats: int,
    batch: int,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    out = []
    for n in sizes:
        url, build_rate = build_chained(dbs, db, n)
        log(f"  {db} built {n:,} chained events at {build_rate:,.0f} events/s (1000/call)")
        runs: dict[str, list[dict[str, Any]]] = {"verify": [], "raw": []}
        for r in range(repeats):
            for mode in ("verify", "raw"):
                res = run_child(url, mode, batch)
                assert res["count"] == n, res
                runs[mode].append(res)
                log(
                    f"  {db} {n:,} run {r + 1} {mode}: {res['rate']:,.0f} events/s, "
                    f"maxrss {res['maxrss_kib'] / 1024:.1f} MiB"
                )
        v = statistics.median(x["rate"] for x in runs["verify"])
        raw = statistics.median(x["rate"] for x in runs["raw"])
        out.append(
            {
                "db": db,
                "events": n,
                "verify": v,
                "raw": raw,
                "ratio": v / raw,
                "verify_maxrss_mib": max(x["maxrss_kib"] for x in runs["verify"]) / 1024,
                "verify_rss_growth_mib": max(
                    (x["rss_after_kib"] - x["rss_before_kib"]) for x in runs["verify"]
                )
                / 1024,
                "raw_maxrss_mib": max(x["maxrss_kib"] for x in runs["raw"]) / 1024,
                "url": url,
            }
        )
    return out


# --------------------------------------------------------------------------- machine


def machine(pg_url: str | None) -> dict[str, str]:
    info: dict[str, str] = {}
    info["nproc"] = str(os.cpu_count())
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.splitlines()
            if ln.startswith("model name")
        ]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["ram"] = f"{int(mem) / 1024 / 1024:.1f} GiB"
    except OSError:
        info["ram"] = "?"
    info["os"] = platform.platform()
    info["python"] = platform.python_version()
    info["sqlite"] = sqlite3.sqlite_version
    from importlib.metadata import version

    import eventsourcing
    import eventsourcing_sqlalchemy  # noqa: F401
    import sqlalchemy

    info["eventsourcing"] = getattr(eventsourcing, "__version__", version("eventsourcing"))
    info["eventsourcing-sqlalchemy"] = version("eventsourcing-sqlalchemy")
    info["sqlalchemy"] = sqlalchemy.__version__
    info["psycopg"] = version("psycopg")
    if pg_url:
        try:
            eng = create_engine(pg_url)
            with eng.connect() as c:
                info["postgresql"] = c.execute(text("SHOW server_version")).scalar()
            eng.dispose()
        except Exception as e:  # noqa: BLE001
            info["postgresql"] = f"unavailable ({type(e).__name__})"
    return info


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, default=100_000, help="events per append configuration")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument(
        "--pg-single-events",
        type=int,
        default=None,
        help="events per configuration for PostgreSQL at 1 event/call (default: --events)",
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--no-fsync",
        action="store_true",
        help="SQLite on /dev/shm, PostgreSQL synchronous_commit=off: time CPU and round "
        "trips, not the disk's flush",
    )
    ap.add_argument("--batch", type=int, default=5000, help="ChainReader fetchmany size")
    ap.add_argument("--verify-sizes", default=None, help="comma list (default: N,10N)")
    ap.add_argument("--skip-appends", action="store_true")
    ap.add_argument(
        "--skip-stock", action="store_true", help="appends: raw and chained only (no ORM stock)"
    )
    ap.add_argument(
        "--read-paths",
        action="store_true",
        help="PostgreSQL appends: also raw_returning (unchained, one round trip, the INSERT "
        "drawing its ids) and the two-round-trip paths (raw2: the unchained save drawing "
        "its ids first; chained_read: the chained save reading the head first)",
    )
    ap.add_argument(
        "--turns",
        type=int,
        default=0,
        metavar="SAVES",
        help="appends: every kind's recorder open at once, taking turns of SAVES saves "
        "(order rotating), rather than a run each",
    )
    ap.add_argument("--skip-verify", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile one verify (to stderr)")
    ap.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    ap.add_argument("--child", choices=("verify", "raw"), help=argparse.SUPPRESS)
    ap.add_argument("--child-url", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.child:
        print(json.dumps(child_verify(a.child_url, a.child, a.batch, a.profile)))
        return

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    dbs_to_run = ["sqlite", "postgres"] if a.db == "both" else [a.db]
    info = machine(a.pg_url if "postgres" in dbs_to_run else None)
    dbs = Databases(a.pg_url, no_fsync=a.no_fsync)
    appends: list[dict[str, Any]] = []
    verifies: list[dict[str, Any]] = []
    sizes = (
        [int(x) for x in a.verify_sizes.split(",")] if a.verify_sizes else [a.events, 10 * a.events]
    )
    t_start = time.perf_counter()
    try:
        for db in dbs_to_run:
            if not a.skip_appends:
                for per_call in (1, 100):
                    total = a.events
                    if db == "postgres" and per_call == 1 and a.pg_single_events:
                        total = a.pg_single_events
                    log(f"appends: {db}, {per_call}/call, {total:,} events x {a.repeats}")
                    kinds = ("raw", "chained") if a.skip_stock else ("plain", "raw", "chained")
                    if a.read_paths and db == "postgres":
                        kinds += ("raw_returning", "raw2", "chained_read")
                    appends.append(
                        bench_appends(dbs, db, per_call, total, a.repeats, log, kinds, a.turns)
                    )
            if not a.skip_verify:
                log(f"verify: {db}, sizes {sizes}")
                results = bench_verify(dbs, db, sizes, a.repeats, a.batch, log)
                if a.profile:
                    log(f"cProfile of ChainReader.verify() on {results[0]['events']:,} events:")
                    run_child(results[0]["url"], "verify", a.batch, profile=True)
                for r in results:
                    dbs.drop(r.pop("url"))
                verifies.extend(results)
    finally:
        dbs.close()
    elapsed = time.perf_counter() - t_start

    print(render(info, appends, verifies, a, elapsed))
    if a.json:
        a.json.write_text(
            json.dumps({"machine": info, "appends": appends, "verify": verifies}, indent=2)
        )


# Chained against our own raw unchained insert path (issue 18, item 5), by events/save.
RAW_GOALS = {1: 0.9, 100: 0.8}


def render(
    info: dict[str, str],
    appends: list[dict[str, Any]],
    verifies: list[dict[str, Any]],
    a: argparse.Namespace,
    elapsed: float,
) -> str:
    def mark(ok: bool) -> str:
        return "yes" if ok else "**no**"

    lines = ["### Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", f"Command: `.venv/bin/python bench/bench_ledger.py {' '.join(sys.argv[1:])}`"]
    lines += [f"Wall time: {elapsed / 60:.1f} min", ""]
    if appends:
        lines += [
            f"### Appends (events/s, medians of {a.repeats}, interleaved, fresh database per run)",
            "",
            "| db | events/call | events per run | stock recorder | raw unchained (ours) "
            "| chained recorder | chained/stock | chained/raw | per-run chained/raw "
            "| >= raw goal | CPU us/event raw / chained | CPU raw/chained | load (1 min) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in appends:
            goal = RAW_GOALS[r["per_call"]]
            runs = ", ".join(f"{x:.2f}" for x in r["ratio_raw_runs"])
            lines.append(
                f"| {r['db']} | {r['per_call']} | {r['events']:,} | {r['plain']:,.0f} "
                f"| {r['raw']:,.0f} | {r['chained']:,.0f} | {r['ratio']:.2f}x "
                f"| **{r['ratio_raw']:.2f}x** | {runs} | {mark(r['ratio_raw'] >= goal)} ({goal}x) "
                f"| {r['cpu_us']['raw']:.1f} / {r['cpu_us']['chained']:.1f} "
                f"| {r['cpu_ratio_raw']:.2f}x | {r['load'][0]:.1f} |"
            )
        lines.append("")
        extra = [r for r in appends if "chained_read" in r.get("rates", {})]
        if extra:
            lines += [
                "Two-round-trip paths (PostgreSQL; events/s, medians, same runs):",
                "",
                "| events/call | raw, 1 round trip | raw_returning, 1 | raw2, 2 round trips "
                "| chained, 1 | chained_read, 2 | chained/raw_returning | chained_read/raw2 |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for r in extra:
                m = {k: statistics.median(v) for k, v in r["rates"].items()}
                lines.append(
                    f"| {r['per_call']} | {m['raw']:,.0f} | {m['raw_returning']:,.0f} "
                    f"| {m['raw2']:,.0f} | {m['chained']:,.0f} | {m['chained_read']:,.0f} "
                    f"| {m['chained'] / m['raw_returning']:.2f}x "
                    f"| {m['chained_read'] / m['raw2']:.2f}x |"
                )
            lines.append("")
    if verifies:
        lines += [
            f"### Verification (events/s, medians of {a.repeats}, each run a fresh process; "
            f"fetchmany {a.batch})",
            "",
            "| db | events | ChainReader.verify() | raw 2x SHA-256 over the same rows | verify/raw "
            "| verify peak RSS | verify RSS growth | raw peak RSS | >= 200k/s | >= 0.5x raw |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in verifies:
            lines.append(
                f"| {r['db']} | {r['events']:,} | {r['verify']:,.0f} | {r['raw']:,.0f} "
                f"| **{r['ratio']:.2f}x** | {r['verify_maxrss_mib']:.1f} MiB "
                f"| {r['verify_rss_growth_mib']:.1f} MiB | {r['raw_maxrss_mib']:.1f} MiB "
                f"| {mark(r['verify'] >= 200_000)} | {mark(r['ratio'] >= 0.5)} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
