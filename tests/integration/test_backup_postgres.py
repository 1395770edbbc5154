"""The README's PostgreSQL recipe, run for real: roles, pg_dump, pg_restore, verify.

The SQL is read from README.md itself ("Deploying on PostgreSQL for a library system"),
with the role and database names made unique, so the README cannot drift from what
works. Needs a superuser on CUSTODES_TEST_POSTGRES_URL (CI's) and psql, pg_dump and
pg_restore (CI installs them; a missing one fails under CI).
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.conftest import NOW, postgres_admin_url, require_tool
from tests.identity import CustodesRunner

pytestmark = pytest.mark.postgres

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Deploying on PostgreSQL for a library system"
DIRECTOR = "Dana Director"


def readme_sql() -> tuple[str, str]:
    """The section's two SQL blocks: roles.sql (superuser) and grants.sql (owner)."""
    text = README.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    roles, grants = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    return roles, grants


class Cluster:
    """Unique role and database names on the test server, dropped afterwards."""

    def __init__(self) -> None:
        from sqlalchemy import make_url

        self.admin = make_url(postgres_admin_url())
        tag = uuid.uuid4().hex[:10]
        self.prefix = f"custodes_test_{tag}"
        self.db = self.prefix
        self.restored = f"{self.prefix}_restored"
        self.roles = {r: f"{self.prefix}_{r}" for r in ("owner", "app", "auditor")}

    def rename(self, sql: str) -> str:
        sql = re.sub(r"\bcustodes_(owner|app|auditor)\b", lambda m: self.roles[m[1]], sql)
        return re.sub(r"\bDATABASE custodes\b", f"DATABASE {self.db}", sql)

    def libpq(self, role: str | None = None, db: str | None = None) -> str:
        url = self.admin.set(drivername="postgresql")
        if role is not None:
            url = url.set(username=self.roles[role], password=None)
        if db is not None:
            url = url.set(database=db)
        return url.render_as_string(hide_password=False)

    def sqlalchemy(self, role: str, db: str) -> str:
        return self.libpq(role, db).replace("postgresql://", "postgresql+psycopg://", 1)

    def psql(self, conninfo: str, sql: str, *, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo],
            input=sql,
            capture_output=True,
            text=True,
            check=check,
        )

    def drop(self) -> None:
        admin = self.libpq()
        for db in (self.restored, self.db):
            self.psql(admin, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE);\n', check=False)
        for role in self.roles.values():
            self.psql(admin, f'DROP ROLE IF EXISTS "{role}";\n', check=False)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    for tool in ("psql", "pg_dump", "pg_restore"):
        require_tool(tool, "the README's PostgreSQL recipe uses it")
    c = Cluster()
    try:
        yield c
    finally:
        c.drop()


