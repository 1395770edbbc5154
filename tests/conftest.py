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
from typing import Any

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


# ---- fresh PostgreSQL databases, emptied and reused ------------------------------------
# CREATE DATABASE copies template1 through the WAL and DROP DATABASE forces a checkpoint:
# together 0.3-3 s per test, most of a PostgreSQL test's time. So a database a test is done
# with is emptied (every schema dropped, ``public`` made again as initdb makes it) and
# handed to the next test of this process, but only if its catalogs then read exactly as
# they did when it was new (FINGERPRINT); otherwise it is dropped, as before. The
# databases left at the end of the session are dropped.

FINGERPRINT = r"""
SELECT json_build_object(
  'schemas', (SELECT json_agg(json_build_array(nspname, pg_get_userbyid(nspowner),
                nspacl::text, obj_description(oid, 'pg_namespace')) ORDER BY nspname)
              FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%'),
  'objects', (SELECT json_build_array(
                (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'),
                (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'),
                (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'))),
  'global', (SELECT json_build_array(
                (SELECT json_agg(extname || ' ' || extversion ORDER BY extname)
                 FROM pg_extension),
                (SELECT count(*) FROM pg_default_acl),
                (SELECT count(*) FROM pg_largeobject_metadata),
                (SELECT count(*) FROM pg_event_trigger),
                (SELECT count(*) FROM pg_foreign_data_wrapper),
                (SELECT count(*) FROM pg_foreign_server),
                (SELECT count(*) FROM pg_publication),
                (SELECT count(*) FROM pg_language),
                (SELECT count(*) FROM pg_cast),
                (SELECT count(*) FROM pg_trigger),
                (SELECT count(*) FROM pg_seclabel),
                (SELECT count(*) FROM pg_init_privs))),
  'database', (SELECT json_build_array(pg_get_userbyid(datdba), datacl::text, datconnlimit,
                 datallowconn, (SELECT count(*) FROM pg_db_role_setting
                                WHERE setdatabase = d.oid),
                 (SELECT count(*) FROM pg_shdepend WHERE dbid = d.oid),
                 (SELECT count(*) FROM pg_subscription WHERE subdbid = d.oid))
               FROM pg_database d WHERE datname = current_database())
)::text
"""

_pristine: str | None = None  # FINGERPRINT of a database just made from template1
_spare: list[str] = []  # emptied databases of this process, ready for the next test


def _conninfo(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _end_sessions(admin: Any, name: str) -> bool:
    """End every session connected to database ``name`` (idle pools a test left, the
    server side of a killed process); False if some are still there after 10 s."""
    import time

    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    deadline = time.monotonic() + 10
    while admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
    ).fetchone()[0]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _empty_and_check(admin: Any, conninfo: str, name: str) -> bool:
    """End every session of ``name``, drop everything in it; True if it now reads as new."""
    import psycopg

    if not _end_sessions(admin, name):
        return False
    with psycopg.connect(conninfo) as conn:
        # One transaction, not flushed to disk at its commit: scaffolding, not the ledger.
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("SET synchronous_commit = off")
        for query in EMPTYING:
            for (drop,) in conn.execute(query).fetchall():
                conn.execute(drop)
        conn.commit()
        return conn.execute(FINGERPRINT).fetchone()[0] == _pristine


# What a test may have made: other schemas go whole; ``public`` stays (initdb's privileges
# on it are recorded in pg_init_privs, which pg_dump reads) and is emptied object by object.
_OURS = r"nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'"
EMPTYING = [
    f"SELECT format('DROP SCHEMA %I CASCADE', nspname) FROM pg_namespace "
    f"WHERE {_OURS} AND nspname <> 'public'",
    "SELECT format('DROP %s IF EXISTS %s CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW' "
    "WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' "
    "ELSE 'TABLE' END, c.oid::regclass) FROM pg_class c "
    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
    "SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) FROM pg_proc p "
    "WHERE p.pronamespace = 'public'::regnamespace",
    "SELECT format('DROP TYPE IF EXISTS %s CASCADE', t.oid::regtype) FROM pg_type t "
    "WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('c', 'd', 'e', 'r') "
    "AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')",
]


def _drop_spare_databases() -> None:
    import psycopg

    if not _spare:
        return
    with psycopg.connect(_conninfo(os.environ[PG_ENV]), autocommit=True) as conn:
        while _spare:
            conn.execute(f'DROP DATABASE IF EXISTS "{_spare.pop()}" WITH (FORCE)')


def pytest_sessionfinish(session: pytest.Session) -> None:
    _drop_spare_databases()


@contextmanager
def database_for(kind: str, where: Path) -> Iterator[str]:
    """A ledger database for a fixture that builds one itself: a SQLite file in ``where``
    (``kind`` "sqlite"), else a fresh PostgreSQL database (``fresh_postgres_database``)."""
    if kind == "sqlite":
        yield f"sqlite:///{where / 'ledger.sqlite'}?timeout=15"
    else:
        with fresh_postgres_database() as url:
            yield url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """An empty database for one test (as CREATE DATABASE makes it); yield its SQLAlchemy
    URL; afterwards empty it for the next test, or DROP it if it cannot be made as new."""
    global _pristine
    import psycopg
    from sqlalchemy import make_url

    admin = make_url(postgres_admin_url())
    conninfo = _conninfo(postgres_admin_url())
    if _spare:
        name = _spare.pop()
    else:
        name = f"custodes_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        if _pristine is None:
            target = _conninfo(admin.set(database=name).render_as_string(hide_password=False))
            with psycopg.connect(target, autocommit=True) as conn:
                _pristine = conn.execute(FINGERPRINT).fetchone()[0]
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        _recycle(url, name)


