"""The chain's SQL and its append, on a DB-API connection, shared by both recorders.

``ledger.store.ChainedApplicationRecorder`` (eventsourcing-sqlalchemy: the dashboard, the
reports, ``verify``) and ``ledger.dbapi_store.DbapiRecorder`` (a command line act, without
SQLAlchemy's import: issue 16) write every row through the methods here, so both take the
same lock in the same order, read the head the same way and hash the same bytes. Nothing
here imports SQLAlchemy. The design notes are in ``ledger.store``'s docstring.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

from ledger.acts import ActRequest, act_time
from ledger.chain import DIGEST_SIZE, GENESIS, ChainBroken, Damage, chain_rows
from ledger.clock import CLOCK_TOLERANCE
from ledger.errors import ClockBehind, LedgerBusy, LedgerMoved, SessionEnded

# A tuple, not ``bytes | memoryview``: the union would be built again on every save.
_BLOB_TYPES = (bytes, memoryview)
DEFAULT_LOCK_TIMEOUT_S = 10
DEFAULT_LOCK_RETRIES = 2
# PostgreSQL: the most saves made the two-round-trip way after a missed guess
# (``ChainSQL._save_postgres_on_guess``) before the next guess. Under steady contention
# about one save in this many pays for a miss; a writer left alone guesses again within
# this many saves (the other path's speed until then).
BACKOFF_LIMIT = 1024
COLUMNS = (
    "id, originator_id, originator_version, topic, state, "
    "position, state_digest, prev_hash, entry_hash, act"
)


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


class ChainSQL:
    """The chain's statements for one events table, and the append that uses them.

    A recorder sets these up once (``_init_chain_sql``) and calls ``_insert_sqlite`` /
    ``_save_postgres`` with a DB-API connection; ``_with_lock_retries`` retries a save that
    owns its transaction when the write lock stays taken."""

    dialect: str
    dbapi: Any
    table: str
    lock_timeout_s: float
    lock_retries: int
    _placeholder: str  # the driver's parameter marker: "?" (sqlite3) or "%s" (psycopg)
    _last_act: tuple[bytes, Any] | None  # (entry hash, time) of this recorder's last act
    # PostgreSQL: the head and the highest id this recorder's last save committed
    # (position, entry hash, act record, id), whether the next save may build its rows on
    # it (``_save_postgres_on_guess``), and the back-off after a guess that missed: the
    # saves still to make the two-round-trip way, and how many the next miss will ask.
    _pg_guess: tuple[int, bytes, bytes | None, int] | None
    _pg_speculate: bool
    _pg_wait: int
    _pg_backoff: int

    def _init_chain_sql(
        self,
        *,
        dialect: str,
        dbapi: Any,
        table: str,
        channel: str,
        lock_timeout_s: float,
        lock_retries: int,
    ) -> None:
        self.dialect, self.dbapi, self.table = dialect, dbapi, table
        self.lock_timeout_s = float(lock_timeout_s)
        self.lock_retries = max(0, int(lock_retries))
        self._last_act = None
        self._pg_guess = None
        self._pg_speculate = False
        self._pg_wait = 0
        self._pg_backoff = 1
        placeholder = self._placeholder = "?" if dialect == "sqlite" else "%s"
        self._insert_sql = (
            f"INSERT INTO {table} ({COLUMNS}) VALUES ({', '.join([placeholder] * 10)})"
        )
        # SQLite's rows without an act (all but an act's last): the act column left out.
        self._insert_no_act_sql = (
            f"INSERT INTO {table} ({COLUMNS.removesuffix(', act')}) "
            f"VALUES ({', '.join([placeholder] * 9)})"
        )
        self._head_sql = (
            f"SELECT position, entry_hash, act FROM {table} "
            "WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
        )
        # SQLite: the head and the highest id in ONE statement: ``_head_sql``'s row (one
        # step into the UNIQUE index from its end) with max(id) beside it. No row when no
        # entry has a position yet (an empty ledger): then ``_sqlite_ids_sql``. Measured
        # with callgrind, per read with Python's sqlite3 around it: 22,600 instructions;
        # joining the row at max(position) instead (two descents of the index) 25,900;
        # a LIMIT subquery in a join was materialised into a temporary table (~17,000
        # more); max(id) alone, what an unchained recorder reads, 17,000.
        self._sqlite_read_sql = (
            f"SELECT (SELECT max(id) FROM {table}), position, entry_hash, act FROM {table} "
            "WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
        )
        self._sqlite_ids_sql = f"SELECT max(id), NULL, NULL, NULL FROM {table}"
        self._select_events_sql = (
            f"SELECT originator_version, topic, state FROM {table} "
            f"WHERE originator_id = {placeholder}"
        )
        self._pg_lock_sql = (
            f"SET LOCAL lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'; "
            f"LOCK TABLE {table} IN EXCLUSIVE MODE; "
            f"NOTIFY {channel}; "
        )
        self._pg_ids_sql = (
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            "FROM generate_series(1, {n})"
        )
        # One round trip on a guessed head: the lock's statements one by one (a pipeline
        # sends each on its own), then the guard, which also moves the id sequence past
        # the ids this save chose (so a save that draws its ids, on the other path or in
        # another process, never draws one of them). The guard's inner query divides by
        # the number of rows that match: 1 when the head is still the guessed entry and
        # the highest id the guessed one, else 0, and PostgreSQL's division_by_zero
        # (22012) aborts the transaction before the INSERT and before ``setval``. The
        # quotient is multiplied into setval's argument: a column of a subquery that the
        # outer query does not use is dropped by the planner, division and all (the
        # guard passed every head until a test wrote two recorders' saves in turn). The
        # divisor is read from the table, so the planner cannot fold it (a literal 1/0
        # fails at planning time). Both reads are one step into an index from its end
        # whatever the plan: ``NOT EXISTS (... id > %s)``, prepared generically, was
        # planned as a sequential scan of the table.
        self._pg_lock_statements = tuple(
            statement.strip() for statement in self._pg_lock_sql.split(";") if statement.strip()
        )
        self._pg_guard_sql = (
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s * guard.ok) FROM ("
            f"SELECT 1 / count(*)::int AS ok FROM ({self._head_sql}) AS head "
            "WHERE head.position = %s AND head.entry_hash = %s "
            f"AND (SELECT max(id) FROM {table}) = %s) AS guard"
        )

    def _with_lock_retries(self, save: Callable[[], Sequence[int]]) -> Sequence[int]:
        """Run ``save`` (one that owns its transaction); if the write lock stays taken
        past the timeout, try again up to ``lock_retries`` times, then raise
        ``LedgerBusy``. Safe only for an owned save: a timed-out attempt rolled back
        completely, so nothing of it was recorded."""
        attempt = 0
        while True:
            try:
                return save()
            except OperationalError as e:
                if not is_lock_wait(e):
                    raise
                attempt += 1
                if attempt > self.lock_retries:
                    raise LedgerBusy(attempts=attempt, detail=_first_line(e)) from e
                time.sleep(random.uniform(0.05, 0.25) * attempt)  # noqa: S311 - jitter only

    def _owned_save(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        """One save in a transaction of its own on ``conn``, committed; rolled back on any
        error, which is raised as eventsourcing's persistence errors."""
        with self._persistence_errors():
            try:
                if self.dialect == "sqlite":
                    ids = self._insert_sqlite(conn, stored_events, act)
                    conn.commit()
                    return ids
                return self._save_postgres(conn, stored_events, act)
            except BaseException:
                _rollback_quietly(conn)
                raise

    @contextmanager
    def _persistence_errors(self) -> Iterator[None]:
        """The driver's errors raised as eventsourcing's persistence errors."""
        try:
            yield
        except self.dbapi.IntegrityError as e:
            raise IntegrityError(e) from e
        except self.dbapi.OperationalError as e:
            raise OperationalError(e) from e
        except self.dbapi.Error as e:
            raise PersistenceError(e) from e

    def _select_events_on(
        self,
        conn: Any,
        originator_id: UUID | str,
        gt: int | None,
        lte: int | None,
        desc: bool,
        limit: int | None,
    ) -> list[StoredEvent]:
        """eventsourcing's ``select_events`` as one plain SELECT on a DB-API connection
        (the caller ends the read): one aggregate's events by version, the rows the
        library's ORM query returns, through the same index (``originator_id,
        originator_version``). The ORM's query building and row objects were over half
        of the time to load an aggregate (docs/BENCHMARKS.md, the demo's profile)."""
        p = self._placeholder
        oid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        sql = self._select_events_sql
        params: list[Any] = [oid.bytes if self.dialect == "sqlite" else oid]
        if gt is not None:
            sql += f" AND originator_version > {p}"
            params.append(gt)
        if lte is not None:
            sql += f" AND originator_version <= {p}"
            params.append(lte)
        sql += " ORDER BY originator_version DESC" if desc else " ORDER BY originator_version"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = fetchall(conn, sql, params)
        return [StoredEvent(oid, r[0], r[1], bytes(r[2])) for r in rows]

    def _select_notifications_on(
        self,
        conn: Any,
        start: int | None,
        limit: int,
        stop: int | None,
        topics: Sequence[str],
        inclusive_of_start: bool,
    ) -> list[Notification]:
        """eventsourcing's ``select_notifications`` as one plain SELECT on a DB-API
        connection (the caller ends the read): the log in id order from ``start`` (to
        ``stop``), of ``topics`` if any, at most ``limit`` rows, as the library's ORM
        query returns them."""
        p = self._placeholder
        where: list[str] = []
        params: list[Any] = []
        if start is not None:
            where.append(f"id >= {p}" if inclusive_of_start else f"id > {p}")
            params.append(start)
        if stop is not None:
            where.append(f"id <= {p}")
            params.append(stop)
        if topics:
            where.append(f"topic IN ({', '.join([p] * len(topics))})")
            params.extend(topics)
        sql = f"SELECT id, originator_id, originator_version, topic, state FROM {self.table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY id LIMIT {int(limit)}"
        rows = fetchall(conn, sql, params)
        sqlite = self.dialect == "sqlite"  # the originator id's 16 bytes, not a UUID
        return [
            Notification(
                id=r[0],
                originator_id=UUID(bytes=r[1]) if sqlite else r[1],
                originator_version=r[2],
                topic=r[3],
                state=bytes(r[4]),
            )
            for r in rows
        ]

    def _save_postgres(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        """One round trip when this recorder wrote the head last (``_save_postgres_on_guess``),
        else two (``_save_postgres_read``). The connection is in autocommit mode for the
        save, so BEGIN travels with the other statements rather than on its own; its
        autocommit setting is restored afterwards."""
        was_autocommit = conn.autocommit
        conn.autocommit = True
        try:
            if self._pg_speculate and self._pg_guess is not None:
                ids = self._save_postgres_on_guess(conn, stored_events, act, self._pg_guess)
                if ids is not None:
                    return ids
            return self._save_postgres_read(conn, stored_events, act)
        except BaseException:
            self._pg_guess, self._pg_speculate = None, False
            raise
        finally:
            _rollback_quietly(conn)  # nothing to do after COMMIT
            try:
                conn.autocommit = was_autocommit
            except Exception:  # noqa: S110 - broken connection: the pool discards it
                pass

    def _save_postgres_read(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        """Two round trips: BEGIN, the lock, the head and the new ids in one text; the
        INSERT and COMMIT pipelined in the other."""
        cur = conn.cursor()
        # Literals only: psycopg runs several statements in one call only without
        # parameters; each statement's result is a set of its own, in order.
        cur.execute("BEGIN; " + self._pg_prelude(len(stored_events)))
        cur.nextset()  # BEGIN
        head, ids, rows = self._pg_rows(cur, stored_events, act)
        with conn.pipeline():
            cur.executemany(self._insert_sql, rows)
            cur.execute("COMMIT")
        # The next save may guess only once the back-off of the last miss has run out
        # and nothing but this recorder wrote since its previous save (or this was its
        # first): a head another writer moves on every save would make each guess a
        # wasted round trip.
        guess = self._pg_guess
        self._pg_wait = max(0, self._pg_wait - 1)
        self._pg_speculate = self._pg_wait == 0 and (
            guess is None or (head is not None and (head[0], bytes(head[1])) == guess[:2])
        )
        self._pg_guess = self._guess_after(ids, rows)
        return ids

    def _save_postgres_on_guess(
        self,
        conn: Any,
        stored_events: Sequence[StoredEvent],
        act: ActRequest | None,
        guess: tuple[int, bytes, bytes | None, int],
    ) -> list[int] | None:
        """The save in ONE round trip, its rows built on the head this recorder's last save
        committed and ids following that save's: BEGIN, the lock, the guard (which moves
        the sequence past the ids), the INSERT and COMMIT, all pipelined. The save
        commits only if the head and the highest id are still the guessed ones, checked
        with the lock held: then these rows are exactly what the two-round-trip path would write (the
        same head, the same ids free). Otherwise the guard aborts the transaction, nothing
        is written, and None is returned: the caller saves the two-round-trip way.

        The clock is read just before the pipeline is sent rather than with the lock
        held (R26: still the clock at append). The act's time is checked against the
        head's as in every save (``ClockBehind``), and since the guard admits no entry
        between the head and this save, no other act can come between them: the
        chain's times keep the order the lock gives them on the other path."""
        position, entry_hash, record, last_id = guess
        n = len(stored_events)
        ids = list(range(last_id + 1, last_id + 1 + n))
        rows = self._rows(ids, stored_events, (position, entry_hash, record), act, sqlite=False)
        cur = conn.cursor()
        error: BaseException | None = None
        try:
            with conn.pipeline():
                # An error can come back while the block still sends: caught here, the
                # pipeline's exit reports it (not as a logged "error ignored").
                try:
                    cur.execute("BEGIN")
                    for statement in self._pg_lock_statements:
                        cur.execute(statement)
                    cur.execute(self._pg_guard_sql, self._pg_guard_params(ids, guess))
                    cur.executemany(self._insert_sql, rows)
                    cur.execute("COMMIT")
                except self.dbapi.Error as e:
                    error = e
        except self.dbapi.Error as e:
            error = error or e
        if error is not None:
            if getattr(error, "sqlstate", None) != "22012":  # not the guard
                raise error
            # Writers taking turns at the lock (two writers found their own entry at the
            # head before one save in four, measured) would miss most guesses: each miss
            # doubles the saves made the two-round-trip way before the next guess (up to
            # BACKOFF_LIMIT), and each hit halves it.
            _rollback_quietly(conn)
            self._pg_speculate = False
            self._pg_backoff = min(BACKOFF_LIMIT, self._pg_backoff * 2)
            self._pg_wait = self._pg_backoff
            return None
        self._pg_backoff = max(1, self._pg_backoff // 2)
        self._pg_guess = self._guess_after(ids, rows)
        return ids

    def _insert_sqlite(
        self, conn: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> list[int]:
        # pysqlite begins lazily: take the write lock before reading the head.
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        cur = conn.cursor()
        row = cur.execute(self._sqlite_read_sql).fetchone()
        if row is None:  # no entry has a position: no head, the ids alone
            row = cur.execute(self._sqlite_ids_sql).fetchone()
        max_id, *head_row = row
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
        # A save in the caller's transaction moves the head without telling the guess:
        # the next owned save reads the head (and may guess after it) instead of missing.
        self._pg_guess, self._pg_speculate = None, False
        cur = conn.cursor()
        # ONE round trip takes the lock, reads the head and draws the ids.
        cur.execute(self._pg_prelude(len(stored_events)))
        _, ids, rows = self._pg_rows(cur, stored_events, act)
        cur.executemany(self._insert_sql, rows)
        return ids

    def _pg_prelude(self, n: int) -> str:
        """SET LOCAL lock_timeout; LOCK TABLE; NOTIFY; the head; ``n`` new ids."""
        return f"{self._pg_lock_sql}{self._head_sql}; {self._pg_ids_sql.format(n=int(n))}"

    def _pg_rows(
        self, cur: Any, stored_events: Sequence[StoredEvent], act: ActRequest | None
    ) -> tuple[Any, list[int], list[tuple[Any, ...]]]:
        """Read the prelude's results (cursor on its first statement): the head, the ids and
        the rows built on them."""
        for _ in range(3):  # SET, LOCK, NOTIFY: no rows
            cur.nextset()
        head = cur.fetchone()
        cur.nextset()
        ids = [r[0] for r in cur.fetchall()]
        return head, ids, self._rows(ids, stored_events, head, act, sqlite=False)

    def _guess_after(
        self, ids: list[int], rows: list[tuple[Any, ...]]
    ) -> tuple[int, bytes, bytes | None, int] | None:
        """The head and the highest id once the PostgreSQL rows ``_rows`` built are
        committed: what the next save may build on."""
        last = rows[-1]
        return (last[5], bytes(last[8]), last[9], ids[-1])

    def _pg_guard_params(
        self, ids: list[int], guess: tuple[int, bytes, bytes | None, int]
    ) -> tuple[Any, ...]:
        """``_pg_guard_sql``'s parameters: the sequence's new value, the guessed head's
        position and entry hash, the guessed highest id."""
        return (ids[-1], guess[0], guess[1], guess[3])

    def _head_time(self, head: tuple[int, bytes, bytes | None] | None) -> Any:
        """The head act's recorded time: remembered when this recorder wrote the head (its
        entry hash identifies it, committed or not), else read from its record."""
        if head is None:
            return None
        cached = self._last_act
        if cached is not None and bytes(head[1]) == cached[0]:
            return cached[1]
        return act_time(bytes(head[2]) if head[2] is not None else None)

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
            or not isinstance(head[1], _BLOB_TYPES)
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
            # An acting Director's act is never timed before the head (the verifier judges
            # her delegation by that, ``act_check.Delegation.covers``); others may be by
            # the clocks' tolerance (two writers that read their clocks, then the lock).
            behind = timedelta(0) if act.delegation is not None else CLOCK_TOLERANCE
            if act.corrects is not None:
                # The Director's correction sets aside exactly the head's time (R26); had
                # another act come first, it was read from a head no longer there.
                if act.corrects != last:
                    raise LedgerMoved(last)
            elif last is not None and moment < last - behind:
                raise ClockBehind(moment, last)
            ends = act.signer.expires
            if ends is not None and (moment >= ends or (last is not None and last >= ends)):
                # a session key (custodes login) after its vouched end: verify would hold
                # the act damage, so it is not recorded
                raise SessionEnded(act.signer.name, ends)
            sealer = act.sealer(moment)
        rows = chain_rows(ids, stored_events, head_position, head_hash, sealer, sqlite=sqlite)
        if act is not None:
            self._last_act = (bytes(rows[-1][8]), moment)  # type: ignore[call-overload]
        return rows


def fetchall(conn: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    """``sql``'s rows on a DB-API connection, its cursor closed."""
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


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
