"""Looking into a data directory's database, whichever it is (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData, create_engine, text

from ledger.datadir import DataDir
from ledger.integrity import open_chain
from tests.db_locks import write_lock_held as hold_write_lock


def database_url(data_dir: Path) -> str:
    return DataDir.open(data_dir).database_url


def count_events(data_dir: Path) -> int:
    return open_chain(DataDir.open(data_dir)).count_rows()


def execute(data_dir: Path, sql: str) -> int:
    """Run ``sql`` on the data directory's database as someone with plain SQL access
    would; the rows it changed."""
    engine = create_engine(database_url(data_dir))
    try:
        with engine.begin() as conn:
            return int(conn.execute(text(sql)).rowcount)
    finally:
        engine.dispose()


def every_stored_byte(data_dir: Path) -> bytes:
    """Every value of every row of every table, as bytes (bytea/BLOB as stored, the rest
    as text), plus the SQLite files themselves (main file and WAL)."""
    url = database_url(data_dir)
    engine = create_engine(url)
    parts: list[bytes] = []
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                # The driver's values as stored: no SQLAlchemy type processing.
                for row in conn.exec_driver_sql(f'SELECT * FROM "{table.name}"'):
                    for value in row:
                        if isinstance(value, bytes | bytearray | memoryview):
                            parts.append(bytes(value))
                        elif value is not None:
                            parts.append(str(value).encode())
    finally:
        engine.dispose()
    if engine.dialect.name == "sqlite":
        for name in ("ledger.sqlite", "ledger.sqlite-wal"):
            if (data_dir / name).exists():
                parts.append((data_dir / name).read_bytes())
    return b"\x00".join(parts)


@contextmanager
def write_lock_held(data_dir: Path) -> Iterator[None]:
    """Another connection holds the ledger's write lock for the duration of the block."""
    with hold_write_lock(database_url(data_dir)):
        yield
