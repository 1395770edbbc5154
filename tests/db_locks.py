"""Holding a ledger's write lock from another connection, as another writer would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine


@contextmanager
def write_lock_held(url: str, table: str = "ledger_events") -> Iterator[threading.Event]:
    """Another connection holds the write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
    ``LOCK TABLE ... IN EXCLUSIVE MODE``) until the block ends or the yielded event is
    set."""
    engine = create_engine(url)
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            if engine.dialect.name == "sqlite":
                raw.execute("BEGIN IMMEDIATE")
            else:
                raw.execute(f"BEGIN; LOCK TABLE {table} IN EXCLUSIVE MODE")
            taken.set()
            release.wait(60)
            raw.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(10)
        engine.dispose()
