"""The dashboard keeps one read-model engine (connection pool) for every page (issue 17):
sequential pages open no new database connection after the first, a connection the
server killed between two pages is replaced, not shown as an error, and a rebuild by
another program between two pages is seen (caught up and checked against its seals)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, make_url
from sqlalchemy.pool import Pool

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner
from tests.web.conftest import STAFF, post, sign_in

PAGES = ["/", "/footage", "/requests", "/reports/disclosures"]
ROUNDS = 5


@pytest.fixture
def connections() -> Iterator[list[Any]]:
    """Every new DB-API connection any SQLAlchemy pool opens while the test runs."""
    opened: list[Any] = []

    def note(dbapi_connection: Any, _record: Any) -> None:
        opened.append(dbapi_connection)

    event.listen(Pool, "connect", note)
    yield opened
    event.remove(Pool, "connect", note)


def _url(data_dir: Path) -> str:
    return DataDir.open(data_dir).database_url


def _admin(data_dir: Path) -> psycopg.Connection[Any]:
    url = make_url(_url(data_dir)).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _backends(admin: psycopg.Connection[Any]) -> set[int]:
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return {pid for (pid,) in rows}


def test_pages_reuse_the_connections_of_the_first(
    app: Flask, library: dict[str, Any], connections: list[Any]
) -> None:
    director = sign_in(app, DIRECTOR)
    for path in PAGES:  # the first round fills the pools
        assert director.get(path).status_code == 200, path
    first = len(connections)
    assert first > 0  # the test sees the pools' connections
    postgres = _url(library["data_dir"]).startswith("postgresql")
    admin = _admin(library["data_dir"]) if postgres else None
    before = _backends(admin) if admin is not None else set()
    for _ in range(ROUNDS):
        for path in PAGES:
            assert director.get(path).status_code == 200, path
    assert connections[first:] == []  # no page opened a connection of its own
    if admin is not None:
        # the server's side agrees: no backend of this database started since
        assert _backends(admin) <= before
        admin.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # pg_terminate_backend
def test_a_connection_the_server_killed_between_pages_is_replaced(
    app: Flask, library: dict[str, Any]
) -> None:
    director = sign_in(app, DIRECTOR)
    for path in PAGES:
        assert director.get(path).status_code == 200, path
    with _admin(library["data_dir"]) as admin:
        killed = _backends(admin)
        assert killed  # the pools hold idle connections between pages
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for path in PAGES:
            response = director.get(path)
            assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert not killed & _backends(admin)


def test_a_rebuild_by_another_program_between_pages_is_seen(
    app: Flask, library: dict[str, Any]
) -> None:
    director = sign_in(app, DIRECTOR)
    assert "A reporter" not in director.get("/requests").get_data(as_text=True)
    result = CustodesRunner().invoke(
        custodes,
        ["--data-dir", str(library["data_dir"]), "projections", "rebuild", "--json"],
        obj=ManualClock(datetime.fromisoformat(NOW.isoformat())),
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    # a request recorded after the rebuild: the server's pool catches up the new tables
    data = {"requester_kind": "public", "requester": "A reporter", "received_by": STAFF,
            "records": "footage", "description": "the lobby", "footage": library["segment"]}  # fmt: skip
    staff = sign_in(app, STAFF)
    response = post(staff, "/requests/new", data, form_page="/requests/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    for path in PAGES:
        response = director.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
    assert "A reporter" in director.get("/requests").get_data(as_text=True)


def test_pages_in_several_threads_never_share_a_connection(
    app: Flask, library: dict[str, Any]
) -> None:
    """As waitress serves them (several threads): every connection is checked out by one
    thread at a time and every checkout is returned when its page is done."""
    in_use: dict[int, int] = {}  # DB-API connection -> the thread holding it
    shared: list[int] = []
    lock = threading.Lock()

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with lock:
            if id(dbapi_connection) in in_use:
                shared.append(id(dbapi_connection))
            in_use[id(dbapi_connection)] = threading.get_ident()

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        with lock:
            in_use.pop(id(dbapi_connection), None)

    browsers = [sign_in(app, DIRECTOR) for _ in range(4)]

    def browse(browser: Any) -> list[int]:
        return [browser.get(path).status_code for _ in range(3) for path in PAGES]

    event.listen(Pool, "checkout", checkout)
    event.listen(Pool, "checkin", checkin)
    try:
        with ThreadPoolExecutor(len(browsers)) as threads:
            codes = [c for page_codes in threads.map(browse, browsers) for c in page_codes]
    finally:
        event.remove(Pool, "checkout", checkout)
        event.remove(Pool, "checkin", checkin)
    assert codes == [200] * len(codes)
    assert shared == []
    assert in_use == {}  # every page returned what it checked out
