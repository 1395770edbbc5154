"""Read models: SQLAlchemy tables kept from the ledger's notification log.

Each projection owns its tables and writes its rows and its tracking position in ONE
transaction, so a crash never leaves rows without the position that produced them (or
the reverse). ``eventsourcing``'s ``ProjectionRunner`` needs ``subscribe()``, which the
SQLAlchemy recorder lacks on SQLite (its ``subscribe`` raises NotImplementedError there),
so we catch up by polling ``select_notifications``. The events are read first and the
view's transaction opened afterwards: eventsourcing-sqlalchemy keeps its current
transaction in a context variable, and a read inside one goes through the library's ORM
query on that transaction rather than the recorder's plain SELECT (``ledger.store``).

Any projection can be dropped and rebuilt from the log; a rebuild equals the one kept
incrementally (tested).

Catch-up applies a page of events in one transaction through a ``PageWriter``: the rows a
projection adds with ``insert_row`` (and the keyed updates of ``update_row``) are queued
and written with one ``executemany`` per run of same-shaped statements, in order. Any
other statement first writes the queue if it touches a table with queued rows, so every
read sees every earlier write (read-your-writes, the same rows as one statement per row).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import os
import random
import signal
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing import connection as mp_connection
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Delete,
    Engine,
    Index,
    Insert,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Update,
    bindparam,
    cast,
    create_engine,
    inspect,
    select,
    text,
    true,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.sql import visitors
from sqlalchemy.sql.selectable import Alias, Select
from sqlalchemy.sql.util import find_tables

from ledger.app import Ledger
from ledger.chain_reader import ChainReader
from ledger.chain_sql import is_lock_wait
from ledger.chunks import chunks
from ledger.clock_commands import SetAsideSpan, recorded_by
from ledger.errors import LedgerBusy, LedgerError, StoreUnavailable
from projections import scratch
from projections import versions as ver
from projections.seal import (
    SEALS_METADATA,
    UNKNOWN,
    Bucketing,
    ChainEntry,
    DayRange,
    RowHasher,
    Scan,
    Sealer,
    SealInvalid,
    add_buckets,
    bind_to_chain,
    checked_mark,
    clear_mark,
    read_seal,
    seal_by_scan,
    seal_key,
    sealed_late_count,
    seals,
    set_mark,
    table_digest,
    write_seal,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


TRACKING_METADATA = MetaData()
tracking = Table(
    "proj_tracking",
    TRACKING_METADATA,
    Column("projection", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

PAGE = 1000
# The rebuild's pages (rows read per query and handed to a decoding worker), its batches
# (events per transaction) and its decoding processes.
REBUILD_PAGE = 2000
REBUILD_BATCH = 10000
# SQLite: fewer, larger batches. With two groups in one file (a connection's page cache
# thrown away after each other process's commit) 1.08-1.46x faster at 1M events in three
# alternated pairs; with a scratch file per group still 137 -> 120 s in one pair. Peak
# memory of a group 499 -> 663 MiB (docs/BENCHMARKS.md, tenth and eleventh passes).
REBUILD_BATCH_SQLITE = 30000
REBUILD_WORKERS = 2
# The tracking row that marks a rebuild begun and not finished (not a projection's name);
# sealed like every mark (``projections.seal.set_mark``).
REBUILDING = "(rebuilding)"
# Read models an earlier version kept and this one does not: a rebuild from the start drops
# their tables and forgets their position and seal. (The retention terms are columns of
# the retention read model's segment rows since session 24: ``projections.retention_terms``.)
RETIRED: dict[str, tuple[str, ...]] = {
    "retention_terms": ("proj_retention_terms", "proj_retention_terms" + ver.SUFFIX),
}
# Another process catching up the same read models makes ours lose a race now and then
# (its page committed first). The page's transaction rolled back; start again from the
# positions as they are now. Each lost race means the other process made progress.
RACE_RETRIES = 20


class ReadModelsOutdated(LedgerError):
    """The read models were made by a version of Custodes whose tables lack a column this
    one declares (their rows' versions' start, ``asof_from``, 4 December 2026; whether a
    refused attempt was signed in, session 14): nothing is read from or
    written to them until ``custodes projections rebuild`` makes them again."""

    def __init__(self, tables: Sequence[str]) -> None:
        super().__init__(
            f"the read models ({', '.join(tables)}) were made by an earlier version of "
            "Custodes; run `custodes projections rebuild` (as the database owner) once, "
            "then this command again. The ledger itself is unchanged."
        )
        self.tables = list(tables)


class RebuildRunning(LedgerError):
    """Another ``projections rebuild`` holds this ledger's rebuild lock: nothing was
    dropped or written."""

    def __init__(self) -> None:
        super().__init__(
            "another `custodes projections rebuild` is running on this ledger; nothing was "
            "dropped or written. Wait for it to finish (it resumes where it stopped if it "
            "was killed: run the command again then)."
        )


class ReadModelsRebuilding(StoreUnavailable):
    """A ``projections rebuild`` is running on this ledger with read models in its scratch
    files (SQLite): they are not ready to read until it has finished (the command line's
    exit 75, as for a busy database: try again)."""

    def __init__(self) -> None:
        super().__init__(
            "the read models are being rebuilt right now (`custodes projections rebuild` is "
            "running on this ledger), so what they would show is not ready. Try again when "
            "it has finished."
        )


def sqlite_file(engine: Engine) -> str | None:
    """The file of a SQLite database (None: another database, or SQLite in memory)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return database


