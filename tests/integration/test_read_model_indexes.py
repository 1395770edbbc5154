"""The read models' indexes per database: ``ix_proj_retention_purged_at`` is SQLite's only
(on PostgreSQL it led the planner to read every unpurged segment for the home page's
overdue footage; ``ix_proj_retention_purged_due`` serves the same ranges there), and a
PostgreSQL ledger whose older code made it loses it when the read models are opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from projections import base
from projections.registry import open_views
from tests.conftest import NOW
from tests.identity import open_test_ledger

OLD = "ix_proj_retention_purged_at"


def _indexes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {str(i["name"]) for i in inspect(engine).get_indexes("proj_retention_segments")}
    finally:
        engine.dispose()


def test_the_purged_at_index_is_made_on_sqlite_only_and_an_old_one_dropped(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dd = DataDir.open(data_dir)
    url = dd.database_url
    ledger = open_test_ledger(dd, clock=ManualClock(NOW))
    try:
        open_views(ledger).close()
        have = _indexes(url)
        assert "ix_proj_retention_purged_due" in have
        if url.startswith("sqlite"):
            assert OLD in have
            return
        assert OLD not in have
        engine = create_engine(url)
        with engine.begin() as conn:  # as the code before this change made it
            conn.exec_driver_sql(f"CREATE INDEX {OLD} ON proj_retention_segments (purged_at)")
        engine.dispose()
        monkeypatch.setattr(base, "_SCHEMA_SEEN", set())  # a new process opens it
        open_views(ledger).close()
        assert OLD not in _indexes(url)
    finally:
        ledger.close()
