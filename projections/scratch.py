"""A rebuild's scratch databases on SQLite: every group of read models but the one that
stores the most rows writes into a database file of its own, merged into the ledger's in
one transaction at the end.

Why: SQLite has one writer per database file, and a connection throws its page cache away
whenever another process has committed to the file. Two groups writing into the ledger's
file took turns at its write lock and reread their tables' pages after each other's
commits: at 1M events the kernel's file reads were a third of the rebuild's CPU, and it
grew faster than the log (docs/BENCHMARKS.md, tenth and eleventh passes). In files of
their own the groups run side by side on two cores and keep their caches; the group that
stores the most rows (``Projection.rebuild_rows``, ``most_rows_first``) writes into the
ledger's file as before, so its rows are not copied.

A scratch file is ``<database>.rebuild-<n>`` beside the ledger's (mode 0600, removed when
merged), holding its group's tables, tracking rows and seals exactly as the ledger's would
(the seals are MACs of the rows as stored: copied as they are, they hold). Its tracking
rows name its projections from the moment it is made (position 0), so a rebuild killed
part-way finds, for each scratch file, what it holds:

* projections tracked in the ledger's database too: its merge committed before the kill
  (the file was not removed yet), so it is removed;
* exactly the projections of one of this run's groups: that group resumes in it;
* anything else (``--processes`` changed since): merged now, and those projections go on
  in the ledger's database.

A group whose projections have rows in the ledger's database already (not a fresh start)
writes there, as every group did before. The merge deletes whatever the ledger's tables
of those projections hold (nothing but what someone else wrote meanwhile: the rebuild
dropped them and writes them only here) and copies the scratch rows in, with their
tracking rows and seals, in ONE transaction: a kill before its commit leaves the file to
merge again, after it the file to remove.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event

from projections.seal import SEALS_METADATA, seals

if TYPE_CHECKING:
    from projections.base import Projection

# How long the merge waits for another writer of the ledger's database (a command
# recording an event) before it gives up, in seconds.
MERGE_BUSY_TIMEOUT_S = 60.0
# The page cache of a rebuild's writing connections and of the merge, in KiB (``large_cache``).
CACHE_KIB = 256 * 1024
_NAME = re.compile(r"\.rebuild-(\d+)\Z")


def scratch_files(database: str) -> list[Path]:
    """The scratch files beside ``database`` (not their -wal and -shm files), in order."""
    db = Path(database)
    found = []
    for path in db.parent.glob(f"{db.name}.rebuild-*"):
        m = _NAME.search(path.name[len(db.name) :])
        if m is not None:
            found.append((int(m.group(1)), path))
    return [path for _, path in sorted(found)]


def remove(path: Path) -> None:
    """A scratch file and its write-ahead log and shared memory, if there."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def remove_all(database: str) -> None:
    for path in scratch_files(database):
        remove(path)


def held(path: Path) -> set[str]:
    """The projections a scratch file holds (its tracking rows); none if it was never
    made whole (killed while it was made: nothing in it is kept)."""
    from projections.base import tracking

    try:
        with contextlib.closing(_connect(path)) as db:
            rows = db.execute(f"SELECT projection FROM {tracking.name}").fetchall()  # noqa: S608
    except sqlite3.Error:
        return set()
    return {str(name) for (name,) in rows}


def _connect(path: Path | str) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, timeout=MERGE_BUSY_TIMEOUT_S)


