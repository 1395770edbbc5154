"""The README's PostgreSQL grants (issue 14 finding 1, R29), applied as written: the app
role keeps the read models (every command catches them up) but cannot DELETE or TRUNCATE
one; what it can still do, UPDATE a row, is caught by the seals (exit 3 naming the row).
The role names are made unique (roles are cluster-wide); the SQL is the README's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from projections.registry import read_views
from projections.retention import segment_rows
from tests.conftest import SETUP, fresh_postgres_database, postgres_admin_url
from tests.identity import CustodesRunner, open_test_ledger, passphrase
from tests.integration.test_compliance_report import D, S, build_scenario

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
REPORT_NOW = "2026-11-05T18:00:00Z"


def readme_sql(after: str) -> str:
    """The first ```sql block after the line containing ``after``."""
    text = (ROOT / "README.md").read_text()
    start = text.index(after)
    match = re.search(r"```sql\n(.*?)```", text[start:], re.S)
    assert match is not None
    return match.group(1)


def conninfo(url: str, user: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if user is not None:
        u = u.set(username=user, password=None)
    return u.render_as_string(hide_password=False)


@pytest.fixture
def app_role() -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    app, auditor = f"custodes_app_{suffix}", f"custodes_auditor_{suffix}"
    with psycopg.connect(conninfo(postgres_admin_url()), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {app} LOGIN")
        conn.execute(f"CREATE ROLE {auditor} LOGIN")
    try:
        yield app, auditor
    finally:
        with psycopg.connect(conninfo(postgres_admin_url()), autocommit=True) as conn:
            for role in (app, auditor):
                conn.execute(f"DROP ROLE IF EXISTS {role}")


def run(*args: str, code: int = 0) -> str:
    result = CustodesRunner().invoke(
        custodes, list(args), obj=ManualClock(datetime.fromisoformat(REPORT_NOW))
    )
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result.stderr + result.stdout


def test_the_app_role_cannot_delete_read_models_and_its_edits_are_caught(
    tmp_path: Path, app_role: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, auditor = app_role
    with fresh_postgres_database() as url:
        data = tmp_path / "data"
        # As the owner (here the admin): the ledger, its scenario and the read models.
        ledger = open_test_ledger(DataDir.create(data, database_url=url), clock=ManualClock(SETUP))
        ledger.initialise(director=D, library="Mahomet Public Library",
                          timezone="America/Chicago", passphrase=passphrase(D).encode())  # fmt: skip
        build_scenario(ledger)
        ledger.close()
        run("--data-dir", str(data), "verify")
        run("--data-dir", str(data), "projections", "rebuild")
        grants = readme_sql("and grant the others what they need")
        grants = grants.replace("custodes_app", app).replace("custodes_auditor", auditor)
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute(grants)  # type: ignore[arg-type]
        # As the app role: commands keep the read models (insert, update) and report.
        app_url = make_url(url).set(username=app, password=None)
        monkeypatch.setenv("CUSTODES_DATABASE_URL", app_url.render_as_string(False))
        out = tmp_path / "board.json"
        run("--data-dir", str(data), "report", "compliance", "--from", "2026-11-01",
            "--to", "2026-11-05", "--format", "json", "--out", str(out), "--as", D)  # fmt: skip
        run("--data-dir", str(data), "report", "access")  # catches up its record: sealed
        run("--data-dir", str(data), "footage", "list")
        # The app role keeps the row versions too (UPDATE and INSERT only, never DELETE):
        # a flag updates a segment row, the next command's catch-up versions it; and
        # --as-of reads through temporary views (the database's TEMPORARY privilege).
        ledger = open_test_ledger(
            DataDir.open(data), clock=ManualClock(datetime.fromisoformat(REPORT_NOW))
        )
        segment = read_views(ledger, lambda c: segment_rows(c, ledger.clock()))[-1].segment_id
        ledger.flag(segment, incident="IR-9", reason="slip on ice", actor=D)
        ledger.close()
        listed = run("--data-dir", str(data), "footage", "list", "--json", "--as-of",
                     "2026-11-05T17:00:00Z")  # fmt: skip
        assert segment in listed
        run("--data-dir", str(data), "report", "disclosures", "--json", "--as-of", "2026-11-04")
        with psycopg.connect(conninfo(url, app), autocommit=True) as conn:
            for sql in ("DELETE FROM proj_refusals", "TRUNCATE proj_access_viewings",
                        "DELETE FROM proj_seals"):  # fmt: skip
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)  # type: ignore[arg-type]
            # Not prevented: an UPDATE. Detected: the report names the row.
            conn.execute(f"UPDATE proj_refusals SET actor = 'Bo Manager' WHERE actor = '{S}'")
        err = run("--data-dir", str(data), "report", "access", code=3)
        assert "proj_refusals: edited row notification_id=" in err
        assert "'Sam Staff' -> 'Bo Manager'" in err
        # The tracking table's marks: the app role may INSERT them (docs/REPORTS.md, "The
        # marks are sealed"); a forged one is caught, never obeyed.
        with psycopg.connect(conninfo(url, app), autocommit=True) as conn:
            for mark, position in (("(no versions) retention", 1), ("(rebuilding)", 0)):
                conn.execute(
                    "INSERT INTO proj_tracking (projection, position) VALUES (%s, %s)",
                    (mark, position),
                )
        err = run("--data-dir", str(data), "footage", "list", "--as-of",
                  "2026-11-05T17:00:00Z", code=3)  # fmt: skip
        assert (
            "proj_tracking: extra row projection=(no versions) retention "
            "(position 1: a mark with no seal (forged))" in err
        )
        monkeypatch.setenv("CUSTODES_DATABASE_URL", url)  # the owner rebuilds
        err = run("--data-dir", str(data), "projections", "rebuild", "--json", code=3)
        assert (
            "proj_tracking: extra row projection=(rebuilding) "
            "(position 0: a mark with no seal (forged))" in err
        )
