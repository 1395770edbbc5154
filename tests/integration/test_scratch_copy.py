"""The scratch file's merge copies each table by column name (``projections.scratch``):
as ``SELECT *`` (SQLite's record transfer) only when both tables have the same columns
in the same order, so a table whose columns lie in another order still lands value by
value in the right columns. Real SQLite files."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from projections import scratch

ROWS = [("a", 1, "2026-10-01 00:00:00.000000"), ("b", 2, None)]


@pytest.mark.parametrize("scratch_order", ["key, n, at", "at, key, n"])
def test_a_scratch_table_is_copied_column_by_name(tmp_path: Path, scratch_order: str) -> None:
    main, other = tmp_path / "ledger.sqlite", tmp_path / "ledger.sqlite.rebuild-1"
    with contextlib.closing(sqlite3.connect(main)) as db:
        db.execute("CREATE TABLE t (key TEXT PRIMARY KEY, n INTEGER, at TEXT)")
        db.execute("INSERT INTO t VALUES ('stale', 0, NULL)")  # replaced by the merge
        db.commit()
    types = {"key": "TEXT PRIMARY KEY", "n": "INTEGER", "at": "TEXT"}
    order = [c.strip() for c in scratch_order.split(",")]
    with contextlib.closing(sqlite3.connect(other)) as db:
        db.execute(f"CREATE TABLE t ({', '.join(f'{c} {types[c]}' for c in order)})")
        db.executemany(
            f"INSERT INTO t ({', '.join(order)}) VALUES (?, ?, ?)",
            [tuple(dict(zip(("key", "n", "at"), r, strict=True))[c] for c in order) for r in ROWS],
        )
        db.commit()
    with contextlib.closing(sqlite3.connect(main, isolation_level=None)) as db:
        db.execute("ATTACH DATABASE ? AS scratch", (str(other),))
        db.execute("BEGIN IMMEDIATE")
        scratch._copy(db, "t", ["key", "n", "at"])
        db.execute("COMMIT")
        assert db.execute("SELECT key, n, at FROM main.t ORDER BY key").fetchall() == ROWS
