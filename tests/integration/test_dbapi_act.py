"""Acts on the DB-API path (``ledger.dbapi_store``, what the command line opens) write
exactly the rows the SQLAlchemy path writes: the same ledger copied twice, the same acts
at the same time on each copy, one copy per path, give equal event rows, equal decoded
events and equal read models, and both chains verify. Where the DB-API path does not
apply, the ledger opens on SQLAlchemy as before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy import text

from ledger.app import Ledger, open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.dbapi_store import DbapiRecorder, PlainPathUnavailable
from ledger.errors import NotPermitted
from ledger.integrity import open_chain, verify_chain
from ledger.store import ChainedApplicationRecorder
from projections.cameras import camera_records, refused_registrations
from projections.registry import read_views
from tests.conftest import NOW, copy_of_data_dir, new_data_dir
from tests.identity import DIRECTOR, open_test_ledger

AT = NOW + timedelta(hours=1)


def _acts(ledger: Ledger) -> None:
    """Acts on three aggregates (site, camera, refusal), one of them refused."""
    ledger.register_camera(
        "lobby-1", location="Main lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.retire_camera("lobby-1", reason="moved", actor=DIRECTOR)
    ledger.register_camera(
        "desk-2", location="Reference desk", zone="staff_area", signage_posted=True,
        actor=DIRECTOR,
    )  # fmt: skip
    with pytest.raises(NotPermitted):
        ledger.register_camera(
            "hall-3", location="Hall", zone="public", signage_posted=False, actor=DIRECTOR
        )


def _rows(path: Path) -> list[tuple[Any, ...]]:
    """Every stored row, every column, and the chain verified (entries and signatures)."""
    chain = open_chain(DataDir.open(path))
    try:
        result = verify_chain(chain, extend_tree=False)  # entries and every act's signature
        assert result.ok, result.damage
        assert result.count == chain.count_rows()
        engine = chain.recorder.datastore.engine
        assert engine is not None
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM ledger_events ORDER BY id")).all()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    finally:
        engine = chain.recorder.datastore.engine
        assert engine is not None
        engine.dispose()


def test_the_dbapi_path_writes_the_rows_the_sqlalchemy_path_writes(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An act draws two random values: a refusal's id, and each state's AES-GCM nonce.
    # Both copies draw the same ones, so every byte must match.
    import ledger.application as application

    found: dict[bool, Any] = {}
    for dbapi in (True, False):
        ids = iter([UUID(int=n) for n in range(1, 9)])
        monkeypatch.setattr(application, "uuid4", lambda ids=ids: next(ids))
        nonces = iter(range(1, 1000))
        monkeypatch.setattr(
            AESCipher, "random_bytes", staticmethod(lambda n, c=nonces: next(c).to_bytes(n))
        )
        with copy_of_data_dir(data_dir, tmp_path / f"copy-{dbapi}") as path:
            ledger = open_test_ledger(DataDir.open(path), clock=ManualClock(AT), dbapi=dbapi)
            try:
                assert isinstance(ledger.recorder, DbapiRecorder) is dbapi
                _acts(ledger)
                log = list(ledger.read_log())
                models = read_views(
                    ledger,
                    lambda c: (camera_records(c), refused_registrations(c)),
                    checked=True,  # the read models' seals (R29) hold too
                )
            finally:
                ledger.close()
            found[dbapi] = (_rows(path), log, models)
    rows, log, models = found[True]
    assert len(rows) == len(found[False][0]) > 4
    assert rows == found[False][0]  # every column: ids, states, hashes, signed acts
    assert log == found[False][1]
    assert models == found[False][2]
    assert [c.camera_id for c in models[0]] == ["desk-2", "lobby-1"]
    assert len(models[1]) == 1


def test_acts_on_either_path_extend_one_chain(data_dir: Path) -> None:
    """The paths take turns on one ledger: each reads the head the other wrote."""
    before = len(_rows(data_dir))
    for n, dbapi in enumerate((True, False, True, False)):
        ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(AT), dbapi=dbapi)
        try:
            ledger.register_camera(
                f"cam-{n}", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
            )
        finally:
            ledger.close()
    assert len(_rows(data_dir)) == before + 4  # and the chain verifies (_rows)


def _opened_recorder(path: Path) -> Any:
    ledger = open_ledger(DataDir.open(path), dbapi=True)
    try:
        ledger.recorder.max_notification_id()  # a first read (SQLite: switches to WAL)
        return type(ledger.recorder)
    finally:
        ledger.close()


@pytest.mark.sqlite_only
def test_a_sqlite_file_not_in_wal_mode_opens_on_sqlalchemy(tmp_path: Path) -> None:
    import gc
    import sqlite3

    path = new_data_dir(tmp_path / "data", f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    gc.collect()  # the set-up's pooled connections: a journal mode changes with none open
    with sqlite3.connect(tmp_path / "ledger.sqlite") as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    assert _opened_recorder(path) is ChainedApplicationRecorder
    with sqlite3.connect(tmp_path / "ledger.sqlite") as conn:  # the SQLAlchemy path set it
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert _opened_recorder(path) is DbapiRecorder


def test_a_ledger_without_its_events_table_opens_on_sqlalchemy(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "data"
    DataDir.create(path, database_url=database_url)
    assert _opened_recorder(path) is ChainedApplicationRecorder  # which creates the table
    assert _opened_recorder(path) is DbapiRecorder


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",  # in memory
        "sqlite:///:memory:",
        "sqlite:///ledger.sqlite?timeout=5&check_same_thread=false",  # another option
        "sqlite+aiosqlite:///ledger.sqlite",
        "postgresql+psycopg2://postgres@127.0.0.1/test",
        "postgresql+psycopg://postgres@/test?host=a&host=b",  # multi-host
        "mysql://someone@somewhere/db",
        "not a url",
    ],
)
def test_urls_the_dbapi_path_does_not_take(url: str) -> None:
    with pytest.raises(PlainPathUnavailable):
        DbapiRecorder.open(url, table="ledger_events")


def test_no_sqlite_file_is_created_by_the_dbapi_path(tmp_path: Path) -> None:
    with pytest.raises(PlainPathUnavailable):
        DbapiRecorder.open(f"sqlite:///{tmp_path / 'absent.sqlite'}", table="ledger_events")
    assert not (tmp_path / "absent.sqlite").exists()


def test_a_plain_recorder_closed_from_another_thread_does_not_raise(data_dir: Path) -> None:
    """An unclosed ledger collected by the garbage collector on another thread closes its
    DB-API recorder there (``Application.__del__``): a SQLite connection made for one
    thread refused, and the suite showed it as an ignored exception."""
    import threading

    url = DataDir.open(data_dir).database_url
    recorder = DbapiRecorder.open(url, table="ledger_events")
    errors: list[BaseException] = []

    def close() -> None:
        try:
            recorder.close()
        except BaseException as e:  # noqa: BLE001 - the test reports it
            errors.append(e)

    other = threading.Thread(target=close)
    other.start()
    other.join()
    assert errors == []
    recorder.close()  # from its own thread, as ever
