"""Shared fixtures: real SQLite files and a fresh PostgreSQL database per test.

PostgreSQL tests run where CUSTODES_TEST_POSTGRES_URL is set (CI sets it); under CI
they FAIL rather than skip if it is missing, so a green CI always includes them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.clock import ManualClock

PG_ENV = "CUSTODES_TEST_POSTGRES_URL"
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
# When the test library was set up: its ledger, staff and cameras predate the footage and
# requests the tests record around NOW (recorded times only move forward, R26; footage is
# never older than its camera's registration).
SETUP = datetime(2026, 9, 18, 15, 0, tzinfo=UTC)


def postgres_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} must be set in CI: the PostgreSQL tests may not skip")
        pytest.skip("CUSTODES_TEST_POSTGRES_URL not set: PostgreSQL tests skipped outside CI")
    return url


def require_tool(name: str, why: str) -> None:
    """Fail, never skip, without a system tool a recipient would use (.ci/run installs it)."""
    import shutil

    if shutil.which(name) is None:
        pytest.fail(f"{name} is not installed ({why}); install it, e.g. apt-get install {name}")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """CREATE DATABASE for one test, yield its SQLAlchemy URL, DROP it afterwards."""
    import psycopg
    from sqlalchemy import make_url

    admin = make_url(postgres_admin_url())
    name = f"custodes_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite'}?timeout=15"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(autouse=True)
def fast_kdf(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seal test keys with a cheap argon2id, in this process only: the installed command
    (and tests marked ``real_kdf``) keep the real minimum of 64 MiB and 3 passes."""
    if request.node.get_closest_marker("real_kdf") is not None:
        return
    from ledger import credentials
    from tests.identity import CHEAP_KDF

    monkeypatch.setattr(credentials, "KDF_PARAMS", CHEAP_KDF)
    monkeypatch.setattr(credentials, "KDF_MINIMUM", CHEAP_KDF)


def new_data_dir(path: Path, database_url: str, *, at: datetime = SETUP) -> Path:
    """A data directory whose ledger lives in ``database_url``, initialised at ``at`` by
    Dana Director (passphrase: tests.identity.passphrase)."""
    from ledger.app import open_ledger
    from ledger.datadir import DataDir
    from tests.identity import DIRECTOR, passphrase

    dd = DataDir.create(path, database_url=database_url)
    ledger = open_ledger(dd, clock=ManualClock(at))
    ledger.initialise(
        director=DIRECTOR,
        library="Test Library",
        timezone="America/Chicago",
        passphrase=passphrase(DIRECTOR).encode(),
    )
    ledger.close()
    return path


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Iterator[Path]:
    """A fresh data directory whose ledger lives in ``database_url``."""
    yield new_data_dir(tmp_path / "data", database_url)
