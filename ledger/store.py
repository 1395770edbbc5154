"""Persistence: eventsourcing-sqlalchemy with the hash chain written in the same transaction.

The only module of ``ledger`` that imports SQLAlchemy (with ``ledger.uuid_column``, the
events table's UUID column type, which spares every command SQLAlchemy-Utils' import). See NOTES-eventsourcing.md for
the measurements behind the design:

* The chain columns live in the events row (no separate chain table, no head table):
  the head is the row with the highest ``position``, found through its UNIQUE index.
* Rows are written through a DB-API connection (the ORM insert path caps a chained
  recorder near 0.8x the stock one). A save that owns its transaction (the usual case)
  takes a pooled connection without a SQLAlchemy ``Session``; inside a caller's
  transaction (``session=`` or one already open) the session's own connection is used.
* PostgreSQL, owned save: two round trips. BEGIN, lock, NOTIFY, the head and the new
  ids in one multi-statement text; the INSERT and the COMMIT pipelined in the other.
  The chain hashes the notification ids and the act is signed over the entries, so the
  head and the ids must be known before the INSERT: two round trips is the floor.
* One lock order everywhere: take the write lock first, then read the head, then
  insert. SQLite: ``BEGIN IMMEDIATE``. PostgreSQL: ``LOCK TABLE ... IN EXCLUSIVE MODE``
  under ``SET LOCAL lock_timeout``. ``UNIQUE(position)`` turns any fork into an error.
* Every save is one signed act (R25): the application passes an ``ActRequest``; with the
  lock held the recorder reads the clock (R26), refuses a time more than
  ``CLOCK_TOLERANCE`` behind the head's, and signs the act's statement into the ``act``
  column of its last row.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from sqlalchemy import BigInteger, Column, Engine, Integer, LargeBinary, make_url
from sqlalchemy.orm import Session

from ledger.acts import ActRequest, act_time
from ledger.chain import DIGEST_SIZE, GENESIS, ChainBroken, Damage, chain_rows
from ledger.clock import CLOCK_TOLERANCE
from ledger.errors import ClockBehind, LedgerBusy
from ledger.uuid_column import library_models

# First, so the library's models are imported without SQLAlchemy-Utils (ledger.uuid_column).
library_models()

from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore, transactions  # noqa: E402
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory  # noqa: E402
from eventsourcing_sqlalchemy.models import (  # type: ignore[attr-defined]  # noqa: E402
    StoredEventRecord,
)
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder  # noqa: E402

DEFAULT_LOCK_TIMEOUT_S = 10
DEFAULT_LOCK_RETRIES = 2


def is_lock_wait(error: BaseException) -> bool:
    """True when ``error`` (or what it wraps) is a write-lock wait that timed out:
    SQLite "database is locked"/"busy" after its busy timeout, PostgreSQL
    ``lock_not_available`` (SQLSTATE 55P03) after ``lock_timeout``."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) == "55P03":
            return True
        if type(seen).__module__ == "sqlite3" and type(seen).__name__ == "OperationalError":
            text = str(seen).casefold()
            return "locked" in text or "busy" in text
        seen = seen.__cause__ or seen.__context__
    return False


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