def cli(data: Path, url: str, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes,
        ["--data-dir", str(data), *args],
        obj=ManualClock(NOW),
        env={"CUSTODES_DATABASE_URL": url},
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def set_up_as_the_readme_says(cluster: Cluster, data: Path) -> None:
    """roles.sql as a superuser, the tables created by the owner, then grants.sql."""
    roles_sql, grants_sql = readme_sql()
    cluster.psql(cluster.libpq(), cluster.rename(roles_sql))
    owner = cluster.sqlalchemy("owner", cluster.db)
    cli(data, owner, "init", "--director", DIRECTOR, "--library", "Test Library")
    cli(data, owner, "verify")
    cli(data, owner, "projections", "rebuild")
    cluster.psql(cluster.libpq("owner", cluster.db), cluster.rename(grants_sql))


def test_the_readme_roles_let_custodes_work_and_keep_the_events_append_only(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    set_up_as_the_readme_says(cluster, data)

    app = cluster.sqlalchemy("app", cluster.db)
    cli(data, app, "staff", "add", "Sam Staff", "--role", "staff", "--as", DIRECTOR)
    cli(
        data, app, "camera", "add", "lobby-1", "--location", "Main lobby", "--zone", "public",
        "--signage-posted", "--as", DIRECTOR,
    )  # fmt: skip
    cameras = json.loads(cli(data, app, "camera", "list", "--json").stdout)
    assert [c["camera_id"] for c in cameras] == ["lobby-1"]
    cli(data, app, "checkpoint", "--out", str(tmp_path / "kept.checkpoint"))
    # init's act (5 entries), Sam and his key, the camera
    assert "OK: 8 entries verify" in cli(data, app, "verify").stdout

    as_app = cluster.libpq("app", cluster.db)
    refused = cluster.psql(as_app, "UPDATE ledger_events SET topic = topic;\n", check=False)
    assert "ledger_events is append-only: UPDATE refused" in refused.stderr
    for statement in (
        "DELETE FROM ledger_events;",
        "TRUNCATE ledger_events;",
        "ALTER TABLE ledger_events DISABLE TRIGGER ledger_events_append_only;",
        "DROP TABLE ledger_events;",
    ):
        refused = cluster.psql(as_app, statement + "\n", check=False)
        assert refused.returncode != 0, statement
        assert "permission denied" in refused.stderr or "must be owner" in refused.stderr
    refused = cluster.psql(
        cluster.libpq("owner", cluster.db), "DELETE FROM ledger_events;\n", check=False
    )
    assert "ledger_events is append-only: DELETE refused" in refused.stderr

    auditor = cluster.sqlalchemy("auditor", cluster.db)
    assert "OK: 8 entries verify" in cli(data, auditor, "verify").stdout
    refused = cluster.psql(
        cluster.libpq("auditor", cluster.db), "DELETE FROM proj_cameras;\n", check=False
    )
    assert "read-only transaction" in refused.stderr


def test_the_readme_pg_dump_recipe_restores_a_copy_that_verifies_against_kept_checkpoints(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    set_up_as_the_readme_says(cluster, data)
    app = cluster.sqlalchemy("app", cluster.db)
    cli(
        data, app, "camera", "add", "lobby-1", "--location", "Main lobby", "--zone", "public",
        "--signage-posted", "--as", DIRECTOR,
    )  # fmt: skip
    cameras = cli(data, app, "camera", "list", "--json").stdout
    assert "Main lobby" in cameras

    # The backup: a checkpoint, then the dump, without the read models' rows.
    cli(data, app, "checkpoint", "--out", str(tmp_path / "dump.checkpoint"))
    cli(data, app, "staff", "add", "Bo Business", "--role", "business_manager", "--as", DIRECTOR)
    dump = tmp_path / "custodes.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "--exclude-table-data=proj_*", "--file", str(dump),
         cluster.libpq("owner", cluster.db)],
        check=True,
    )  # fmt: skip
    plain = subprocess.run(
        ["pg_restore", "--data-only", "-f", "-", str(dump)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "COPY public.ledger_events " in plain and "Main lobby" not in plain
    # Life goes on after the dump; the board is given a newer checkpoint.
    cli(data, app, "staff", "add", "Cy Counsel", "--role", "counsel", "--as", DIRECTOR)
    cli(data, app, "checkpoint", "--out", str(tmp_path / "board.checkpoint"))

    # The restore, into a new database, as the README says.
    cluster.psql(
        cluster.libpq(), f'CREATE DATABASE "{cluster.restored}" OWNER "{cluster.roles["owner"]}"\n'
    )
    subprocess.run(
        [
            "pg_restore",
            "--exit-on-error",
            "-d",
            cluster.libpq("owner", cluster.restored),
            str(dump),
        ],
        check=True,
        capture_output=True,
    )
    restored = cluster.sqlalchemy("owner", cluster.restored)
    ok = cli(data, restored, "verify", "--against", str(tmp_path / "dump.checkpoint"))
    assert "OK: 8 entries verify and extend the checkpoint of 6 entries" in ok.stdout
    older = cli(data, restored, "verify", "--against", str(tmp_path / "board.checkpoint"), code=3)
    assert "it covers 10 entries but the ledger now has 8 (truncated at position 9)" in older.stderr
    # The read models come back from the events, the first time they are needed.
    restored_app = cluster.sqlalchemy("app", cluster.restored)
    assert cli(data, restored_app, "camera", "list", "--json").stdout == cameras
    # The grants and the append-only trigger came back with the dump.
    as_app = cluster.libpq("app", cluster.restored)
    refused = cluster.psql(as_app, "UPDATE ledger_events SET topic = topic;\n", check=False)
    assert "ledger_events is append-only: UPDATE refused" in refused.stderr
    cli(data, restored_app, "staff", "add", "Di Desk", "--role", "staff", "--as", DIRECTOR)
    assert "OK: 10 entries verify" in cli(data, restored_app, "verify").stdout