def _recycle(url: str, name: str) -> None:
    """Empty database ``name`` (at ``url``) for the next test of this process, as
    ``fresh_postgres_database`` does, or DROP it if it cannot be made to read as new (a
    DROP DATABASE forces a checkpoint: 0.3-0.7 s)."""
    import psycopg

    with psycopg.connect(_conninfo(postgres_admin_url()), autocommit=True) as conn:
        try:
            reusable = _pristine is not None and _empty_and_check(conn, _conninfo(url), name)
        except psycopg.Error:
            reusable = False
        if reusable:
            _spare.append(name)
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked ``heavy`` first, longest (``seconds``) first, then the rest, in
    collection order otherwise (every xdist worker sorts the same way): the longest tests
    start at once, on both workers, instead of one of them landing last (but see
    ``pytest_xdist_make_scheduler``)."""

    def key(item: pytest.Item) -> tuple[bool, float]:
        heavy = item.get_closest_marker("heavy")
        return heavy is None, -float(heavy.kwargs.get("seconds", 0)) if heavy else 0.0

    items.sort(key=key)


# Modules whose tests share what a fixture of module or session scope built once per
# database (True), or once (False: the demo's run, chromium). Spread test by test over both
# xdist workers, each worker built it again: the demo's run (9 s), the rebuild and as-of
# ledgers (2-5 s each), the report scenarios, chromium (1.5-3.5 s).
SHARED_BUILDS = {
    "tests/cli/test_demo_cli.py": False,
    "tests/cli/test_read_model_seals_cli.py": True,
    "tests/cli/test_register_complete_cli.py": True,
    "tests/cli/test_reports_cli.py": True,
    "tests/cli/test_verify_report_cli.py": True,
    "tests/integration/test_asof.py": True,
    "tests/integration/test_bucket_seals.py": True,
    "tests/integration/test_history_buckets.py": True,
    "tests/integration/test_rebuild.py": True,
    "tests/integration/test_tamper_fuzz.py": True,
    "tests/web/test_browser.py": False,
}


def shared_build(nodeid: str) -> str:
    """The unit of work xdist hands one worker: a test alone, or, in a module of
    ``SHARED_BUILDS``, that module's tests (on the same database, by the test's id, which
    names its parameters: a test with ``postgres`` among them goes with the module's
    PostgreSQL tests, the others with its SQLite ones)."""
    path, _, rest = nodeid.partition("::")
    if path not in SHARED_BUILDS:
        return nodeid
    if not SHARED_BUILDS[path]:
        return path
    params = rest.partition("[")[2]
    return f"{path} {'postgres' if 'postgres' in params else 'sqlite'}"


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n 2`` (xdist's ``--dist load``): the tests one or two at a time as a worker
    needs them, in the order above, except that the tests of a ``shared_build`` go to one
    worker together, so it builds their fixture once; these groups, largest first, are
    handed out before the single tests. (xdist's own ``--dist loadgroup`` cannot do this
    on pytest 9: it renames the tests it groups through a field pytest no longer reads.)"""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler.loadscope import LoadScopeScheduling

    class SharedBuildScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_build(nodeid)

    return SharedBuildScheduling(config, log)


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


@pytest.fixture(autouse=True)
def not_over_ssh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as at the library's desk: a footage view in an SSH session is recorded
    as remote (``cli.footage._remote``), so a suite run over SSH would record otherwise.
    Tests of that set the variables themselves."""
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        monkeypatch.delenv(name, raising=False)


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


@contextmanager
def copy_of_data_dir(source: Path, target: Path) -> Iterator[Path]:
    """A copy of a data directory and of its ledger's database, for a test that changes
    what a module-scoped fixture built once (SQLite: the file; PostgreSQL: CREATE DATABASE
    ... TEMPLATE, dropped afterwards; sessions still connected to the original end)."""
    import json
    import shutil

    import psycopg
    from sqlalchemy import make_url

    config = json.loads((source / "custodes.json").read_text())
    url = config.get("database_url")
    clone = None
    if url and url.startswith("sqlite"):
        original = Path(make_url(url).database or "")
        copied = target.parent / f"{target.name}-{original.name}"
        for suffix in ("", "-wal"):
            if Path(f"{original}{suffix}").exists():
                shutil.copy2(f"{original}{suffix}", f"{copied}{suffix}")
        config["database_url"] = url.replace(str(original), str(copied))
    elif url:
        template = make_url(url)
        clone = f"custodes_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_conninfo(postgres_admin_url()), autocommit=True) as c:
            _end_sessions(c, template.database or "")
            c.execute(f'CREATE DATABASE "{clone}" TEMPLATE "{template.database}"')
        config["database_url"] = template.set(database=clone).render_as_string(hide_password=False)
    shutil.copytree(source, target)
    (target / "custodes.json").write_text(json.dumps(config, indent=2) + "\n")
    try:
        yield target
    finally:
        if clone is not None:
            _recycle(config["database_url"], clone)
