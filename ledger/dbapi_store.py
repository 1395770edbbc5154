"""The ledger's events through the DB-API alone: a command line act without SQLAlchemy.

Importing SQLAlchemy, its ORM and eventsourcing-sqlalchemy is over half of what a one-event
act of the command line executes (docs/BENCHMARKS.md, issue 16, speed a person feels),
though the act's own work is a few indexed reads and one append. ``DbapiRecorder`` is an
eventsourcing application recorder on one ``sqlite3`` or ``psycopg`` connection: its
reads are plain SELECTs on the events table, and every append goes through
``ledger.chain_sql``, the same statements, lock order and hashing as
``ledger.store.ChainedApplicationRecorder``, so the rows it writes are the rows that
recorder would write.

It takes only the ordinary case, as ``custodes status`` does (``ledger.status``): a URL
whose DB-API connection is plain (``ledger.status.connect_plain``), an events table that
exists with the chain's columns, a SQLite file already in WAL mode. Anything else raises
``PlainPathUnavailable`` and ``ledger.app.open_ledger`` opens the ledger on SQLAlchemy,
which creates what is missing or reports the problem in its own words.

What needs SQLAlchemy (the chain reader, the read models, backups) gets the SQLAlchemy
recorder on the same database through ``DbapiFactory.full_recorder``, made on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    PersistenceError,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    TrackingRecorder,
)

from ledger.chain_sql import (
    COLUMNS,
    DEFAULT_LOCK_RETRIES,
    DEFAULT_LOCK_TIMEOUT_S,
    ChainSQL,
    fetchall,
)
from ledger.status import connect_plain, parse_url

if TYPE_CHECKING:
    from ledger.store import ChainedApplicationRecorder

PERSISTENCE_MODULE = "ledger.dbapi_store:DbapiFactory"


class PlainPathUnavailable(PersistenceError):
    """This database is not one the DB-API path takes: open the ledger on SQLAlchemy."""


class DbapiRecorder(ChainSQL, ApplicationRecorder):
    """The events table on one DB-API connection, used by one thread at a time (a lock
    serialises the others). Reads run outside any transaction (SQLite in autocommit
    mode, PostgreSQL with ``autocommit``), so no snapshot or table lock is held between
    them; each append is one transaction of its own under the chain's write lock."""

    def __init__(
        self,
        conn: Any,
        *,
        dialect: str,
        table: str,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        lock_retries: int = DEFAULT_LOCK_RETRIES,
    ) -> None:
        if dialect == "sqlite":
            import sqlite3 as dbapi
        else:
            import psycopg as dbapi  # type: ignore[no-redef]
        self.conn = conn
        self._lock = threading.Lock()
        self._thread = threading.get_ident()
        self._init_chain_sql(
            dialect=dialect,
            dbapi=dbapi,
            table=table,
            channel=table.replace(".", "_"),  # eventsourcing-sqlalchemy's channel name
            lock_timeout_s=lock_timeout_s,
            lock_retries=lock_retries,
        )

    @classmethod
    def open(
        cls,
        url: str,
        *,
        table: str,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        lock_retries: int = DEFAULT_LOCK_RETRIES,
        any_thread: bool = False,
    ) -> DbapiRecorder:
        """The recorder of ``url``'s events table; ``PlainPathUnavailable`` when this
        database is not the ordinary case (see the module's docstring)."""
        parsed = parse_url(url)
        try:
            conn = None if parsed is None else connect_plain(parsed, any_thread=any_thread)
        except Exception as e:  # the SQLAlchemy path says what is wrong, in its words
            raise PlainPathUnavailable(f"no plain connection: {e}") from e
        if parsed is None or conn is None:
            raise PlainPathUnavailable("a database URL the DB-API path does not take")
        dialect = "sqlite" if parsed.drivername.startswith("sqlite") else "postgresql"
        try:
            if dialect == "postgresql":
                conn.autocommit = True
            _check_usable(conn, dialect, table)
        except Exception as e:
            conn.close()
            raise PlainPathUnavailable(f"the events table is not ready: {e}") from e
        return cls(
            conn,
            dialect=dialect,
            table=table,
            lock_timeout_s=lock_timeout_s,
            lock_retries=lock_retries,
        )

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            except self.dbapi.ProgrammingError:
                # A SQLite connection made for one thread, closed from another: the garbage
                # collector's, when an unclosed application is collected there (seen in the
                # suite as an "exception ignored" warning). Nothing uses it any more; the
                # connection object closes its handle when it is freed.
                if threading.get_ident() == self._thread:
                    raise

    # ---- writing ------------------------------------------------------------------------

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One signed act (``act=``) in a transaction of its own, retried while the
        write lock stays taken, as ``ChainedApplicationRecorder`` saves it."""
        if kwargs.get("session") is not None:
            raise PersistenceError("the DB-API recorder has no SQLAlchemy session to join")
        if not stored_events:
            return []
        act = kwargs.get("act")

        def save() -> Sequence[int]:
            with self._lock:
                return self._owned_save(self.conn, stored_events, act)

        return self._with_lock_retries(save)

    # ---- reading ------------------------------------------------------------------------

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        with self._lock, self._persistence_errors():
            return self._select_events_on(self.conn, originator_id, gt, lte, desc, limit)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        with self._lock, self._persistence_errors():
            return self._select_notifications_on(
                self.conn, start, limit, stop, topics, inclusive_of_start
            )

    def max_notification_id(self) -> int | None:
        with self._lock, self._persistence_errors():
            rows = fetchall(self.conn, f"SELECT max(id) FROM {self.table}", [])
        return rows[0][0] if rows else None

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        raise NotImplementedError("a command line act does not subscribe")


def _check_usable(conn: Any, dialect: str, table: str) -> None:
    """Raise unless ``table`` exists with every column a chained row has, and a SQLite
    file is in WAL mode already (the SQLAlchemy path would switch it)."""
    cur = conn.cursor()
    try:
        cur.execute(f"SELECT {COLUMNS} FROM {table} WHERE 1 = 0")
        cur.fetchall()
        if dialect == "sqlite":
            cur.execute("PRAGMA journal_mode")
            (mode,) = cur.fetchone()
            if str(mode).lower() != "wal":
                raise PersistenceError(f"journal mode {mode}, not WAL")
    finally:
        cur.close()


class DbapiFactory(InfrastructureFactory[TrackingRecorder]):
    """Infrastructure factory: PERSISTENCE_MODULE=ledger.dbapi_store:DbapiFactory, with
    the same environment as ``ledger.store.ChainedFactory`` (SQLALCHEMY_URL, LOCK_TIMEOUT,
    LOCK_RETRIES); the application recorder only (no snapshots, no tracking)."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._recorder: DbapiRecorder | None = None
        self._full: Any = None  # the SQLAlchemy factory, once something needs it
        self._full_recorder: ChainedApplicationRecorder | None = None

    def application_recorder(self) -> DbapiRecorder:
        if self.env.get("SQLALCHEMY_SCHEMA"):
            raise PlainPathUnavailable("a schema given apart from the URL")
        self._recorder = DbapiRecorder.open(
            self.env.get("SQLALCHEMY_URL") or "",
            table=(self.env.name.lower() or "stored") + "_events",
            lock_timeout_s=float(self.env.get("LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT_S),
            lock_retries=int(self.env.get("LOCK_RETRIES") or DEFAULT_LOCK_RETRIES),
        )
        return self._recorder

    def full_recorder(self) -> ChainedApplicationRecorder:
        """The SQLAlchemy recorder on the same database (the chain reader, read models and
        backups use its engine); made once, closed with this factory."""
        if self._full_recorder is None:
            from eventsourcing.utils import Environment

            from ledger.store import ChainedFactory

            env = Environment(self.env.name, {**self.env, "CREATE_TABLE": "n"})
            self._full = ChainedFactory(env)
            self._full_recorder = self._full.application_recorder()
        return self._full_recorder

    def aggregate_recorder(self, purpose: str = "events") -> ApplicationRecorder:
        raise PlainPathUnavailable(f"no {purpose} recorder on the DB-API path")

    def tracking_recorder(self, tracking_recorder_class: Any = None) -> TrackingRecorder:
        raise PlainPathUnavailable("no tracking recorder on the DB-API path")

    def process_recorder(self) -> ProcessRecorder:
        raise PlainPathUnavailable("no process recorder on the DB-API path")

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
        if self._full is not None:
            self._full.close()