def create(database: str, group: Sequence[Projection]) -> Path:
    """A new scratch file for ``group``: its tables (with only the indexes its handlers
    look rows up by, as the ledger's during a rebuild), the tracking and seal tables,
    and last a tracking row at position 0 for each projection, in one transaction (a
    file killed before that commit holds none, and is removed: ``plan``)."""
    from projections.base import TRACKING_METADATA, create_for_loading, tracking

    taken = [int(_NAME.search(p.name).group(1)) for p in scratch_files(database)]  # type: ignore[union-attr]
    path = Path(f"{database}.rebuild-{max(taken, default=0) + 1}")
    remove(path)  # a -wal or -shm left by a file removed by hand
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    with contextlib.closing(_connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
    engine = open_engine(path)
    try:
        with engine.begin() as conn:
            TRACKING_METADATA.create_all(conn)
            SEALS_METADATA.create_all(conn)
            for p in group:
                create_for_loading(conn, p)
                conn.execute(tracking.insert().values(projection=p.name, position=0))
    finally:
        engine.dispose()
    return path


def open_engine(path: Path | str) -> Engine:
    return large_cache(create_engine(f"sqlite:///{path}"))


def large_cache(engine: Engine) -> Engine:
    """A rebuild's writing connections on SQLite keep up to ``CACHE_KIB`` of pages
    (SQLite's default is 2,000 KiB): the tables a group writes grow past the default at
    once, and every lookup and insert then read their B-tree pages again through the
    kernel. Nothing else writes into the file (its own scratch file, or the ledger's
    with the other groups in theirs), so the cache stays valid between batches."""

    @event.listens_for(engine, "connect")
    def _cache(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    return engine


def drop_indexes(database: str, group: Sequence[Projection]) -> None:
    """The ledger's secondary indexes of ``group``'s tables, dropped: the rows come in
    with the merge, and the end of the rebuild makes every missing index."""
    with contextlib.closing(_connect(database)) as db:
        for p in group:
            for table in p.metadata.sorted_tables:
                for index in table.indexes:
                    db.execute(f'DROP INDEX IF EXISTS "{index.name}"')


def merge(database: str, path: Path, group: Sequence[Projection]) -> None:
    """Copy ``group``'s tables, tracking rows and seals from the scratch file into the
    ledger's database, replacing what its tables hold, in one transaction; then remove
    the file."""
    from projections.base import tracking

    names = [p.name for p in group]
    marks = ", ".join("?" * len(names))
    with contextlib.closing(_connect(database)) as db:
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute("ATTACH DATABASE ? AS scratch", (str(path),))
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                for p in group:
                    for table in p.metadata.sorted_tables:
                        _copy(db, table.name, [c.name for c in table.columns])
                for table in (tracking, seals):
                    cols = ", ".join(f'"{c.name}"' for c in table.columns)
                    where = f"WHERE projection IN ({marks})"
                    db.execute(f"DELETE FROM main.{table.name} {where}", names)  # noqa: S608
                    db.execute(
                        f"INSERT INTO main.{table.name} ({cols}) "  # noqa: S608
                        f"SELECT {cols} FROM scratch.{table.name} {where}",
                        names,
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.execute("DETACH DATABASE scratch")
    remove(path)


def _copy(db: sqlite3.Connection, name: str, columns: list[str]) -> None:
    """The scratch table's rows into the ledger's, emptied first. When both tables have
    exactly these columns in this order, as ``INSERT INTO t SELECT * FROM scratch.t``:
    SQLite then copies the records as stored, without decoding them (its "transfer
    optimization", used only for that form of statement into an empty table; 3x faster
    at 100k events, docs/BENCHMARKS.md, session 26). Otherwise, column by column."""
    db.execute(f'DELETE FROM main."{name}"')  # noqa: S608
    if all(_columns(db, schema, name) == columns for schema in ("main", "scratch")):
        db.execute(f'INSERT INTO main."{name}" SELECT * FROM scratch."{name}"')  # noqa: S608
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    db.execute(f'INSERT INTO main."{name}" ({cols}) SELECT {cols} FROM scratch."{name}"')  # noqa: S608


def _columns(db: sqlite3.Connection, schema: str, name: str) -> list[str]:
    return [row[1] for row in db.execute(f'PRAGMA {schema}.table_info("{name}")')]


def plan(
    database: str, groups: Sequence[Sequence[Projection]], tracked: set[str]
) -> dict[int, Path]:
    """Where the groups but the first write: group index -> scratch file, for those that
    write into one (found from a killed run, or made now); the others write into the
    ledger's database. ``tracked``: the projections with a tracking row there. Left-over
    files are removed (merged before a kill) or merged (another grouping) first."""
    wanted = {frozenset(p.name for p in g): i for i, g in enumerate(groups) if i > 0}
    by_name = {p.name: p for g in groups for p in g}
    tracked = set(tracked)
    found: dict[int, Path] = {}
    for path in scratch_files(database):
        names = held(path)
        if not names or names <= tracked:
            remove(path)  # never made whole, or merged before a kill
            continue
        i = wanted.get(frozenset(names))
        if i is not None and i not in found:
            found[i] = path
            continue
        if names - by_name.keys():
            continue  # read models this run does not know: left for a run that does
        merge(database, path, [by_name[n] for n in sorted(names)])
        tracked |= names
    for i, group in enumerate(groups):
        if i > 0 and i not in found and not any(p.name in tracked for p in group):
            drop_indexes(database, group)
            found[i] = create(database, group)
    return found
