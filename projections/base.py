"""Read models: SQLAlchemy tables kept from the ledger's notification log.

Each projection owns its tables and writes its rows and its tracking position in ONE
transaction, so a crash never leaves rows without the position that produced them (or
the reverse). ``eventsourcing``'s ``ProjectionRunner`` needs ``subscribe()``, which the
SQLAlchemy recorder lacks on SQLite, so we catch up by polling
``select_notifications`` (NOTES-eventsourcing.md). The events are read first and the
view's transaction opened afterwards: eventsourcing-sqlalchemy keeps its current
transaction in a context variable.

Any projection can be dropped and rebuilt from the log; a rebuild equals the one kept
incrementally (tested).

Catch-up applies a page of events in one transaction through a ``PageWriter``: the rows a
projection adds with ``insert_row`` (and the keyed updates of ``update_row``) are queued
and written with one ``executemany`` per run of same-shaped statements, in order. Any
other statement first writes the queue if it touches a table with queued rows, so every
read sees every earlier write (read-your-writes, the same rows as one statement per row).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Delete,
    Engine,
    Insert,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Update,
    bindparam,
    create_engine,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.util import find_tables

from ledger.app import Ledger
from ledger.errors import LedgerBusy
from ledger.store import is_lock_wait
from projections.seal import (
    SEALS_METADATA,
    Sealer,
    SealInvalid,
    read_seal,
    seal_key,
    seals,
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
# Another process catching up the same read models makes ours lose a race now and then
# (its page committed first). The page's transaction rolled back; start again from the
# positions as they are now. Each lost race means the other process made progress.
RACE_RETRIES = 20


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

    def __init__(self, conn: Connection, sealer: Sealer | None = None) -> None:
        self.conn = conn
        # Seals (R29): every write's effect on its table's digest, for the page's seal.
        self.sealer = sealer
        # Per table, its queued statements in order: (shape, parameters).
        self._queue: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}
        self._statements: dict[tuple[Any, ...], Any] = {}
        self._touches: dict[Any, frozenset[str]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def insert_row(self, table: Table, **values: Any) -> None:
        """``INSERT INTO table`` one row, batched with the rows queued after it."""
        if self.sealer is not None:
            self.sealer.touch_new(table, _key_of(table, values))
        shape = ("insert", table, tuple(values))
        self._queue.setdefault(table.name, []).append((shape, values))

    def update_row(self, table: Table, key_column: str, key: Any, **values: Any) -> None:
        """``UPDATE table SET values WHERE key_column = key``, batched like inserts."""
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
            for name in touches & self._queue.keys():
                self._write(self._queue.pop(name))
        if self.sealer is not None and isinstance(statement, Insert | Update | Delete):
            return self._sealed_execute(statement, *args, **kwargs)
        return self.conn.execute(statement, *args, **kwargs)

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

    def flush(self) -> None:
        """Write everything queued. Tables are independent (no foreign keys or triggers
        between read models), so each table's statements are written in their order."""
        queue, self._queue = self._queue, {}
        for ops in queue.values():
            self._write(ops)

    def _write(self, ops: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> None:
        i = 0
        while i < len(ops):
            shape = ops[i][0]
            j = i + 1
            while j < len(ops) and ops[j][0] == shape:
                j += 1
            params = [p for _s, p in ops[i:j]]
            if self.sealer is not None and shape[0] == "update":
                self._sealed_updates(shape, params)
            else:  # inserts were counted from their values when queued
                self.conn.execute(self._statement(shape), params)
            i = j

    def _sealed_updates(self, shape: tuple[Any, ...], params: list[dict[str, Any]]) -> None:
        """A run of keyed updates, the rows they select noted for the seal first."""
        assert self.sealer is not None
        table, key_column = shape[1], shape[2]
        keys = list(dict.fromkeys(p["_key"] for p in params))
        for k in range(0, len(keys), 500):
            self.sealer.touch_where(self.conn, table, table.c[key_column].in_(keys[k : k + 500]))
        self.conn.execute(self._statement(shape), params)

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


def _key_of(table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return tuple(values[c.name] for c in table.primary_key.columns)
    except KeyError:
        raise NotImplementedError(
            f"sealed read models: an insert into {table.name} must give its primary key"
        ) from None


def tracked_position(conn: Connection, name: str) -> int:
    """How far projection ``name`` has read the log (0: not yet)."""
    value = conn.execute(select(tracking.c.position).where(tracking.c.projection == name)).scalar()
    return int(value or 0)


def insert_row(conn: Connection | PageWriter, table: Table, **values: Any) -> None:
    """Insert one row: queued when ``conn`` is a ``PageWriter``, else executed now."""
    if isinstance(conn, PageWriter):
        conn.insert_row(table, **values)
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
    projection never swallows one (STYLE.md).
    """

    name: ClassVar[str]
    metadata: ClassVar[MetaData]
    # Event class names this projection reads; empty means all.
    kinds: ClassVar[frozenset[str]] = frozenset()

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        raise NotImplementedError

    def prepare(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """Called with a page's events (those of ``kinds``) before they are handled, in
        the same transaction: a projection may read what the page needs in one query."""


def _create_missing_indexes(engine: Engine, projections: Sequence[Projection]) -> None:
    """Indexes added to a read model after its tables were created (``create_all`` only
    creates those of new tables)."""
    with engine.begin() as conn:
        for p in projections:
            for table in p.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)


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
        exactly as it was then (event sourcing gives it for free), never stored.
        ``scratch``: an empty in-memory store to replay into (``projections.seal``).
        Only the views kept in the database are sealed (R29); the in-memory ones are
        built from the log by this process and never stored.
        """
        self.ledger = ledger
        self.projections = list(projections)
        self.as_of = as_of
        self.sealed = as_of is None and not scratch
        # When a set: the names of the tables read through ``connect()`` (ReadRecorder).
        self.reads: set[str] | None = None
        self._seal_key: bytes | None = None
        if self.sealed:
            url = ledger.chained_recorder.datastore.engine.url  # type: ignore[union-attr]
            self.engine: Engine = create_engine(url)
        else:
            if as_of is not None and as_of.tzinfo is None:
                raise ValueError("as_of must be timezone-aware")
            self.engine = create_engine("sqlite://", poolclass=StaticPool)
        _create_tables(self.engine, self.projections, indexes=self.sealed)

    def seal_key(self) -> bytes:
        if self._seal_key is None:
            self._seal_key = seal_key(self.ledger)
        return self._seal_key

    def close(self) -> None:
        self.engine.dispose()

    def position(self, projection: Projection) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(tracking.c.position).where(tracking.c.projection == projection.name)
            ).scalar()
        return int(value or 0)

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        stop: int | None = None,
    ) -> int:
        """Apply every event not yet seen; returns how many notifications were read."""
        positions = {p.name: self.position(p) for p in self.projections}
        if not positions:
            return 0
        read = races = 0
        while True:
            start = min(positions.values()) + 1
            # Read first (the ledger's own transaction ends), then write the views.
            notifications = self.ledger.recorder.select_notifications(start, PAGE, stop=stop)
            if not notifications:
                return read
            events = [(n.id, self.ledger.mapper.to_domain_event(n)) for n in notifications]
            if self.as_of is not None:
                events = [(i, e) for i, e in events if e.timestamp <= self.as_of]  # type: ignore[attr-defined]
            # One transaction per page for every projection: each one's rows and its
            # position still commit together (one commit per page, not per projection).
            try:
                with self.engine.begin() as conn:
                    for p in self.projections:
                        self._apply(conn, p, positions[p.name], events)
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
            for p in self.projections:
                positions[p.name] = notifications[-1].id
            read += len(notifications)
            if progress is not None:
                progress(len(notifications))

    def _apply(
        self, conn: Connection, p: Projection, done: int, events: Iterable[tuple[int, Any]]
    ) -> None:
        todo = [(i, e) for i, e in events if i > done]
        if not todo:
            return
        events_last = todo[-1][0]
        writer = PageWriter(conn, Sealer(self.seal_key()) if self.sealed else None)
        kinds = p.kinds
        if kinds:
            todo = [(i, e) for i, e in todo if type(e).__name__ in kinds]
        p.prepare(writer, todo)  # type: ignore[arg-type]
        for notification_id, event in todo:
            p.handle(writer, notification_id, event)  # type: ignore[arg-type]
        writer.flush()
        if writer.sealer is not None:
            writer.sealer.finish(conn)
        last = events_last
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
                old = read_seal(conn, writer.sealer.key, p, done)
            except SealInvalid:
                # A seal that fails (or none, from before seals) is never extended: the
                # next check reports it, and only a rebuild seals the projection again.
                return
            write_seal(conn, writer.sealer.key, p, old, last, writer.sealer)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop every table of these projections and replay the whole log into them."""
        with self.engine.begin() as conn:
            for p in self.projections:
                p.metadata.drop_all(conn)
                conn.execute(tracking.delete().where(tracking.c.projection == p.name))
                conn.execute(seals.delete().where(seals.c.projection == p.name))
            for p in self.projections:
                p.metadata.create_all(conn)
        return self.catch_up(progress=progress)

    def connect(self) -> Connection:
        conn = self.engine.connect()
        if self.reads is None:
            return conn
        return ReadRecorder(conn, self.reads)  # type: ignore[return-value]


class ReadRecorder:
    """A connection that notes every table its statements read (``Views.reads``), so a
    command's read models are checked exactly where it read them (R29)."""

    def __init__(self, conn: Connection, reads: set[str]) -> None:
        self.conn = conn
        self.reads = reads

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
