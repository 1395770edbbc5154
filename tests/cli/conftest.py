"""Every CLI test runs twice: on the embedded SQLite (the default) and on PostgreSQL,
pointed at a fresh database through CUSTODES_DATABASE_URL as a library system would run
it (the database is dropped afterwards). Tests about SQLite itself are marked
``sqlite_only``; tests on a module-wide scenario (``world``) choose their database there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres_database

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cli_database" not in metafunc.fixturenames:
        return
    only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
    if only_sqlite or "world" in metafunc.fixturenames:
        metafunc.parametrize("cli_database", ["sqlite"], indirect=True)
    else:
        metafunc.parametrize("cli_database", DATABASES, indirect=True)


@pytest.fixture(autouse=True)
def cli_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            monkeypatch.setenv("CUSTODES_DATABASE_URL", url)
            yield url
    else:
        monkeypatch.delenv("CUSTODES_DATABASE_URL", raising=False)
        yield "sqlite"