class ChainedApplicationRecorder(SQLAlchemyApplicationRecorder):
    """Application recorder that appends every stored event to ONE global hash chain."""

    def __init__(
        self,
        *args: Any,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        lock_retries: int = DEFAULT_LOCK_RETRIES,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.lock_timeout_s = float(lock_timeout_s)
        self.lock_retries = max(0, int(lock_retries))
        self._last_act: tuple[bytes, Any] | None = None  # (entry hash, time) of our last act
        engine = self.datastore.engine
        assert engine is not None
        self.dialect = engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise ProgrammingError(
                f"unsupported database {self.dialect!r}: use SQLite or PostgreSQL"
            )
        self.dbapi = engine.dialect.dbapi
        self.table = (
            f"{self.schema_name}.{self.events_table_name}"
            if self.schema_name
            else self.events_table_name
        )
        placeholder = "?" if self.dialect == "sqlite" else "%s"
        columns = (
            "id, originator_id, originator_version, topic, state, "
            "position, state_digest, prev_hash, entry_hash, act"
        )
        self._insert_sql = (
            f"INSERT INTO {self.table} ({columns}) VALUES ({', '.join([placeholder] * 10)})"
        )
        # SQLite's rows without an act (all but an act's last): the act column left out.
        self._insert_no_act_sql = (
            f"INSERT INTO {self.table} ({columns.removesuffix(', act')}) "
            f"VALUES ({', '.join([placeholder] * 9)})"
        )
        self._head_sql = (
            f"SELECT position, entry_hash, act FROM {self.table} "
            "WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
        )
        # SQLite: the head and the highest id in ONE statement (always one row). The head
        # is joined as the row at max(position) (the same row as ``_head_sql``'s ORDER BY
        # ... DESC LIMIT 1, SQLite ordering NULLs first and mixed types alike): a
        # LIMIT subquery here was materialised into a temporary table on every save
        # (~17,000 instructions, a page zeroed and freed), a lookup in the UNIQUE index
        # is not.
        self._sqlite_read_sql = (
            f"SELECT (SELECT max(id) FROM {self.table}), h.position, h.entry_hash, h.act "
            f"FROM (SELECT 1) LEFT JOIN {self.table} AS h "
            f"ON h.position = (SELECT max(position) FROM {self.table})"
        )
        self._pg_lock_sql = (
            f"SET LOCAL lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'; "
            f"LOCK TABLE {self.table} IN EXCLUSIVE MODE; "
            f"NOTIFY {self.channel_name}; "
        )
        self._pg_ids_sql = (
            f"SELECT nextval(pg_get_serial_sequence('{self.table}', 'id')) "
            "FROM generate_series(1, {n})"
        )

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

    def _head_time(self, head: tuple[int, bytes, bytes | None] | None) -> Any:
        """The head act's recorded time: remembered when this recorder wrote the head (its
        entry hash identifies it, committed or not), else read from its record."""
        if head is None:
            return None
        cached = self._last_act
        if cached is not None and bytes(head[1]) == cached[0]:
            return cached[1]
        return act_time(bytes(head[2]) if head[2] is not None else None)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert in one transaction; if the write lock stays taken past the timeout,
        try again up to ``lock_retries`` times, then raise ``LedgerBusy``.

        Retrying is safe only here, where this call owns the transaction: a timed-out
        attempt rolled back completely, so nothing of it was recorded. Inside a caller's
        transaction (``session=`` given, or one already open) the error is not retried.
        """
        owned = kwargs.get("session") is None and transactions.get(None) is None
        attempt = 0
        while True:
            try:
                if owned:
                    return self._insert_owned(stored_events, kwargs.get("act"))
                return super().insert_events(stored_events, **kwargs)
            except OperationalError as e:
                if not (owned and is_lock_wait(e)):
                    raise
                attempt += 1
                if attempt > self.lock_retries:
                    raise LedgerBusy(attempts=attempt, detail=_first_line(e)) from e
                time.sleep(random.uniform(0.05, 0.25) * attempt)  # noqa: S311 - jitter only

    def _insert_owned(
        self, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> Sequence[int]:
        """A save that owns its transaction, on a pooled DB-API connection without a
        SQLAlchemy ``Session`` (its set-up and tear-down were ~38% of a one-event save on
        SQLite). The same statements and lock order as inside a caller's transaction
        (``_insert_stored_events``); on PostgreSQL two round trips in all: BEGIN, lock,
        NOTIFY, head and ids in one; the INSERT and COMMIT pipelined in the other.

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
                conn: Any = proxy.driver_connection
                try:
                    if self.dialect == "sqlite":
                        ids = self._insert_sqlite(conn, stored_events, act)
                        conn.commit()
                    else:
                        ids = self._save_postgres(conn, stored_events, act)
                except BaseException:
                    _rollback_quietly(conn)
                    raise
            finally:
                proxy.close()
        except self.dbapi.IntegrityError as e:  # type: ignore[union-attr]
            raise IntegrityError(e) from e
        except self.dbapi.OperationalError as e:  # type: ignore[union-attr]
            raise OperationalError(e) from e
        except self.dbapi.Error as e:  # type: ignore[union-attr]
            raise PersistenceError(e) from e
        finally:
            if lock is not None:
                lock.release()
        return ids

    def _save_postgres(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        """The whole save in two round trips: the connection in autocommit mode for the
        save, so BEGIN travels in the first statement text rather than on its own."""
        conn.autocommit = True
        try:
            cur = conn.cursor()
            # Literals only: psycopg runs several statements in one call only without
            # parameters; each statement's result is a set of its own, in order.
            cur.execute("BEGIN; " + self._pg_prelude(len(stored_events)))
            cur.nextset()  # BEGIN
            ids, rows = self._pg_rows(cur, stored_events, act)
            with conn.pipeline():
                cur.executemany(self._insert_sql, rows)
                cur.execute("COMMIT")
            return ids
        finally:
            _rollback_quietly(conn)  # nothing to do after COMMIT
            try:
                conn.autocommit = False
            except Exception:  # noqa: S110 - broken connection: the pool discards it
                pass

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

    def _insert_sqlite(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        # pysqlite begins lazily: take the write lock before reading the head.
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        cur = conn.cursor()
        max_id, *head_row = cur.execute(self._sqlite_read_sql).fetchone()
        head = tuple(head_row) if head_row[0] is not None else None
        max_id = max_id or 0
        ids = list(range(max_id + 1, max_id + 1 + len(stored_events)))
        self._write_sqlite(cur, self._rows(ids, stored_events, head, act, sqlite=True))
        return ids

    def _write_sqlite(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        """Insert ``chain_rows(..., sqlite=True)``: the rows without an act in one
        ``executemany`` that leaves the act column out, an act's last row on its own."""
        if len(rows[-1]) == 9:
            cur.executemany(self._insert_no_act_sql, rows)
            return
        if len(rows) > 1:
            cur.executemany(self._insert_no_act_sql, rows[:-1])
        cur.execute(self._insert_sql, rows[-1])

    def _insert_postgres(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        cur = conn.cursor()
        # ONE round trip takes the lock, reads the head and draws the ids.
        cur.execute(self._pg_prelude(len(stored_events)))
        ids, rows = self._pg_rows(cur, stored_events, act)
        cur.executemany(self._insert_sql, rows)
        return ids

    def _pg_prelude(self, n: int) -> str:
        """SET LOCAL lock_timeout; LOCK TABLE; NOTIFY; the head; ``n`` new ids."""
        return f"{self._pg_lock_sql}{self._head_sql}; {self._pg_ids_sql.format(n=int(n))}"

    def _pg_rows(
        self, cur: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> tuple[list[int], list[tuple[Any, ...]]]:
        """Read the prelude's results (cursor on its first statement) and build the rows."""
        for _ in range(3):  # SET, LOCK, NOTIFY: no rows
            cur.nextset()
        head = cur.fetchone()
        cur.nextset()
        ids = [r[0] for r in cur.fetchall()]
        return ids, self._rows(ids, stored_events, head, act, sqlite=False)

    def _rows(
        self,
        ids: list[int],
        stored_events: Sequence[StoredEvent],
        head: tuple[int, bytes, bytes | None] | None,
        act: ActRequest | None,
        *,
        sqlite: bool,
    ) -> list[tuple[Any, ...]]:
        if head and (
            type(head[0]) is not int
            or not isinstance(head[1], bytes | memoryview)
            or len(head[1]) != DIGEST_SIZE
        ):
            # SQLite keeps any type in any column: a damaged head is not extended.
            raise ChainBroken(
                Damage(0, "edited", "the chain's last entry holds a value of the wrong type")
            )
        head_position, head_hash = (head[0], bytes(head[1])) if head else (0, GENESIS)
        sealer = None
        if act is not None:
            moment = act.clock()
            last = self._head_time(head)
            if last is not None and moment < last - CLOCK_TOLERANCE:
                raise ClockBehind(moment, last)
            sealer = act.sealer(moment)
        rows = chain_rows(ids, stored_events, head_position, head_hash, sealer, sqlite=sqlite)
        if act is not None:
            self._last_act = (bytes(rows[-1][8]), moment)  # type: ignore[call-overload]
        return rows


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


def _rollback_quietly(conn: Any) -> None:
    """Roll back what the connection has open, if anything (the original error, if any,
    is the one to report)."""
    try:
        conn.rollback()
    except Exception:  # noqa: S110 - a broken connection: the pool discards it
        pass


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def redact_url(url: str) -> str:
    """The database URL as it may be shown: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"
