"""Persistence: eventsourcing-sqlalchemy with the hash chain written in the same transaction.

The only module of ``ledger`` that imports SQLAlchemy (with ``ledger.uuid_column``, the
events table's UUID column type, which spares every command SQLAlchemy-Utils' import).
The measurements behind the design are in docs/BENCHMARKS.md:

* The chain columns live in the events row (no separate chain table, no head table):
  the head is the row with the highest ``position``, found through its UNIQUE index.
* The append itself (statements, lock order, hashing, retries) is ``ledger.chain_sql``,
  shared with ``ledger.dbapi_store``, the recorder a command line act uses without
  importing SQLAlchemy; this module adds the SQLAlchemy datastore, pool and table.
* Rows are written through a DB-API connection (the ORM insert path caps a chained
  recorder near 0.8x the stock one). A save that owns its transaction (the usual case)
  takes a pooled connection without a SQLAlchemy ``Session``; inside a caller's
  transaction (``session=`` or one already open) the session's own connection is used.
* Reads of the events (one aggregate's, or the log in id order) are one plain SELECT
  each on a pooled DB-API connection, the rows the library's ORM query returns (tested
  against it): the ORM's query building and row objects were most of the time to load
  an aggregate. Inside a caller's transaction the library's own query reads on it.
* PostgreSQL, owned save: the chain hashes the notification ids and the act is signed
  over the entries, so the head and the ids must be known before the INSERT. A recorder
  that wrote the head itself knows them: it builds the rows on its last save and sends
  everything in ONE pipelined round trip (BEGIN, lock, NOTIFY, a guard, INSERT,
  COMMIT); the guard, run with the lock held, aborts the save unless the head and the
  highest id are still that save's, and moves the id sequence past the ids chosen.
  Otherwise (its first save, or another writer wrote since) two round trips: BEGIN,
  lock, NOTIFY, the head and the new ids in one multi-statement text; the INSERT and
  the COMMIT pipelined in the other. A guess that misses costs one more round trip,
  writes nothing, and is not tried again while other writers keep moving the head: each
  miss doubles the saves made the two-round-trip way before the next guess. Threads
  sharing a recorder share its guess; a stale one only misses.
* One lock order everywhere: take the write lock first, then read the head, then
  insert. SQLite: ``BEGIN IMMEDIATE``. PostgreSQL: ``LOCK TABLE ... IN EXCLUSIVE MODE``
  under ``SET LOCAL lock_timeout``. ``UNIQUE(position)`` turns any fork into an error.
* Every save is one signed act (R25): the application passes an ``ActRequest``; with the
  lock held the recorder reads the clock (R26), refuses a time more than
  ``CLOCK_TOLERANCE`` behind the head's, and signs the act's statement into the ``act``
  column of its last row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from sqlalchemy import BigInteger, Column, Engine, Integer, LargeBinary, make_url
from sqlalchemy.orm import Session

from ledger.acts import ActRequest
from ledger.chain_sql import (
    DEFAULT_LOCK_RETRIES,
    DEFAULT_LOCK_TIMEOUT_S,
    ChainSQL,
    is_lock_wait,
)
from ledger.errors import NOTHING_DESTROYED, ServerClockReplaced
from ledger.uuid_column import library_models

# First, so the library's models are imported without SQLAlchemy-Utils (ledger.uuid_column).
library_models()

from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore, transactions  # noqa: E402
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory  # noqa: E402
from eventsourcing_sqlalchemy.models import (  # type: ignore[attr-defined]  # noqa: E402
    StoredEventRecord,
)
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder  # noqa: E402

_T = TypeVar("_T")


class ChainedStoredEventRecord(StoredEventRecord):  # type: ignore[misc]
    """The stock event row plus the chain columns (nullable so tampering can be stored
    and then found: a row without a chain entry is reported as "inserted")."""

    __abstract__ = True
    # define_record_class reads __table_args__ from the base's own __dict__: without this
    # line the UNIQUE (originator_id, originator_version) index would silently vanish.
    __table_args__ = StoredEventRecord.__table_args__

    position = Column(BigInteger().with_variant(Integer(), "sqlite"), unique=True, nullable=True)
    state_digest = Column(LargeBinary(), nullable=True)
    prev_hash = Column(LargeBinary(), nullable=True)
    entry_hash = Column(LargeBinary(), nullable=True)
    act = Column(LargeBinary(), nullable=True)  # the signed act record, on an act's last row


class ChainedDatastore(SQLAlchemyDatastore):
    base_stored_event_record_cls = ChainedStoredEventRecord
    # define_record_class caches by table name at class level: keep our own cache so a
    # stock recorder and a chained one never share a record class.
    record_classes: dict[str, Any] = {}  # noqa: RUF012

    def init_sqlite_wal_mode(self) -> None:
        """Switch a SQLite file to WAL once, whichever thread gets here first.

        The library checks "already in WAL?" outside its lock, so threads that start
        their first transactions together each send ``PRAGMA journal_mode=WAL``; a
        later one can meet the first one's write and fail with "database is locked"
        (seen in the recorder contract's concurrent test). Check again under the lock,
        and wait out a lock held by another process."""
        with self._wal_mode_lock:
            if self.is_sqlite_wal_mode:
                self._tried_init_sqlite_wal_mode = True
                return
            self._tried_init_sqlite_wal_mode = True
            if not self.is_sqlite_filedb:
                return
            engine = self.engine
            assert isinstance(engine, Engine)
            for attempt in range(20):
                try:
                    with engine.connect() as connection:
                        mode = connection.exec_driver_sql("PRAGMA journal_mode=WAL").scalar()
                    self.is_sqlite_wal_mode = mode == "wal"
                    return
                except Exception as e:  # sqlalchemy's OperationalError wraps sqlite3's
                    if not is_lock_wait(e) or attempt == 19:
                        raise
                    time.sleep(0.05 * (attempt + 1))


# The server's clock as seconds since the epoch, and what its function is: built in
# (language internal, its C source named clock_timestamp) unless someone redefined it.
_SERVER_CLOCK_SQL = (
    "SELECT pg_catalog.clock_timestamp(), l.lanname, p.prosrc "
    "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang "
    "WHERE p.oid = 'pg_catalog.clock_timestamp()'::pg_catalog.regprocedure"
)


class ChainedApplicationRecorder(ChainSQL, SQLAlchemyApplicationRecorder):
    """Application recorder that appends every stored event to ONE global hash chain
    (the statements and the append: ``ledger.chain_sql``)."""

    def __init__(
        self,
        *args: Any,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        lock_retries: int = DEFAULT_LOCK_RETRIES,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        engine = self.datastore.engine
        assert engine is not None
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ProgrammingError(
                f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL"
            )
        self._init_chain_sql(
            dialect=engine.dialect.name,
            dbapi=engine.dialect.dbapi,
            table=(
                f"{self.schema_name}.{self.events_table_name}"
                if self.schema_name
                else self.events_table_name
            ),
            channel=self.channel_name,
            lock_timeout_s=lock_timeout_s,
            lock_retries=lock_retries,
        )

    def server_clock(
        self, host_clock: Callable[[], datetime]
    ) -> tuple[datetime, datetime, datetime] | None:
        """The database server's clock (``clock_timestamp()``) between two readings of
        ``host_clock``: (before, the server's, after); None on SQLite, whose time is this
        host's own (``ClockCommands.server_time``). ServerClockReplaced if the function is
        not PostgreSQL's own (a superuser can redefine it in ``pg_catalog``: red team,
        session 18, a clock 40 days ahead then agreed with the server's). The timestamp
        comes in PostgreSQL's binary form (microseconds since 2000-01-01 UTC), converted
        here: no other SQL function touches it (``date_part``, once used to get epoch
        seconds, can be redefined too: the session 18 review), and no ``DateStyle`` of the
        connection changes how it parses."""
        if self.dialect != "postgresql":
            return None
        engine = self.datastore.engine
        assert engine is not None
        proxy = engine.raw_connection()  # type: ignore[union-attr]
        try:
            conn: Any = proxy.driver_connection
            cur = conn.cursor(binary=True)
            before = host_clock()
            cur.execute(_SERVER_CLOCK_SQL)
            server, language, source = cur.fetchone()
            after = host_clock()
            cur.close()
            proxy.rollback()
        finally:
            proxy.close()
        if (language, source) != ("internal", "clock_timestamp"):
            raise ServerClockReplaced(
                f"the database server's clock_timestamp() is not PostgreSQL's own (language "
                f"{language!r}, source {str(source)[:60]!r}): someone with superuser rights "
                "redefined it, so the server's clock cannot vouch for this one; "
                f"{NOTHING_DESTROYED}"
            )
        return before, server.astimezone(UTC), after

    def stored_pages(
        self, start: int, page: int, stop: int | None = None
    ) -> Iterator[list[tuple[int, bytes, int, str, bytes]]]:
        """The event rows from notification id ``start`` (to ``stop``), in pages of up to
        ``page`` rows: ``(id, originator_id as 16 bytes, version, topic, state)``, state
        as stored (encrypted). Raw DB-API on one connection, one short read per page
        (keyset on ``id``), so no read transaction stays open while the caller writes.
        Used by the read models' rebuild, which decodes the states elsewhere."""
        uuid_expr = "uuid_send(originator_id)" if self.dialect == "postgresql" else "originator_id"
        p = "?" if self.dialect == "sqlite" else "%s"
        bound = f" AND id <= {p}" if stop is not None else ""
        sql = (
            f"SELECT id, {uuid_expr}, originator_version, topic, state FROM {self.table} "
            f"WHERE id >= {p}{bound} ORDER BY id LIMIT {int(page)}"
        )
        engine = self.datastore.engine
        assert engine is not None
        proxy = engine.raw_connection()  # type: ignore[union-attr]
        try:
            conn: Any = proxy.driver_connection
            while True:
                params = (start, stop) if stop is not None else (start,)
                cur = conn.cursor()
                cur.execute(sql, params)
                rows = cur.fetchall()
                cur.close()
                proxy.rollback()  # end the read: WAL checkpoints and VACUUM are not held up
                if not rows:
                    return
                yield [(r[0], bytes(r[1]), r[2], r[3], bytes(r[4])) for r in rows]
                start = rows[-1][0] + 1
        finally:
            proxy.close()

    def select_events(
        self,
        originator_id: UUID | str,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """One aggregate's events, as the library's recorder returns them, by one plain
        SELECT (``ChainSQL._select_events_on``, ``_read_plain``)."""
        if self._in_callers_transaction():
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return self._read_plain(
            lambda conn: self._select_events_on(conn, originator_id, gt, lte, desc, limit)
        )

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        """The log in id order, as the library's recorder returns it, by one plain SELECT
        (``ChainSQL._select_notifications_on``, ``_read_plain``)."""
        if self._in_callers_transaction():
            return super().select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
        return self._read_plain(
            lambda conn: self._select_notifications_on(
                conn, start, limit, stop, topics, inclusive_of_start
            )
        )

    def _in_callers_transaction(self) -> bool:
        """A transaction the caller opened (eventsourcing-sqlalchemy's, or a scoped
        session): reads go through the library's query on its connection, which sees
        what that transaction wrote."""
        return transactions.get(None) is not None or self.datastore.scoped_session is not None

    def _read_plain(self, read: Callable[[Any], _T]) -> _T:
        """``read`` on a pooled DB-API connection, without a SQLAlchemy ``Session`` or the
        ORM's query and row objects, which were most of the time to load an aggregate
        (460 against 35 us) and ~4x the time per row of the log (docs/BENCHMARKS.md)."""
        datastore = self.datastore
        if not datastore._tried_init_sqlite_wal_mode:
            datastore.init_sqlite_wal_mode()
        lock = datastore.access_lock  # SQLite in memory: one connection, one user at a time
        if lock is not None:
            lock.acquire()
        try:
            proxy = datastore.engine.raw_connection()  # type: ignore[union-attr]
            conn: Any = proxy.driver_connection
            # PostgreSQL: the SELECT alone, in autocommit, so no ROLLBACK round trip follows
            # it when the pool takes the connection back (pysqlite begins no transaction
            # for a SELECT).
            postgres = self.dialect == "postgresql"
            try:
                if postgres:
                    conn.autocommit = True
                with self._persistence_errors():
                    return read(conn)
            finally:
                if postgres:
                    try:
                        conn.autocommit = False
                    except self.dbapi.Error:  # a broken connection: not back into the pool
                        proxy.invalidate()
                proxy.close()
        finally:
            if lock is not None:
                lock.release()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert in one transaction; a save that owns its transaction is retried while
        the write lock stays taken (``ChainSQL._with_lock_retries``). Inside a caller's
        transaction (``session=`` given, or one already open) the error is not retried.
        """
        if kwargs.get("session") is None and transactions.get(None) is None:
            return self._with_lock_retries(
                lambda: self._insert_owned(stored_events, kwargs.get("act"))
            )
        return super().insert_events(stored_events, **kwargs)

    def _insert_owned(
        self, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> Sequence[int]:
        """A save that owns its transaction, on a pooled DB-API connection without a
        SQLAlchemy ``Session`` (its set-up and tear-down were ~38% of a one-event save on
        SQLite). The same lock order and rows as inside a caller's transaction
        (``_insert_stored_events``); on PostgreSQL one round trip when the recorder
        wrote the head itself, else two (``ChainSQL._save_postgres``).

        The library's own SQLite path silently drops a failed COMMIT while its in-process
        write lock is held; this one raises it."""
        if not stored_events:
            return []
        datastore = self.datastore
        if not datastore._tried_init_sqlite_wal_mode:
            datastore.init_sqlite_wal_mode()
        lock = datastore.access_lock or datastore.write_lock  # SQLite: one writer per process
        if lock is not None:
            lock.acquire()
        try:
            proxy = datastore.engine.raw_connection()  # type: ignore[union-attr]
            try:
                return self._owned_save(proxy.driver_connection, stored_events, act)
            finally:
                proxy.close()
        finally:
            if lock is not None:
                lock.release()

    # The parent's ORM path is replaced, not extended (see module docstring).
    def _insert_stored_events(
        self,
        session: Session,
        stored_events: Sequence[StoredEvent],
        act: ActRequest | None = None,
        **kwargs: Any,
    ) -> Sequence[int]:
        """``act`` None writes rows that belong to no act: ``verify`` reports them as
        unsigned (only the library's own recorder contract tests do that)."""
        if not stored_events:
            return []
        dbapi_conn = session.connection().connection.driver_connection
        try:
            if self.dialect == "sqlite":
                return self._insert_sqlite(dbapi_conn, stored_events, act)
            return self._insert_postgres(dbapi_conn, stored_events, act)
        except self.dbapi.IntegrityError as e:  # type: ignore[union-attr]
            raise IntegrityError(e) from e
        except self.dbapi.OperationalError as e:  # type: ignore[union-attr]
            raise OperationalError(e) from e


class PingedDatastore(ChainedDatastore):
    """A datastore whose pool tests each connection before handing it out
    (``pool_pre_ping``): one the database server closed while it sat idle in the pool
    (idle timeout, restart, ``pg_terminate_backend``) is replaced instead of failing the
    caller. For a long-running process (the dashboard); a command's pool lives seconds."""

    def __init__(self, *, url: str | None = None, **kwargs: Any) -> None:
        if url and not url.startswith("sqlite"):
            kwargs.setdefault("pool_pre_ping", True)
        super().__init__(url=url, **kwargs)


class ChainedFactory(SQLAlchemyFactory):
    """Infrastructure factory: PERSISTENCE_MODULE=ledger.store:ChainedFactory."""

    LOCK_TIMEOUT = "LOCK_TIMEOUT"
    LOCK_RETRIES = "LOCK_RETRIES"
    POOL_PRE_PING = "POOL_PRE_PING"  # "y": PingedDatastore
    datastore_class: type[ChainedDatastore] = ChainedDatastore
    application_recorder_class = ChainedApplicationRecorder

    def __init__(self, env: Any) -> None:
        if (env.get(self.POOL_PRE_PING) or "n") == "y":
            self.datastore_class = PingedDatastore
        super().__init__(env)

    def application_recorder(self) -> ChainedApplicationRecorder:  # type: ignore[override]
        prefix = self.env.name.lower() or "stored"
        recorder = ChainedApplicationRecorder(
            datastore=self.datastore,
            events_table_name=prefix + "_events",
            schema_name=self._schema_name,
            lock_timeout_s=float(self.env.get(self.LOCK_TIMEOUT) or DEFAULT_LOCK_TIMEOUT_S),
            lock_retries=int(self.env.get(self.LOCK_RETRIES) or DEFAULT_LOCK_RETRIES),
        )
        if self.env_create_table() and recorder.datastore.engine is not None:
            create_search_path_schema(recorder.datastore.engine)
            recorder.create_table()
        return recorder


def search_path_schema(url: str) -> str | None:
    """The schema a PostgreSQL URL's ``options=-csearch_path=NAME`` puts every table in
    (one library's ledger in a consortium's database), or None."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return None
    options = parsed.query.get("options")
    for option in (options,) if isinstance(options, str) else options or ():
        for part in option.split():
            if part.startswith("-csearch_path="):
                return part.removeprefix("-csearch_path=").split(",")[0].strip('"') or None
    return None


def create_search_path_schema(engine: Any) -> None:
    """Create the URL's search-path schema if it is missing (``init`` of a consortium
    member's ledger); its tables are then created inside it by their plain names."""
    schema = search_path_schema(engine.url.render_as_string(hide_password=False))
    if schema is None:
        return
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def redact_url(url: str) -> str:
    """The database URL as it may be shown: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"
