"""A consortium on one PostgreSQL (issue 18, item 3): one schema per library, each with
its own chain, keys and lock, so one library's writer never waits for another's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir, with_search_path
from ledger.dbapi_store import DbapiRecorder
from ledger.errors import DataDirError
from ledger.integrity import open_chain, verify_chain
from tests.conftest import SETUP, fresh_postgres_database, new_data_dir
from tests.db_locks import write_lock_held
from tests.identity import open_test_ledger

pytestmark = pytest.mark.postgres

LIBRARIES = ("lib_mahomet", "lib_riverbend")


def _add_cameras(data_dir: Path, prefix: str, count: int, *, dbapi: bool = False) -> None:
    """``dbapi``: the DB-API recorder a command line act uses (the search path in the URL
    puts it in the library's schema, as SQLAlchemy's connection is)."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(SETUP), dbapi=dbapi)
    assert isinstance(ledger.recorder, DbapiRecorder) is dbapi
    try:
        for i in range(count):
            ledger.clock.advance(minutes=1)  # type: ignore[attr-defined]
            ledger.register_camera(
                f"{prefix}-{i}", location="Lobby", zone="public", signage_posted=True,
                actor="Dana Director",
            )  # fmt: skip
    finally:
        ledger.close()


def _libraries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> dict[str, Path]:
    """A data directory for each of ``LIBRARIES``, each in its own schema of ``url``."""
    dirs = {}
    for schema in LIBRARIES:
        monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", schema)
        dirs[schema] = new_data_dir(tmp_path / schema, url)
    monkeypatch.delenv("CUSTODES_DATABASE_SCHEMA")
    return dirs


def _tables(url: str) -> set[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
            return {(r[0], r[1]) for r in rows}
    finally:
        engine.dispose()


@pytest.mark.parametrize("dbapi", [False, True])
def test_each_library_has_its_own_schema_chain_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbapi: bool
) -> None:
    with fresh_postgres_database() as url:
        dirs = {}
        for n, schema in enumerate(LIBRARIES):
            monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", schema)
            dirs[schema] = new_data_dir(tmp_path / schema, url)
            monkeypatch.delenv("CUSTODES_DATABASE_SCHEMA")  # remembered from init
            _add_cameras(dirs[schema], schema, 2 + n, dbapi=dbapi)
        tables = _tables(url)
        assert {s for s, _ in tables} == set(LIBRARIES)  # nothing in public
        for schema in LIBRARIES:
            assert (schema, "ledger_events") in tables
        counts = {}
        for schema, path in dirs.items():
            dd = DataDir.open(path)
            assert dd.database_schema == schema
            result = verify_chain(open_chain(dd), extend_tree=False)
            assert result.ok, result.damage
            counts[schema] = result.count
        # each chain starts at 1 and holds only its own library's acts
        assert counts["lib_riverbend"] == counts["lib_mahomet"] + 1
        keys = {DataDir.open(p).events_key_fingerprint() for p in dirs.values()}
        assert len(keys) == 2


@pytest.mark.parametrize("dbapi", [False, True])
def test_one_library_writes_while_anothers_chain_lock_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbapi: bool
) -> None:
    with fresh_postgres_database() as url:
        dirs = _libraries(tmp_path, monkeypatch, url)
        held = with_search_path(url, "lib_mahomet")
        monkeypatch.setenv("CUSTODES_LOCK_TIMEOUT", "1")
        with write_lock_held(held):
            started = time.monotonic()
            _add_cameras(dirs["lib_riverbend"], "rb", 3, dbapi=dbapi)  # does not wait for Mahomet's
            assert time.monotonic() - started < 5
            # while Mahomet's own writer does wait, and gives up with nothing recorded
            with pytest.raises(Exception, match="busy|lock"):
                _add_cameras(dirs["lib_mahomet"], "mh", 1, dbapi=dbapi)


def test_a_schema_is_refused_on_sqlite_and_a_bad_name_before_anything_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", "lib_a")
    with pytest.raises(DataDirError, match="needs a PostgreSQL database"):
        DataDir.create(tmp_path / "sqlite")
    monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", 'lib"; DROP TABLE x; --')
    with pytest.raises(DataDirError, match="is not a schema name"):
        DataDir.create(tmp_path / "bad", database_url="postgresql+psycopg://x@127.0.0.1/x")
    assert not (tmp_path / "sqlite").exists() and not (tmp_path / "bad").exists()
    # Red team (session 17): PostgreSQL's own schemas were taken, and a URL's own search
    # path was not checked at all ("lib_f,lib_a" read another library's tables).
    for own in ("information_schema", "pg_toast"):
        monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", own)
        with pytest.raises(DataDirError, match="is not a schema name: that name is PostgreSQL's"):
            DataDir.create(tmp_path / own, database_url="postgresql+psycopg://x@127.0.0.1/x")
        assert not (tmp_path / own).exists()
    monkeypatch.delenv("CUSTODES_DATABASE_SCHEMA")
    for path, why in (
        ("-csearch_path%3Dlib_f,lib_a", "one schema only"),
        ("-csearch_path%3Dpg_catalog", "PostgreSQL's own"),
        # libpq's other spellings (the session's own review)
        ("-c%20search_path%3Dlib_f", ""),
        ("--search_path%3Dlib_a", ""),
        ("--search-path%3Dlib_a", ""),
    ):
        url = f"postgresql+psycopg://x@127.0.0.1/x?options={path}"
        monkeypatch.setenv("CUSTODES_DATABASE_URL", url)
        with pytest.raises(DataDirError, match=f"search_path '.*' is not one .*{why}"):
            DataDir.create(tmp_path / "url")
        assert not (tmp_path / "url").exists()


def test_verify_fails_on_another_librarys_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team (session 17): a data directory pointed at another library's schema (the
    schemas swapped, or one typed wrong) verified OK, exit 0: that chain is intact and
    signed by that library's own members; two warnings said its keys could not read it."""
    with fresh_postgres_database() as url:
        dirs = _libraries(tmp_path, monkeypatch, url)
        mahomet = ["--data-dir", str(dirs["lib_mahomet"]), "verify"]
        assert CliRunner().invoke(custodes, mahomet).exit_code == 0
        monkeypatch.setenv("CUSTODES_DATABASE_SCHEMA", "lib_riverbend")
        wrong = CliRunner().invoke(custodes, [*mahomet, "--json"])
        assert wrong.exit_code == 3, wrong.output
        assert '"kind": "not this ledger"' in wrong.output
        assert "does not decrypt with this data directory's events key" in wrong.output