@contextmanager
def rebuild_lock(engine: Engine) -> Iterator[None]:
    """One rebuild at a time per ledger, or ``RebuildRunning`` at once. Two at once dropped
    and created each other's tables and both failed on a raw SQL error. SQLite: ``flock``
    on ``<database>.rebuild-lock`` beside its file; PostgreSQL: a session advisory lock
    keyed by the schema (a consortium's ledgers rebuild side by side). A lock held by a
    process that died is gone with it; the forked groups inherit it and never release it."""
    if engine.dialect.name == "postgresql":
        lock = create_engine(engine.url, poolclass=NullPool)
        conn = lock.connect()
        key = text("SELECT hashtext('custodes-rebuild/' || current_schema())")
        try:
            k = conn.execute(key).scalar_one()
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": k}).scalar_one():
                raise RebuildRunning
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                conn.commit()
        finally:
            conn.close()
            lock.dispose()
        return
    database = sqlite_file(engine)
    if database is None:
        yield  # a private in-memory replay: nobody else can see it
        return
    import fcntl

    fd = os.open(f"{database}.rebuild-lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RebuildRunning from None
        yield
    finally:
        os.close(fd)


class ProjectionRaced(Exception):
    """Another process advanced this projection first; the page was rolled back."""


class PageWriter:
    """A connection for ``Projection.handle`` that queues row inserts and keyed updates
    and writes them in batches (``executemany``), in the order they were made.

    Everything else is the connection's: ``execute`` writes the queue first when the
    statement touches a table with queued rows, so reads and ``rowcount`` see every
    earlier write. ``flush`` writes what is queued; ``Views`` calls it before it moves the
    tracking position, in the same transaction.
    """

    def __init__(
        self, conn: Connection, sealer: Sealer | None = None, *, versioned: bool = False
    ) -> None:
        self.conn = conn
        # Seals (R29): every write's effect on its table's digest, for the page's seal.
        self.sealer = sealer
        # Row versions (``projections.versions``): every write of a versioned table sets
        # its rows' ``asof_from`` to the event being handled (``position``, set by
        # ``Views._handle``); ``versioned``: a row an earlier event wrote is first copied
        # into its version table, closed at this event.
        self.versioned = versioned
        self.position = 0
        # The last event of the page given to the projection (its position after it).
        self.last = 0
        # Per versioned table: primary key -> the position of the event of this page that
        # last wrote the row (its content from then is copied before a later one writes).
        self._written: dict[str, dict[tuple[Any, ...], int]] = {}
        # Per versioned table: the copies of rows this page had not written when an event
        # first changed them (``_copy_before``): their content is the one from before the
        # page, so they are copied in one batch before any of the table's queued writes.
        self._first: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
        # Per table, its queued statements in order: (shape, parameters).
        self._queue: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}
        self._statements: dict[tuple[Any, ...], Any] = {}
        self._touches: dict[Any, frozenset[str]] = {}
        self._raws: dict[tuple[Any, ...], RawBatch | None] = {}
        # Per table written: its name, whether it has versions.
        self._info: dict[Table, tuple[str, bool]] = {}
        # id(queued insert's values) -> (those values, bound, (key, stored form)):
        # inserts bound and their forms hashed by ``stage`` before the page's writes.
        self._staged: dict[int, tuple[dict[str, Any], tuple[Any, ...], Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def insert_row(self, table: Table, values: dict[str, Any]) -> None:
        """``INSERT INTO table`` one row, batched with the rows queued after it. ``values``
        is kept (queued as given): the caller's own dictionary, not a copy (a rebuild
        queues some 6 million rows at 1M events)."""
        info = self._info.get(table)
        if info is None:
            info = self._info[table] = (table.name, ver.version_of(table) is not None)
        name, versioned = info
        if versioned:
            # A new row: nothing to copy (a row deleted before was copied then).
            values[ver.FROM] = self.position
            if self.versioned:
                self._written.setdefault(name, {})[_key_of(table, values)] = self.position
        queue = self._queue.get(name)
        if queue is None:
            queue = self._queue[name] = []
        queue.append((("insert", table, tuple(values)), values))

    def update_row(self, table: Table, key_column: str, key: Any, **values: Any) -> None:
        """``UPDATE table SET values WHERE key_column = key``, batched like inserts."""
        if ver.version_of(table) is not None:
            pk = [c.name for c in table.primary_key.columns]
            if pk != [key_column] or key_column in values:
                raise NotImplementedError(
                    f"versioned read models: update {table.name} by its whole primary key"
                )
            values[ver.FROM] = self.position
            self._copy_before(table, [(key,)])
        shape = ("update", table, key_column, tuple(values))
        params = {"_key": key, **{f"v_{c}": v for c, v in values.items()}}
        self._queue.setdefault(table.name, []).append((shape, params))

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if self._queue:
            touches = self._touches.get(statement)
            if touches is None:
                touches = frozenset(
                    t.name
                    for t in find_tables(statement, include_crud=True)
                    if isinstance(t, Table)
                )
                self._touches[statement] = touches
            # What a read or write of these tables must see. The copies of rows from
            # before the page (``_first``) wait for the table's own writes: a read
            # does not need them (nothing reads a version table while handling), and
            # on SQLite the first write takes the database's write lock.
            for name in touches & self._queue.keys():
                self._write_table(name)
        if (
            isinstance(statement, Insert | Update | Delete)
            and isinstance(statement.table, Table)
            and ver.version_of(statement.table) is not None
        ):
            return self._versioned_execute(statement, *args, **kwargs)
        if self.sealer is not None and isinstance(statement, Insert | Update | Delete):
            return self._sealed_execute(statement, *args, **kwargs)
        return self.conn.execute(statement, *args, **kwargs)

    def _run(self, statement: Any) -> Any:
        if self.sealer is not None:
            return self._sealed_execute(statement)
        return self.conn.execute(statement)

    def _versioned_execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """One INSERT, UPDATE or DELETE of a versioned table: the rows it changes copied
        into their versions first (``_copy_before``), its rows' ``asof_from`` set."""
        table: Table = statement.table
        if args or kwargs:
            raise NotImplementedError(f"versioned read models: unsupported write {statement}")
        pk = list(table.primary_key.columns)
        p = self.position
        if isinstance(statement, Insert):
            result = self._run(statement.values({ver.FROM: p}))
            if self.versioned:
                key = tuple(result.inserted_primary_key or ())
                self._written.setdefault(table.name, {})[key] = p
            return result
        if isinstance(statement, Update):
            changed = {getattr(c, "key", c) for c in statement._values or {}}  # noqa: SLF001
            if changed & {c.name for c in pk}:
                raise NotImplementedError(
                    f"versioned read models: an update of {table.name}'s primary key"
                )
            statement = statement.values({ver.FROM: p})
        if self.versioned:
            where = statement.whereclause
            keys = [
                tuple(r)
                for r in self.execute(select(*pk).where(true() if where is None else where))
            ]
            self._copy_before(table, keys)
            self._write_table(table.name)
        return self._run(statement)

    def _copy_before(self, table: Table, keys: list[tuple[Any, ...]]) -> None:
        """The rows with these keys are about to be changed or deleted by the event at
        ``position``: queue the copy of each into its version table, closed at this
        event (none for a row this event wrote already, or one not there: ``_copy``). A
        row an earlier event of this page wrote is copied in its table's order, after
        that write; one this page has not written, before any (``_first``)."""
        if not self.versioned:
            return
        p = self.position
        written = self._written.setdefault(table.name, {})
        shape = ("copy", table)
        first: list[dict[str, Any]] | None = None
        for k in keys:
            at = written.get(k)
            if at == p:
                continue
            written[k] = p
            if at is not None:
                self._queue.setdefault(table.name, []).append((shape, {"_p": p, "_k": k}))
                continue
            if first is None:
                first = self._first.setdefault(table.name, (table, []))[1]
            first.append({"_p": p, "_k": k})

    def _copy(self, table: Table, params: list[dict[str, Any]]) -> None:
        """Copy the rows of ``params`` (``_copy_before``) as they are now (the queue is
        written in order) into their version table, closed at ``_p``: only those written
        by an earlier event, one version per row and event, whatever the paging."""
        versions = ver.version_of(table)
        assert versions is not None
        closed = {prm["_k"]: prm["_p"] for prm in params}
        sealer = self.sealer
        if sealer is not None:
            # Their stored forms now, for the versions' (read those the page does not know).
            rows = sealer.now.get(table.name, {})
            unknown = [k for k in closed if rows.get(k, UNKNOWN) is UNKNOWN]
            names = [c.name for c in table.primary_key.columns]
            sealer.touch_keys(self.conn, table, names, unknown, unknown=False)
        sql = _version_sql(table, versions, self.conn.dialect)
        if sql is None:
            self._versions_by_statement(table, versions, closed)
        else:
            rows_params = [(at, *k, at) for k, at in closed.items()]
            self.conn.exec_driver_sql(sql, rows_params)  # type: ignore[arg-type]
        if sealer is not None:
            sealer.copied(self.conn, table, versions, closed)

    def _versions_by_statement(
        self, table: Table, versions: Table, closed: dict[tuple[Any, ...], int]
    ) -> None:
        """``_version_sql``'s statement through SQLAlchemy (another driver)."""
        names = [c.name for c in table.primary_key.columns]
        params = [{"_p": at, **{f"_k{i}": v for i, v in enumerate(k)}} for k, at in closed.items()]
        self.conn.execute(
            versions.insert().from_select(
                [*(c.name for c in table.columns), ver.TO],
                select(*table.c, cast(bindparam("_p"), BigInteger)).where(
                    *(table.c[n] == bindparam(f"_k{i}") for i, n in enumerate(names)),
                    table.c[ver.FROM] < bindparam("_p"),
                ),
            ),
            params,
        )

    def _sealed_execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """Execute one INSERT, UPDATE or DELETE, its rows noted for the seal: those an
        UPDATE or DELETE selects read before it runs, an INSERT's key after."""
        assert self.sealer is not None
        table = statement.table
        if not isinstance(table, Table) or args or kwargs:
            raise NotImplementedError(f"sealed read models: unsupported write {statement}")
        if isinstance(statement, Insert):
            result = self.conn.execute(statement)
            key = tuple(result.inserted_primary_key or ())
            if not key or any(v is None for v in key):
                raise NotImplementedError(f"sealed read models: unsupported insert {statement}")
            self.sealer.touch_new(table, key)
            return result
        where = statement.whereclause
        self.sealer.touch_where(self.conn, table, true() if where is None else where)
        return self.conn.execute(statement)

    def stage(self) -> None:
        """Before the page's writes, do what needs no database: bind every queued
        insert and hash its stored form for the seal. On SQLite a transaction holds the write
        lock from its first write to its commit: in a rebuild in several processes, this
        work then no longer keeps the other processes from writing. ``flush`` writes the
        rows as staged."""
        sealer = self.sealer
        dialect = self.conn.dialect
        for ops in self._queue.values():
            for shape, params in _runs(ops):
                raw = self._raw(shape) if shape[0] == "insert" else None
                if raw is not None:
                    given, bound = raw.bind(params)
                    table = shape[1]
                    forms = None if sealer is None else sealer.bound_forms(table, shape[2], dialect)
                    made: list[Any] = [None] * len(params)
                    if sealer is not None and forms is not None:
                        made = list(forms.rows(given, bound))
                        sealer.prehash(table, (f for _k, f in made if f is not UNKNOWN), dialect)
                    for p, g, b, m in zip(params, given, bound, made, strict=True):
                        self._staged[id(p)] = (p, (g, b), m)

    def flush(self) -> None:
        """Write everything queued. Tables are independent (no foreign keys or triggers
        between read models), so each table's statements are written in their order."""
        for name in list(self._queue.keys() | self._first.keys()):
            self._write_table(name)
        self._staged = {}

    def _write_table(self, name: str) -> None:
        """Write what is queued for one table: the copies of rows from before the page
        first (``_first``), then its statements in their order."""
        first = self._first.pop(name, None)
        if first is not None:
            self._copy(*first)
        self._write(self._queue.pop(name, []))

    def _write(self, ops: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> None:
        for shape, params in _runs(ops):
            self._write_run(shape, params)

    def _write_run(self, shape: tuple[Any, ...], params: list[dict[str, Any]]) -> None:
        if shape[0] == "copy":
            self._copy(shape[1], params)
            return
        sealer = self.sealer
        predicted = False
        if sealer is not None and shape[0] == "update":
            predicted = self._seal_touch(shape, params)  # inserts were noted when queued
        raw = self._raw(shape)
        staged = self._staged
        made: list[Any] | None = None
        if raw is None:
            self.conn.execute(self._statement(shape), params)
        elif staged and all(id(p) in staged and staged[id(p)][0] is p for p in params):
            found = [staged[id(p)] for p in params]
            given = [f[1][0] for f in found]
            bound = [f[1][1] for f in found]
            made = [f[2] for f in found]
            raw.write_bound(self.conn, bound)
        else:
            given, bound = raw.write(self.conn, params)
        if sealer is None:
            return
        if shape[0] == "insert":
            table = shape[1]
            forms = None if raw is None else sealer.bound_forms(table, shape[2], self.conn.dialect)
            if forms is None:
                sealer.inserted(self.conn, table, params)
            else:
                sealer.inserted_forms(table, made if made is not None else forms.rows(given, bound))
        elif predicted:
            table, columns = shape[1], shape[3]
            for p in params:
                sealer.updated(self.conn, table, (p["_key"],), {c: p[f"v_{c}"] for c in columns})

    def _seal_touch(self, shape: tuple[Any, ...], params: list[dict[str, Any]]) -> bool:
        """Note for the seal the rows a run of keyed updates selects, before they change
        (those not noted already: the page knows their stored form). True: the updated
        rows' stored form follows from the values (``Sealer.updated``); False: the rows
        are read back at the end."""
        assert self.sealer is not None
        table, key_column = shape[1], shape[2]
        keys = list(dict.fromkeys(p["_key"] for p in params))
        predictor = self.sealer.predictor(table, self.conn.dialect)
        pk = [c.name for c in table.primary_key.columns]
        predicted = (
            predictor is not None
            and pk == [key_column]
            and all(predictor.preds[key_column](k) is k for k in keys)
        )
        if not predicted:
            for chunk in chunks(keys):
                self.sealer.touch_where(self.conn, table, table.c[key_column].in_(chunk))
            return False
        keys = [k for k in keys if not self.sealer.known(table, (k,))]
        # The keys are stored as given (``str``, ``int``): read on the driver's cursor.
        self.sealer.touch_keys(self.conn, table, [key_column], [(k,) for k in keys], unknown=False)
        return True

    def _raw(self, shape: tuple[Any, ...]) -> RawBatch | None:
        if shape not in self._raws:
            self._raws[shape] = RawBatch.of(shape, self.conn.dialect)
        return self._raws[shape]

    def _statement(self, shape: tuple[Any, ...]) -> Any:
        stmt = self._statements.get(shape)
        if stmt is None:
            table = shape[1]
            if shape[0] == "insert":
                stmt = table.insert()
            else:
                _kind, _table, key_column, columns = shape
                stmt = (
                    table.update()
                    .where(table.c[key_column] == bindparam("_key"))
                    .values({c: bindparam(f"v_{c}") for c in columns})
                )
            self._statements[shape] = stmt
        return stmt


def _runs(
    ops: list[tuple[tuple[Any, ...], dict[str, Any]]],
) -> Iterator[tuple[tuple[Any, ...], list[dict[str, Any]]]]:
    """Queued statements in runs of one shape, in their order: (shape, parameters)."""
    i = 0
    while i < len(ops):
        shape = ops[i][0]
        j = i + 1
        while j < len(ops) and ops[j][0] == shape:
            j += 1
        yield shape, [p for _s, p in ops[i:j]]
        i = j


_KEY_NAMES: dict[Table, tuple[str, ...]] = {}


def _key_of(table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
    names = _KEY_NAMES.get(table)
    if names is None:
        names = _KEY_NAMES[table] = tuple(c.name for c in table.primary_key.columns)
    try:
        return tuple([values[n] for n in names])
    except KeyError:
        raise NotImplementedError(
            f"sealed read models: an insert into {table.name} must give its primary key"
        ) from None


_VERSION_SQL: dict[tuple[Any, ...], str | None] = {}


def _version_sql(table: Table, versions: Table, dialect: Any) -> str | None:
    """The statement that copies rows into their versions (``PageWriter._copy``), as
    driver SQL written once per table, run as one ``executemany`` of ``(position,
    *primary key, position)``: the row as it is now, closed at the position, if an
    earlier event wrote it. The primary key values are strings and integers
    (``RowHasher``), which no bind processor changes. None: not SQLite or psycopg;
    written through SQLAlchemy instead."""
    cache_key = (table, dialect.name, dialect.driver)
    if cache_key not in _VERSION_SQL:
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        found = None
        if mark is not None and dialect.driver in ("pysqlite", "psycopg"):
            q = dialect.identifier_preparer
            keys = " AND ".join(f"{q.quote(c.name)} = {mark}" for c in table.primary_key.columns)
            cols = ", ".join(q.quote(c.name) for c in table.columns)
            found = (
                f"INSERT INTO {q.format_table(versions)} ({cols}, {q.quote(ver.TO)}) "
                f"SELECT {cols}, CAST({mark} AS BIGINT) FROM {q.format_table(table)} "
                f"WHERE {keys} AND {q.quote(ver.FROM)} < {mark}"
            )
        _VERSION_SQL[cache_key] = found
    return _VERSION_SQL[cache_key]


def rows_in(conn: Connection, query: Any, column: Any, values: list[Any]) -> Iterator[Any]:
    """The rows of ``query`` WHERE ``column`` IN ``values``, a chunk of values per
    statement (``ledger.chunks``), in chunk order."""
    for chunk in chunks(values):
        yield from conn.execute(query.where(column.in_(chunk)))


def tracked_position(conn: Connection, name: str) -> int:
    """How far projection ``name`` has read the log (0: not yet)."""
    value = conn.execute(select(tracking.c.position).where(tracking.c.projection == name)).scalar()
    return int(value or 0)


class RawBatch:
    """One queued statement shape written straight to the driver: SQL rendered once
    from the table, each value passed through its column type's bind processor (the
    same conversion SQLAlchemy applies, so the rows are identical), then one
    ``executemany`` (SQLite) or one ``COPY`` (PostgreSQL inserts). Errors are raised as
    SQLAlchemy's, as the statement path raises them.

    ``of`` returns None when SQLAlchemy must write the shape itself: a column left out
    of an insert (or any column, for an update) with a Python-side default or onupdate,
    or a driver whose parameter style is not positional."""

    _CACHE: ClassVar[dict[tuple[Any, ...], RawBatch | None]] = {}

    def __init__(
        self,
        sql: str,
        keys: tuple[str, ...],
        processors: tuple[Any, ...],
        copy: bool,
    ) -> None:
        self.sql = sql
        self.keys = keys
        self.processors = processors
        self.copy = copy

    @classmethod
    def of(cls, shape: tuple[Any, ...], dialect: Any) -> RawBatch | None:
        cache_key = (*shape, dialect.name, dialect.driver)
        if cache_key not in cls._CACHE:
            cls._CACHE[cache_key] = cls._make(shape, dialect)
        return cls._CACHE[cache_key]

    @classmethod
    def _make(cls, shape: tuple[Any, ...], dialect: Any) -> RawBatch | None:
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        if mark is None or dialect.driver not in ("pysqlite", "psycopg"):
            return None
        table: Table = shape[1]
        q = dialect.identifier_preparer
        name = q.format_table(table)
        if shape[0] == "insert":
            columns: tuple[str, ...] = shape[2]
            if any(
                c.default is not None or c.server_default is not None
                for c in table.columns
                if c.name not in columns
            ):
                return None
            cols = ", ".join(q.quote(c) for c in columns)
            copy = dialect.driver == "psycopg"
            if copy:
                sql = f"COPY {name} ({cols}) FROM STDIN"
            else:
                sql = f"INSERT INTO {name} ({cols}) VALUES ({', '.join([mark] * len(columns))})"
            keys = columns
            types = [table.c[c].type for c in columns]
        else:
            _kind, _table, key_column, columns = shape
            if any(c.onupdate is not None for c in table.columns):
                return None
            sets = ", ".join(f"{q.quote(c)} = {mark}" for c in columns)
            sql = f"UPDATE {name} SET {sets} WHERE {q.quote(key_column)} = {mark}"
            keys = (*(f"v_{c}" for c in columns), "_key")
            types = [*(table.c[c].type for c in columns), table.c[key_column].type]
            copy = False
        processors = tuple(_bind_processor(t, dialect) for t in types)
        return cls(sql, keys, processors, copy)

    def write(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Write ``rows``; returns their values as given and as bound (after the bind
        processors), each a tuple in ``keys`` order: the seal's stored forms come from
        them (``projections.seal.BoundForms``) without going through the rows again."""
        given, values = self.bind(rows)
        self.write_bound(conn, values)
        return given, values

    def bind(
        self, rows: list[dict[str, Any]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """``rows``' values as given and as bound, each a tuple in ``keys`` order."""
        get = itemgetter(*self.keys)
        converts = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        given: list[tuple[Any, ...]]
        if len(self.keys) == 1:
            given = [(get(row),) for row in rows]
        else:
            given = [get(row) for row in rows]
        values = given
        if converts:
            values = []
            for value in given:
                bound = list(value)
                for i, p in converts:
                    if (v := bound[i]) is not None:
                        bound[i] = p(v)
                values.append(tuple(bound))
        return given, values

    def write_bound(self, conn: Connection, values: list[tuple[Any, ...]]) -> None:
        """Write rows already bound (``bind``)."""
        if not self.copy:
            conn.exec_driver_sql(self.sql, values)  # type: ignore[arg-type]
            return
        dbapi = conn.dialect.dbapi
        assert dbapi is not None
        try:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(self.sql) as copy:
                for value in values:
                    copy.write_row(value)
        except dbapi.Error as e:
            raise DBAPIError.instance(self.sql, None, e, dbapi.Error) from e


_SQLITE_DATETIME = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


_UTC_TEXT: dict[datetime, str] = {}


def _utc_sqlite(value: datetime) -> str:
    """``UtcDateTime`` then SQLite's ``DATETIME`` bind processor in one step: the same
    string (its default storage format is ISO 8601 with a space and microseconds).
    Remembered for a while: a row's times recur in its versions and its other tables."""
    text = _UTC_TEXT.get(value)
    if text is None:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        if len(_UTC_TEXT) >= 100_000:
            _UTC_TEXT.clear()
        _UTC_TEXT[value] = text
    return text


def _bind_processor(type_: Any, dialect: Any) -> Any:
    """The column type's bind processor (SQLAlchemy's), or for a ``UtcDateTime`` on
    SQLite with the default storage format, the same conversion without its layers."""
    if isinstance(type_, UtcDateTime) and dialect.name == "sqlite":
        impl = type_.load_dialect_impl(dialect).dialect_impl(dialect)
        if getattr(impl, "_storage_format", None) == _SQLITE_DATETIME:
            return _utc_sqlite
    return type_._cached_bind_processor(dialect)


def insert_row(conn: Connection | PageWriter, table: Table, **values: Any) -> None:
    """Insert one row: queued when ``conn`` is a ``PageWriter``, else executed now."""
    if isinstance(conn, PageWriter):
        conn.insert_row(table, values)
    else:
        conn.execute(table.insert().values(**values))


def update_row(
    conn: Connection | PageWriter, table: Table, key_column: str, key: Any, **values: Any
) -> None:
    """Update the row(s) whose ``key_column`` equals ``key``; queued like ``insert_row``."""
    if isinstance(conn, PageWriter):
        conn.update_row(table, key_column, key, **values)
    else:
        conn.execute(table.update().where(table.c[key_column] == key).values(**values))


class Projection:
    """Subclasses set ``name`` and ``metadata`` (their tables) and implement ``handle``.

    ``handle(conn, notification_id, event)`` must be deterministic: the same events in
    the same order give the same rows (rebuild == incremental). Errors propagate: a
    projection never swallows one.
    """

    name: ClassVar[str]
    metadata: ClassVar[MetaData]
    # Event class names this projection reads; empty means all.
    kinds: ClassVar[frozenset[str]] = frozenset()
    # Keep row versions of its tables (``projections.versions``), so ``--as-of`` is a
    # query. Off for read models that are append-only or answer as-of by filtering.
    versioned: ClassVar[bool] = True
    # The names of the indexes of its tables that ``handle`` finds rows by (None: any of
    # them might be). A rebuild drops the others while it loads and builds them once at
    # its end: an index maintained row by row costs more than one built from the rows.
    lookup_indexes: ClassVar[frozenset[str] | None] = None
    # Its share of a rebuild's work, relative to the others; a rebuild in several processes
    # balances its groups of projections by it. The read models' values are CPU seconds
    # in a rebuild of bench_scale's 1M-event library system on SQLite, estimated: each
    # group's CPU measured at 1M, split between its read models by their shares measured
    # at 100k (the subject index grows faster than the log).
    rebuild_cost: ClassVar[float] = 1.0
    # The rows it stores per event of the log (bench_scale's library system at 97,779
    # events, version rows included). On SQLite a rebuild writes the group with the most
    # into the ledger's database and the others into scratch files copied at the end
    # (``projections.scratch``): the fewer rows copied, the shorter the copy.
    rebuild_rows: ClassVar[float] = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.versioned and "metadata" in cls.__dict__:
            ver.add_versions(cls.metadata)

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        raise NotImplementedError

    def prepare(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """Called with a page's events (those of ``kinds``) before they are handled, in
        the same transaction: a projection may read what the page needs in one query."""


def _create_missing_indexes(engine: Engine, projections: Sequence[Projection]) -> None:
    """Indexes added to a read model after its tables were created (``create_all`` only
    creates those of new tables), found missing by name in the catalogue (reflection
    skips an index on an expression, so ``checkfirst`` would create it again). An index
    only speeds queries up: a role that may not create one (the README's PostgreSQL
    grants: the tables' owner makes them, e.g. at ``projections rebuild``) goes on
    without it."""
    with engine.connect() as conn:
        existing = _index_names(conn)
    for p in projections:
        for table in p.metadata.sorted_tables:
            _create_table_indexes(engine, table, existing)


def _create_table_indexes(engine: Engine, table: Table, existing: set[str] | None) -> None:
    for index in table.indexes:
        if existing is not None and index.name in existing:
            if not _for_dialect(index, engine.dialect.name):
                _drop_index(engine, index)  # made by older code, here no longer
            continue
        with _if_permitted(engine) as conn:
            index.create(conn, checkfirst=existing is None)


def _index_and_analyze(engine: Engine, projections: Sequence[Projection], threads: int) -> None:
    """The end of a rebuild: each table's missing indexes (``_create_missing_indexes``),
    then its statistics (``_analyze_table``). On PostgreSQL, ``threads`` tables at a time, each
    on its own connection (the server builds them in parallel), the costliest read
    models' first; elsewhere one after another."""
    with engine.connect() as conn:
        existing = _index_names(conn)
    ordered = sorted(projections, key=lambda p: -p.rebuild_cost)
    tables = [t for p in ordered for t in p.metadata.sorted_tables]

    def finish(table: Table) -> None:
        _create_table_indexes(engine, table, existing)
        _analyze_table(engine, table)

    if threads > 1 and engine.dialect.name == "postgresql":
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(finish, tables))
    else:
        for table in tables:
            finish(table)


@contextmanager
def _if_permitted(engine: Engine) -> Iterator[Connection]:
    """A transaction for a statement that only speeds queries up (an index, statistics):
    a role not permitted to run it (PostgreSQL's insufficient privilege, 42501: the README's
    grants leave such work to the tables' owner, e.g. at ``projections rebuild``) goes on
    without it; any other error is raised."""
    try:
        with engine.begin() as conn:
            yield conn
    except ProgrammingError as e:
        if getattr(e.orig, "sqlstate", None) != "42501":
            raise


def _for_dialect(index: Index, dialect: str) -> bool:
    """Whether ``index`` is made on this database (``Index.ddl_if(dialect=...)``)."""
    only = index._ddl_if
    return only is None or only.dialect is None or only.dialect == dialect


def _drop_index(engine: Engine, index: Index) -> None:
    """Drop an index declared for other databases only (a role that may not goes on)."""
    name = engine.dialect.identifier_preparer.quote(str(index.name))
    with _if_permitted(engine) as conn:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def _analyze_table(engine: Engine, table: Table) -> None:
    """PostgreSQL: fresh planner statistics for the tables a rebuild has just filled. With
    none (autovacuum off, or not yet round), the planner guesses a third of a table for a
    range and a checked read's cursor (``table_digest``) scans the whole table: at 1M
    events the footage list's check of its ~500 rows took 115 ms of a 637,000-row scan
    instead of under 1 ms by the index. Statistics only speed queries up: a role that may
    not analyze a table (not its owner) goes on without."""
    if engine.dialect.name != "postgresql":
        return
    with _if_permitted(engine) as conn:
        conn.exec_driver_sql(f"ANALYZE {engine.dialect.identifier_preparer.format_table(table)}")


def _index_names(conn: Connection) -> set[str] | None:
    """The names of the indexes in this database (schema), or None: not known here."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    elif conn.dialect.name == "postgresql":
        sql = "SELECT indexname FROM pg_catalog.pg_indexes WHERE schemaname = current_schema()"
    else:
        return None
    return {name for (name,) in conn.exec_driver_sql(sql)}


def _create_tables(engine: Engine, projections: Sequence[Projection], *, indexes: bool) -> None:
    """Create what is missing. Several processes may start at once on a new ledger: the
    loser of a CREATE race (SQLite "already exists", PostgreSQL's unique violation on
    pg_type) tries again and then finds the tables there."""
    for attempt in range(1, RACE_RETRIES + 1):
        try:
            TRACKING_METADATA.create_all(engine)
            SEALS_METADATA.create_all(engine)
            for p in projections:
                p.metadata.create_all(engine)
            if indexes:
                _create_missing_indexes(engine, projections)
            return
        except (OperationalError, IntegrityError, ProgrammingError) as e:
            lost_race = (
                isinstance(e, IntegrityError) or "already exists" in str(e) or is_lock_wait(e)
            )
            if not lost_race or attempt == RACE_RETRIES:
                raise
            time.sleep(random.uniform(0.01, 0.1))  # noqa: S311 - jitter only


# A tracking row per projection whose row versions were begun after its rows (a ledger
# from before versions): they hold no past, and ``--as-of`` replays the log instead,
# until ``projections rebuild`` (which removes the mark). Sealed (``set_mark``): a forged
# or hidden mark is ``ReadModelTampered``, not a silent change of how as-of reads.
UNVERSIONED = "(no versions) "


def _versions_missing(engine: Engine, projections: Sequence[Projection]) -> list[Projection]:
    """Versioned projections whose tables exist without their version tables."""
    names = set(inspect(engine).get_table_names())
    found = []
    for p in projections:
        if not p.versioned:
            continue
        tables = p.metadata.sorted_tables
        plain = [t for t in tables if ver.version_of(t) is not None]
        if any(t.name in names for t in plain) and any(
            ver.version_of(t).name not in names  # type: ignore[union-attr]
            for t in plain
        ):
            found.append(p)
    return found


def _outdated(engine: Engine, projections: Sequence[Projection]) -> list[str]:
    """Tables made by an earlier version that lack a column this version declares: it
    neither reads nor writes them until a rebuild makes them again. Among them the
    version tables made before their rows carried ``asof_from`` (which kept every row's
    current content too, in a form this version does not read), and since session 14
    any other, so a read model that gains a column (``proj_refusals.authenticated``)
    says "rebuild once" instead of failing on its first query."""
    inspector = inspect(engine)
    names = set(inspector.get_table_names())
    found = []
    for p in projections:
        for table in p.metadata.sorted_tables:
            if table.name not in names:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            if {c.name for c in table.columns} - have:
                found.append(table.name)
    return found


def _mark_unversioned(views: Views, projections: Sequence[Projection]) -> None:
    with views.engine.begin() as conn:
        for p in projections:
            if tracked_position(conn, p.name) == 0:
                continue
            mark = UNVERSIONED + p.name
            if (
                conn.execute(
                    select(tracking.c.position).where(tracking.c.projection == mark)
                ).first()
                is None
            ):
                set_mark(conn, views.seal_key(), mark, 1)


def unversioned(views: Views) -> list[str]:
    """The projections of ``views`` whose versions do not cover the whole log, by their
    sealed marks; a forged or hidden mark raises ``ReadModelTampered`` (exit 3)."""
    key = views.seal_key()
    with views.engine.connect() as conn:
        return [
            p.name
            for p in views.projections
            if p.versioned and checked_mark(conn, key, UNVERSIONED + p.name) is not None
        ]


# The kept read models whose tables (and indexes) this process created or found, by
# database and set of tables: a long-running process (the dashboard) opens the read models
# for every page, and creating them (each table and index looked up in the catalogue) was
# a tenth of its home page. Later openings look once at the catalogue's list of tables:
# a table dropped since (by hand, or an older program) is created again as before. A
# rebuild (another process) drops and creates the tables in one transaction, so it leaves
# them all there.
_SCHEMA_SEEN: set[tuple[str, frozenset[str]]] = set()
# The same keys: the seals whose buckets this process made sure of (``seal.add_buckets``).
_BUCKETED: set[tuple[str, frozenset[str]]] = set()


def _all_tables(projections: Sequence[Projection]) -> frozenset[str]:
    names = {tracking.name, seals.name}
    for p in projections:
        names.update(t.name for t in p.metadata.sorted_tables)
    return frozenset(names)


def _schema_key(engine: Engine, projections: Sequence[Projection]) -> tuple[str, frozenset[str]]:
    return engine.url.render_as_string(hide_password=False), _all_tables(projections)


def _schema_seen(engine: Engine, projections: Sequence[Projection]) -> bool:
    """True when this process made or found every table of these read models in this
    database before, and they are all still there (one catalogue query)."""
    key = _schema_key(engine, projections)
    if key not in _SCHEMA_SEEN:
        return False
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
            present = {name for (name,) in conn.exec_driver_sql(sql)}
        elif conn.dialect.name == "postgresql":
            sql = "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
            present = {name for (name,) in conn.exec_driver_sql(sql)}
        else:
            present = set(inspect(conn).get_table_names())
    if key[1] <= present:
        return True
    _SCHEMA_SEEN.discard(key)
    return False


def _views_at(conn: Connection, projections: Sequence[Projection], position: int) -> None:
    """Temporary views named as the read models, showing them as of ``position``: an
    unqualified name finds a temporary object first (SQLite's temp schema, PostgreSQL's
    pg_temp), so every query written for the read models reads the past unchanged."""
    dialect = conn.dialect
    q = dialect.identifier_preparer
    # PostgreSQL binds a view's names when it is made (to the table: the view is not
    # there yet); SQLite when it is read, so the table is named in its schema.
    schema = "main" if dialect.name == "sqlite" else None
    for p in projections:
        for table in p.metadata.sorted_tables:
            if ver.version_of(table) is None:
                continue
            body = ver.as_of_select(table, position, schema).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
            conn.exec_driver_sql(f"CREATE TEMPORARY VIEW {q.quote(table.name)} AS {body}")


# The read models' engine (connection pool) a long-running process keeps for a ledger
# (``keep_engine``: the dashboard, issue 17): every ``Views`` of that ledger checks its
# connections out of it instead of opening (and closing) its own, ~29 ms a page on
# PostgreSQL. Each ``connect()`` is its own checkout, returned (rolled back) when the
# ``with`` ends, error or not; the pool never hands one connection to two threads at once.
_KEPT_ENGINES: weakref.WeakKeyDictionary[Ledger, Engine] = weakref.WeakKeyDictionary()


def keep_engine(ledger: Ledger) -> Engine:
    """The read models' engine kept for ``ledger`` as long as it lives (made on first
    call): its connections are tested before each checkout (``pool_pre_ping``), so one the
    server closed meanwhile (idle timeout, restart, ``pg_terminate_backend``) is replaced,
    not handed to a page."""
    engine = _KEPT_ENGINES.get(ledger)
    if engine is None:
        url = ledger.chained_recorder.datastore.engine.url  # type: ignore[union-attr]
        engine = create_engine(url, pool_pre_ping=True)
        _KEPT_ENGINES[ledger] = engine
    return engine


def release_engine(ledger: Ledger) -> None:
    """Close the engine ``keep_engine`` kept for ``ledger`` (if any)."""
    engine = _KEPT_ENGINES.pop(ledger, None)
    if engine is not None:
        engine.dispose()


class Views:
    """Engine and catch-up for a set of projections over one ledger."""

    def __init__(
        self,
        ledger: Ledger,
        projections: Sequence[Projection],
        *,
        as_of: datetime | None = None,
        scratch: bool = False,
    ) -> None:
        """Views kept in the ledger's database or, ``as_of`` a past time, rebuilt in memory.

        The as-of views replay only events recorded at or before ``as_of``: the state
        exactly as it was then (event sourcing gives it for free), never stored. An act a
        clock correction set aside counts as recorded by the correction's time, before
        which it came in the log (its own time, from a clock set ahead, says nothing: a
        purge swept by such a clock was left out of the days after the correction, the
        footage shown stored: the session 18 review).
        ``scratch``: an empty in-memory store to replay into (``projections.seal``).
        Only the views kept in the database are sealed (R29); the in-memory ones are
        built from the log by this process and never stored.
        """
        self.ledger = ledger
        self.projections = list(projections)
        self.as_of = as_of
        self.sealed = as_of is None and not scratch
        self._set_aside: list[SetAsideSpan] | None = None
        # When a set: the names of the tables read through ``connect()`` (ReadRecorder),
        # and the tables read only in ranges of their buckets, with those ranges.
        self.reads: set[str] | None = None
        self.ranges: dict[str, set[DayRange]] = {}
        self._seal_key: bytes | None = None
        # ``at``: reads see the read models as of this log position (``projections.asof``).
        self.position_read: int | None = None
        # How many processes the last ``rebuild`` ran in (its groups).
        self.rebuilt_by = 0
        self._read_engine: Engine | None = None
        kept = _KEPT_ENGINES.get(ledger) if self.sealed else None
        self._own_engine = kept is None
        self.outdated: list[str] = []
        if kept is not None:
            self.engine: Engine = kept
        elif self.sealed:
            url = ledger.chained_recorder.datastore.engine.url  # type: ignore[union-attr]
            self.engine = create_engine(url)
        else:
            if as_of is not None and as_of.tzinfo is None:
                raise ValueError("as_of must be timezone-aware")
            self.engine = create_engine("sqlite://", poolclass=StaticPool)
        if self.sealed and _schema_seen(self.engine, self.projections):
            self._bucket_seals()
            return
        self.outdated = _outdated(self.engine, self.projections) if self.sealed else []
        if self.outdated:
            return  # nothing created beside them: ``rebuild`` drops and makes them all
        new_versions = _versions_missing(self.engine, self.projections) if self.sealed else []
        _create_tables(self.engine, self.projections, indexes=self.sealed)
        if new_versions:
            _mark_unversioned(self, new_versions)
        if self.sealed:
            _SCHEMA_SEEN.add(_schema_key(self.engine, self.projections))
            self._bucket_seals()

    def _bucket_seals(self) -> None:
        """Once per process and database: seals from before buckets gain them
        (``seal.add_buckets``), and seals from before their binding to the log are bound
        (``seal.bind_to_chain``). A lock held by another writer leaves it for later."""
        done = _schema_key(self.engine, self.projections)
        if done in _BUCKETED:
            return
        try:
            add_buckets(self)
            bind_to_chain(self)
        except OperationalError as e:
            if not is_lock_wait(e):
                raise
            return
        _BUCKETED.add(done)

    def chain_entry(self, position: int) -> str | None:
        """The log's entry hash (hex) at ``position`` (a notification id), None when the
        log has none there: what a seal is bound to (``seal.check_chain``)."""
        row = ChainReader(self.ledger.chained_recorder).entry(notification_id=position)
        return None if row is None or row[7] is None else bytes(row[7]).hex()

    def chain_entries(self) -> ChainEntry:
        """``chain_entry``, each position read once for the caller's one piece of work
        (a page's commit, a check): never kept longer, so a log cut meanwhile is seen."""
        read: dict[int, str | None] = {}

        def entry(position: int) -> str | None:
            if position not in read:
                read[position] = self.chain_entry(position)
            return read[position]

        return entry

    def seal_key(self) -> bytes:
        if self._seal_key is None:
            self._seal_key = seal_key(self.ledger)
        return self._seal_key

    def close(self) -> None:
        if self._own_engine:
            self.engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()

    def at(self, position: int) -> None:
        """From now on ``connect()`` reads every versioned read model as it was after the
        event at ``position`` (its version table filtered by position, under the read
        model's own name), so the same queries answer "as of" (``projections.asof``)."""
        if not self.sealed:
            raise ValueError("only the kept read models have versions")
        self.position_read = position
        if self._read_engine is None:
            # Its own connections, closed after each use: the temporary views never
            # outlive the connection that reads through them.
            self._read_engine = create_engine(self.engine.url, poolclass=NullPool)

    def position(self, projection: Projection) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(tracking.c.position).where(tracking.c.projection == projection.name)
            ).scalar()
        return int(value or 0)

    def positions(self) -> dict[str, int]:
        """Every projection's position (``position``), in one query."""
        names = [p.name for p in self.projections]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tracking.c.projection, tracking.c.position).where(
                    tracking.c.projection.in_(names)
                )
            )
            found: dict[str, int] = {name: position for name, position in rows}
        return {name: int(found.get(name) or 0) for name in names}

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        stop: int | None = None,
    ) -> int:
        """Apply every event not yet seen; returns how many notifications were read."""
        return catch_up_together([self], progress=progress, stop=stop)

    def _mine(self, events: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """A page's events these views read: as of a past time, those recorded by then."""
        if self.as_of is None:
            return events
        return [(i, e) for i, e in events if self._recorded_by(i, e) <= self.as_of]

    def _recorded_by(self, notification_id: int, event: Any) -> datetime:
        """When an event was recorded at the latest (``ledger.clock_commands.recorded_by``)."""
        if self._set_aside is None:
            self._set_aside = self.ledger.set_aside_spans(until=self.as_of)
        return recorded_by(self._set_aside, notification_id, event.timestamp)

    def _take_scratch_files(self) -> None:
        """SQLite: read models a rebuild writes into scratch files of its own are not in
        the ledger's database until it merges them (``projections.scratch``). While it
        runs: ``ReadModelsRebuilding``. Left by a rebuild killed part-way: merged now
        (under the rebuild's lock), and caught up here from where they stand."""
        database = sqlite_file(self.engine)
        if database is None or not scratch.scratch_files(database):
            return
        from projections.registry import all_projections

        known = {p.name: p for p in [*all_projections(), *self.projections]}
        try:
            with rebuild_lock(self.engine):
                with self.engine.connect() as conn:
                    tracked = set(conn.execute(select(tracking.c.projection)).scalars())
                scratch.plan(database, [list(known.values())], tracked)
        except RebuildRunning:
            raise ReadModelsRebuilding from None

    def _commit(
        self,
        events: list[tuple[int, Any]],
        last: int,
        positions: dict[str, int],
        *,
        seal: bool = True,
    ) -> dict[str, int]:
        """Apply a page of events to every projection in ONE transaction: each one's rows
        and its position commit together (one commit per page, not per projection).
        Returns the positions after it. A race lost to another process catching up the
        same views rolls the page back; it is applied again from the positions as they
        are now (events already applied there are skipped)."""
        races = 0
        while True:
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        # The handlers and the seals find rows by key. A table just made
                        # (a rebuild, a first catch-up) has no statistics, and the planner
                        # then takes a list of keys (``IN``) for most of the table and scans
                        # it: at 1M events, 2,000 scans of each version table per rebuild.
                        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                    # Every projection's handlers first, then every one's writes: on
                    # SQLite the write lock is taken at the first write and held to the
                    # commit, so another process's rebuild group (``processes``) takes
                    # turns with this one's writes only, not with its handlers.
                    handled = [
                        self._handle(conn, p, positions[p.name], events, seal=seal)
                        for p in self.projections
                    ]
                    for writer in handled:
                        if writer is not None:
                            writer.stage()
                    chain = self.chain_entries()
                    for p, writer in zip(self.projections, handled, strict=True):
                        if writer is not None:
                            self._write(conn, p, positions[p.name], writer, chain)
            except (ProjectionRaced, IntegrityError, OperationalError) as e:
                if isinstance(e, OperationalError) and not is_lock_wait(e):
                    raise
                races += 1
                if races > RACE_RETRIES:
                    raise LedgerBusy(attempts=races, detail="read models") from e
                time.sleep(random.uniform(0.01, 0.1))  # noqa: S311 - jitter only
                moved = {p.name: self.position(p) for p in self.projections}
                if isinstance(e, IntegrityError) and moved == positions:
                    raise  # nobody else moved on: a real constraint violation
                positions = moved
                continue
            return {name: max(done, last) for name, done in positions.items()}

    def _handle(
        self,
        conn: Connection,
        p: Projection,
        done: int,
        events: list[tuple[int, Any]],
        *,
        seal: bool = True,
    ) -> PageWriter | None:
        """Run ``p``'s handlers over the events after ``done``, their writes queued (and
        written only where a handler reads its own table); None: nothing new for it."""
        # A whole page is new to a projection unless it lost a race or is resuming.
        todo = events if events and events[0][0] > done else [(i, e) for i, e in events if i > done]
        if not todo:
            return None
        events_last = todo[-1][0]
        writer = PageWriter(
            conn,
            Sealer(self.seal_key()) if self.sealed and seal else None,
            versioned=self.as_of is None and p.versioned,
        )
        kinds = p.kinds
        if kinds:
            todo = [(i, e) for i, e in todo if type(e).__name__ in kinds]
        writer.last = events_last
        writer.position = todo[0][0] if todo else 0
        p.prepare(writer, todo)  # type: ignore[arg-type]
        for notification_id, event in todo:
            writer.position = notification_id
            p.handle(writer, notification_id, event)  # type: ignore[arg-type]
        return writer

    def _write(
        self, conn: Connection, p: Projection, done: int, writer: PageWriter, chain: ChainEntry
    ) -> None:
        """Write what ``p``'s handlers queued, move its position from ``done`` to the
        page's last event and extend its seal, in the page's transaction: the seal read
        at ``done`` must still stand on the log's entry there, and the new one is bound
        to the log's entry at the page's last event (``chain``)."""
        writer.flush()
        if writer.sealer is not None:
            writer.sealer.finish(conn)
        last = writer.last
        updated = conn.execute(
            tracking.update()
            .where(tracking.c.projection == p.name)
            .where(tracking.c.position == done)
            .values(position=last)
        ).rowcount
        if updated == 0:
            if done != 0:
                raise ProjectionRaced(p.name, done)
            conn.execute(tracking.insert().values(projection=p.name, position=last))
        if writer.sealer is not None:
            # After the guard above: no other process moves this projection meanwhile.
            try:
                old = read_seal(conn, writer.sealer.key, p, done, chain)
            except SealInvalid:
                # A seal that fails (or none, from before seals) is never extended: the
                # next check reports it, and only a rebuild seals the projection again.
                return
            write_seal(conn, writer.sealer.key, p, old, last, writer.sealer, chain(last))

    def rebuild(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        workers: int = REBUILD_WORKERS,
        batch: int | None = None,
        restart: bool = False,
        seal_at_end: bool = False,
        processes: int = 1,
    ) -> int:
        """Drop every table of these projections and replay the whole log into them.

        Fast path for a whole log (``projections rebuild``): event rows are read in
        large pages with one raw query each (``ChainedApplicationRecorder.stored_pages``),
        decrypted and decoded by ``workers`` processes (0: in this one) while this
        process runs the projections' own ``handle`` methods, and each ``batch`` of
        events (default ``rebuild_batch``) is written in ONE transaction with every
        projection's tracking row (``PageWriter``: ``executemany`` on SQLite, ``COPY``
        on PostgreSQL).

        Resumable: a ``REBUILDING`` row in the tracking table marks a rebuild begun and
        not finished. Killed part-way, the read models stand at the last committed batch
        (rows and positions together); the next ``rebuild`` finds the mark and carries
        on from there instead of dropping them again. The mark is sealed: a forged or
        hidden one raises ``ReadModelTampered`` (exit 3) and nothing is dropped;
        ``restart`` drops and rebuilds whatever the mark says. Returns the events read.

        Seals (R29): by default each batch extends every projection's seal by what it
        wrote (each row's digest computed from the values written, ``Sealer``), so a row that anyone else writes
        meanwhile, even across a kill and a resume, stays a mismatch. ``seal_at_end``
        writes the batches unsealed and seals each projection once at the end from a
        scan of its tables (about 1.5x less CPU in this process at 100k): whatever the
        tables hold then is sealed, so a row written by someone else during the rebuild (or while
        it stood killed) is sealed with the rest. Meanwhile commands find the read
        models unsealed and refuse them (exit 3) until the rebuild is run again.

        ``processes`` > 1: the projections are split into that many groups of about equal
        work (``rebuild_cost``), each rebuilt by its own process that reads, decodes and
        writes the events its projections read (``workers`` unused). Each projection's
        rows, seal and position still commit together, batch by batch, so the groups
        run and resume independently. On SQLite they take turns at the write lock (one
        group's handlers run while another writes). Where processes cannot be forked
        (not Linux or macOS), one process does it all.
        """
        if batch is None:
            batch = rebuild_batch(self.engine.dialect.name)
        if processes < 1:
            raise ValueError("processes must be at least 1")
        with rebuild_lock(self.engine):
            return self._rebuild(progress, workers, batch, restart, seal_at_end, processes)

    def _rebuild(
        self,
        progress: Callable[[int], None] | None,
        workers: int,
        batch: int,
        restart: bool,
        seal_at_end: bool,
        processes: int,
    ) -> int:
        """``rebuild``, with the rebuild's lock held."""
        with self.engine.begin() as conn:
            # Tables of an earlier version (``ReadModelsOutdated``) are made again,
            # whatever a rebuild of theirs left unfinished.
            resuming = not restart and not self.outdated and self._rebuilding(conn)
            if not resuming:
                clear_mark(conn, REBUILDING)
                if (database := sqlite_file(self.engine)) is not None:
                    scratch.remove_all(database)
                for p in self.projections:
                    p.metadata.drop_all(conn)
                    _forget(conn, p.name)
                for name, tables in RETIRED.items():
                    for table in tables:
                        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}"')
                    _forget(conn, name)
                for p in self.projections:
                    create_for_loading(conn, p)
                set_mark(conn, self.seal_key(), REBUILDING, 0)
        self.outdated = []
        forks = "fork" in multiprocessing.get_all_start_methods()
        groups = rebuild_groups(self.projections, processes if forks else 1)
        # SQLite: every group but the one storing the most rows in a file of its own, and the files
        # a killed rebuild left resumed, merged or removed (``projections.scratch``).
        files: dict[int, Path] = {}
        if (database := sqlite_file(self.engine)) is not None:
            groups = most_rows_first(groups)
            with self.engine.connect() as conn:
                tracked = set(conn.execute(select(tracking.c.projection)).scalars())
            files = scratch.plan(database, groups, tracked)
        positions = {p.name: self.position(p) for p in self.projections}
        start = min(positions.values(), default=0) + 1
        # The batches keep ~10^5 objects alive (events, queued rows): the cyclic garbage
        # collector would walk them again and again for nothing (they hold no cycles,
        # reference counting frees them). Off for the rebuild, as it was after.
        was_enabled = gc.isenabled()
        gc.disable()
        indexed: set[str] = set()
        try:
            self.rebuilt_by = len(groups)
            if len(groups) > 1:
                read = self._rebuild_in_groups(
                    groups, positions, progress, batch, seal_at_end, files
                )
                # each group but those in scratch files built its tables' indexes itself
                indexed = {p.name for i, g in enumerate(groups) if i not in files for p in g}
            else:
                read = self._rebuild_from(start, positions, progress, workers, batch, seal_at_end)
        finally:
            if was_enabled:
                gc.enable()
        rest = [p for p in self.projections if p.name not in indexed]
        _index_and_analyze(self.engine, rest, processes)
        if seal_at_end:
            self._seal_rebuilt(workers)
        else:
            with self.engine.begin() as conn:
                clear_mark(conn, REBUILDING)
        return read

    def _seal_rebuilt(self, workers: int) -> None:
        """Seal every rebuilt projection at its position from a scan of its tables
        (``table_digest``, the check's own), one table per worker process, and end the
        rebuild (its mark removed) in the same transaction: the batches were written
        unsealed, and a seal kept batch by batch would sum the same row digests at a
        cost of a read-back of every row each batch touched (half of the rebuild)."""
        key = self.seal_key()
        tables = {t.name: t for p in self.projections for t in p.metadata.sorted_tables}
        url = self.engine.url
        if workers > 0:
            ctx = _fork_context()
            with ctx.Pool(
                min(workers, len(tables)), initializer=_init_digest, initargs=(url, key, tables)
            ) as pool:
                digests = dict(pool.imap_unordered(_digest_one, list(tables)))
        else:
            _init_digest(url, key, tables)
            try:
                digests = dict(map(_digest_one, tables))
            finally:
                _close_digest()
        with self.engine.begin() as conn:
            for p in self.projections:
                position = tracked_position(conn, p.name)
                seal_by_scan(conn, key, p, position, digests, self.chain_entry(position))
            clear_mark(conn, REBUILDING)

    def _rebuild_in_groups(
        self,
        groups: list[list[Projection]],
        positions: dict[str, int],
        progress: Callable[[int], None] | None,
        batch: int,
        seal_at_end: bool,
        files: dict[int, Path],
    ) -> int:
        """Each group of projections rebuilt by its own forked process (``_rebuild_group``);
        this one reports the slowest group's progress and waits for all of them. A group
        that fails stops the others and raises here; what was committed stays, and the
        rebuild's mark with it, so running the rebuild again resumes. ``files``: the
        groups that write into a scratch file of their own (SQLite), merged here when
        every group is done."""
        self.seal_key()  # computed once, here, not by every process
        # No connection crosses the fork: the children open their own.
        self.engine.dispose()
        self.ledger.chained_recorder.datastore.engine.dispose()  # type: ignore[union-attr]
        ctx = multiprocessing.get_context("fork")
        pipes = [ctx.Pipe(duplex=False) for _ in groups]
        children: list[Any] = []
        for group, (_, sender) in zip(groups, pipes, strict=True):
            mine = {p.name: positions[p.name] for p in group}
            child = ctx.Process(
                target=_rebuild_group,
                args=(
                    self,
                    group,
                    mine,
                    batch,
                    seal_at_end,
                    sender,
                    [r for r, _ in pipes],
                    os.getpid(),
                    files.get(len(children)),
                ),  # fmt: skip
                daemon=True,
            )
            child.start()
            sender.close()
            children.append(child)
        done = [0] * len(groups)
        reported = 0
        open_ = {reader: i for i, (reader, _) in enumerate(pipes)}
        try:
            while open_:
                for ready in mp_connection.wait(list(open_)):
                    reader: Any = ready
                    i = open_[reader]
                    try:
                        message = reader.recv()
                    except EOFError:
                        raise RuntimeError(
                            f"the rebuild of {_names(groups[i])} stopped without a word "
                            f"(exit code {children[i].exitcode})"
                        ) from None
                    if isinstance(message, str):
                        raise RuntimeError(f"the rebuild of {_names(groups[i])} failed:\n{message}")
                    if message is None:
                        del open_[reader]
                        continue
                    done[i] += message
                    slowest = min(done)
                    if progress is not None and slowest > reported:
                        progress(slowest - reported)
                    reported = slowest
        finally:
            for child in children:
                if child.is_alive() and open_:
                    child.terminate()
                child.join()
            for reader, _ in pipes:
                reader.close()
        database = sqlite_file(self.engine)
        for i, path in sorted(files.items()):
            assert database is not None
            scratch.merge(database, path, groups[i])
        return max(done)

    def _rebuild_from(
        self,
        start: int,
        positions: dict[str, int],
        progress: Callable[[int], None] | None,
        workers: int,
        batch: int,
        seal_at_end: bool,
        kinds: frozenset[str] | None = None,
    ) -> int:
        """``kinds``: decode only events of these classes (every projection here reads
        only those); the others stay ``(id, None)``, which no projection handles."""
        recorder = self.ledger.chained_recorder
        stored = recorder.stored_pages(start, REBUILD_PAGE)
        pages: Iterable[Sequence[PageRow]] = (
            stored if kinds is None else (_only_kinds(rows, kinds) for rows in stored)
        )
        read = 0
        with _Decoder(self.ledger.mapper, workers) as decoder:
            pending: list[tuple[int, Any]] = []
            for events in decoder.decode(pages):
                pending.extend(events)
                while len(pending) >= batch:
                    part, pending = pending[:batch], pending[batch:]
                    positions = self._commit(part, part[-1][0], positions, seal=not seal_at_end)
                    read += len(part)
                    if progress is not None:
                        progress(len(part))
            if pending:
                positions = self._commit(pending, pending[-1][0], positions, seal=not seal_at_end)
                read += len(pending)
                if progress is not None:
                    progress(len(pending))
        return read

    def rebuilding(self) -> bool:
        """True while a rebuild is begun and not finished (killed part-way), by its
        sealed mark; a forged or hidden mark raises ``ReadModelTampered`` (exit 3)."""
        with self.engine.connect() as conn:
            return self._rebuilding(conn)

    def _rebuilding(self, conn: Connection) -> bool:
        return checked_mark(conn, self.seal_key(), REBUILDING) is not None

    def connect(self) -> Connection:
        if self.outdated:
            raise ReadModelsOutdated(self.outdated)
        if self.position_read is None:
            conn = self.engine.connect()
        else:
            assert self._read_engine is not None
            conn = self._read_engine.connect()
            _views_at(conn, self.projections, self.position_read)
        if self.reads is None:
            return conn
        return ReadRecorder(conn, self.reads, self.ranges, self)  # type: ignore[return-value]


def catch_up_together(
    views: Sequence[Views],
    *,
    progress: Callable[[int], None] | None = None,
    stop: int | None = None,
) -> int:
    """Views of one ledger caught up (``Views.catch_up``) from one read of its log: each
    page read and decoded once, then applied to each (as of its own time, from its own
    positions). Returns how many notifications were read."""
    tracked = []
    for v in views:
        if v.outdated:
            raise ReadModelsOutdated(v.outdated)
        if v.sealed:
            v._take_scratch_files()
        if v.as_of is not None and stop is not None:  # only the corrections up to there
            v._set_aside = v.ledger.set_aside_spans(until=v.as_of, held_by=stop)
        tracked.append(v.positions())
    if not any(tracked):
        return 0
    ledger = views[0].ledger
    read = 0
    # Events of a kind no projection here reads are not decrypted (an as-of replay of
    # a few read models reads the whole log); a projection of every kind reads all.
    kinds = [p.kinds for v in views for p in v.projections]
    wanted = frozenset().union(*kinds) if all(kinds) else None
    while True:
        start = min(min(p.values()) for p in tracked if p) + 1
        # Read first (the ledger's own transaction ends), then write the views.
        notifications = ledger.recorder.select_notifications(start, PAGE, stop=stop)
        if not notifications:
            return read
        events = [
            (n.id, ledger.mapper.to_domain_event(n))
            for n in notifications
            if wanted is None or _class_name(n.topic) in wanted
        ]
        for k, v in enumerate(views):
            if tracked[k]:
                tracked[k] = v._commit(v._mine(events), notifications[-1].id, tracked[k])
        read += len(notifications)
        if progress is not None:
            progress(len(notifications))


_worker_mapper: Any = None
# An event row as stored (``stored_pages``), and one a rebuild's group left out
# (``_only_kinds``: its id only).
StoredRow = tuple[int, bytes, int, str, bytes]
PageRow = StoredRow | tuple[int, None]
_digest_state: tuple[Engine, bytes, dict[str, Table]] | None = None


def _fork_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _init_digest(url: Any, key: bytes, tables: dict[str, Table]) -> None:
    global _digest_state
    _digest_state = (create_engine(url, poolclass=NullPool), key, tables)


def _close_digest() -> None:
    global _digest_state
    if _digest_state is not None:
        _digest_state[0].dispose()
    _digest_state = None


def _digest_one(name: str) -> tuple[str, Scan]:
    """One table's rows, digest and buckets as the check computes them
    (``seal.table_digest``)."""
    assert _digest_state is not None
    engine, key, tables = _digest_state
    with engine.connect() as conn:
        return name, table_digest(conn, RowHasher(key, tables[name]), buckets=True)


def _init_worker(mapper: Any) -> None:
    global _worker_mapper
    _worker_mapper = mapper


def _decode_rows(rows: Sequence[PageRow], mapper: Any = None) -> list[tuple[int, Any]]:
    """Stored rows to ``(notification id, domain event)``: decrypt, decode (the mapper's
    own ``to_domain_event``). A row left out by ``_only_kinds`` stays ``(id, None)``."""
    mapper = mapper or _worker_mapper
    out: list[tuple[int, Any]] = []
    for row in rows:
        if len(row) == 2:
            out.append((row[0], None))
        else:
            i, oid, version, topic, state = row
            out.append(
                (i, mapper.to_domain_event(StoredEvent(UUID(bytes=oid), version, topic, state)))
            )
    return out


@functools.cache
def _class_name(topic: str) -> str:
    """The name ``kinds`` knows an event class by (``type(event).__name__``) for its
    stored topic, as eventsourcing resolves it: a topic registered for a renamed class
    names the class it resolves to, not what the topic's text says."""
    return str(resolve_topic(topic).__name__)


def _only_kinds(rows: list[StoredRow], kinds: frozenset[str]) -> list[PageRow]:
    """The rows of events of these classes; the others as ``(id, None)``, not decrypted."""
    return [row if _class_name(row[3]) in kinds else (row[0], None) for row in rows]


def _forget(conn: Connection, name: str) -> None:
    """A projection's position, its versions' mark and its seal, removed."""
    conn.execute(tracking.delete().where(tracking.c.projection == name))
    clear_mark(conn, UNVERSIONED + name)
    conn.execute(seals.delete().where(seals.c.projection == name))


def rebuild_batch(dialect: str) -> int:
    """Events per transaction of a rebuild when none is given: 30,000 on SQLite (measured
    faster at 1M events), else 10,000."""
    return REBUILD_BATCH_SQLITE if dialect == "sqlite" else REBUILD_BATCH


def rebuild_groups(projections: Sequence[Projection], n: int) -> list[list[Projection]]:
    """The projections in at most ``n`` groups of about equal ``rebuild_cost`` (the
    costliest first, each to the group with the least so far), each group in the order
    the projections were given."""
    loads = [0.0] * min(n, len(projections))
    members: list[list[int]] = [[] for _ in loads]
    ordered = sorted(range(len(projections)), key=lambda i: -projections[i].rebuild_cost)
    for i in ordered:
        g = loads.index(min(loads))
        loads[g] += projections[i].rebuild_cost
        members[g].append(i)
    return [[projections[i] for i in sorted(m)] for m in members if m]


def create_for_loading(conn: Connection, p: Projection) -> None:
    """``p``'s tables as a rebuild loads them: the version tables' own indexes serve as-of
    reads only (the catch-up only inserts into them), and the indexes the handlers do not
    look rows up by serve queries only, so both are left out and built once at the end
    (``_index_and_analyze``), not row by row."""
    p.metadata.create_all(conn)
    for table in p.metadata.sorted_tables:
        versions = ver.is_version_table(table.name)
        for index in table.indexes:
            if versions or (p.lookup_indexes is not None and index.name not in p.lookup_indexes):
                index.drop(conn)


def most_rows_first(groups: list[list[Projection]]) -> list[list[Projection]]:
    """The groups, the one that stores the most rows (``rebuild_rows``) first: on SQLite
    the first writes into the ledger's database and the others into scratch files."""
    return sorted(groups, key=lambda g: -sum(p.rebuild_rows for p in g))


def _names(group: Sequence[Projection]) -> str:
    return ", ".join(p.name for p in group)


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies (a rebuild killed part-way
    leaves no group writing on behind it); elsewhere the closed pipe stops it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _rebuild_group(
    views: Views,
    group: list[Projection],
    positions: dict[str, int],
    batch: int,
    seal_at_end: bool,
    sender: Any,
    readers: list[Any],
    parent: int,
    scratch_file: Path | None = None,
) -> None:
    """In a forked process of ``parent``: rebuild this group's projections from their own
    positions (in ``scratch_file`` when given: ``projections.scratch``), sending the
    events done after each batch, then ``None``; a failure's traceback as text instead."""
    _die_with_parent()
    for reader in readers:
        reader.close()
    if os.getppid() != parent:
        os._exit(1)  # the parent died before we could ask to die with it
    try:
        views.projections = group
        if scratch_file is not None:
            views.engine = scratch.open_engine(scratch_file)
            positions = views.positions()
        elif views.engine.dialect.name == "sqlite":
            views.engine = scratch.large_cache(create_engine(views.engine.url))
        kinds: set[str] = set()
        for p in group:
            kinds |= p.kinds
        every = any(not p.kinds for p in group)
        start = min(positions.values()) + 1
        views._rebuild_from(
            start, positions, sender.send, 0, batch, seal_at_end,
            kinds=None if every else frozenset(kinds),
        )  # fmt: skip
        if scratch_file is None:
            # Its tables' indexes and statistics, here while the other groups still run
            # (a scratch file's group: after its merge, in the parent).
            _index_and_analyze(views.engine, group, 1)
        views.engine.dispose()  # its write-ahead log checkpointed before the merge
        sender.send(None)
    except BaseException:
        sender.send(traceback.format_exc())
        os._exit(1)  # the parent raises it; nothing more to print or clean up here


class _Decoder:
    """Decodes pages of stored rows in ``workers`` processes, in order, a few pages
    ahead of the caller (bounded, so memory stays flat), or in this process (0)."""

    AHEAD = 4

    def __init__(self, mapper: Any, workers: int) -> None:
        self.mapper = mapper
        self.workers = workers
        self.pool: Any = None

    def __enter__(self) -> _Decoder:
        if self.workers > 0:
            ctx = _fork_context()
            self.pool = ctx.Pool(self.workers, initializer=_init_worker, initargs=(self.mapper,))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def decode(self, pages: Iterable[Sequence[PageRow]]) -> Iterator[list[tuple[int, Any]]]:
        if self.pool is None:
            for rows in pages:
                yield _decode_rows(rows, self.mapper)
            return
        ahead: deque[Any] = deque()
        for rows in pages:
            ahead.append(self.pool.apply_async(_decode_rows, (rows,)))
            if len(ahead) >= self.AHEAD * self.workers:
                yield ahead.popleft().get()
        while ahead:
            yield ahead.popleft().get()


def _read_only_at_top(statement: Any, table: Table) -> bool:
    """Whether ``table`` is read by ``statement``'s own FROM only: by no subquery and no
    alias (those reads are not restricted by the range's predicate on the statement)."""
    for element in visitors.iterate(statement):
        if element is statement:
            continue
        if isinstance(element, Select) and table in find_tables(element, include_crud=True):
            return False
        if isinstance(element, Alias) and element.element is table:
            return False
    return True


class ReadRecorder:
    """A connection that notes every table its statements read (``Views.reads``), so a
    command's read models are checked exactly where it read them (R29); a table read
    only through ranges of its buckets (``seal.read_range``) is noted with those ranges
    (``Views.ranges``) instead."""

    def __init__(
        self,
        conn: Connection,
        reads: set[str],
        ranges: dict[str, set[DayRange]],
        views: Views,
    ) -> None:
        self.conn = conn
        self.reads = reads
        self.ranges = ranges
        self.views = views

    def execute_range(self, statement: Any, table: Table, rng: DayRange) -> Any:
        """``statement`` reads ``table`` once, restricted to ``rng``; any other table
        it reads (or ``table`` again) is a whole read."""
        found = {t for t in find_tables(statement, include_crud=True) if isinstance(t, Table)}
        if _read_only_at_top(statement, table):
            self.ranges.setdefault(table.name, set()).add(rng)
            found.discard(table)
        self.reads.update(t.name for t in found)
        return self.conn.execute(statement)

    def execute_unrecorded(self, statement: Any) -> Any:
        """A read that only chooses which range is read next (``seal.first_rows``)."""
        return self.conn.execute(statement)

    def sealed_late_count(
        self, table: Table, bucketing: Bucketing, start: datetime, end: datetime
    ) -> int | None:
        """``seal.sealed_late_count`` from this table's seal, checked (its HMAC, and its
        position against the tracked one: ``checked`` then sees the positions unmoved
        around the query); None when it cannot answer (views as of a past position,
        bounds not on whole hours, a seal without buckets or that fails)."""
        if self.views.position_read is not None:
            return None
        [p] = [p for p in self.views.projections if table in p.metadata.sorted_tables]
        position = tracked_position(self.conn, p.name)
        try:
            seal = read_seal(
                self.conn, self.views.seal_key(), p, position, self.views.chain_entries()
            )
        except SealInvalid:
            return None  # read the rows instead: their check reports it
        return sealed_late_count(seal, table, bucketing, start, end)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def __enter__(self) -> ReadRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.reads.update(
            t.name for t in find_tables(statement, include_crud=True) if isinstance(t, Table)
        )
        return self.conn.execute(statement, *args, **kwargs)
