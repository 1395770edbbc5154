"""Read models made by an earlier version (before rows carried ``asof_from``, issue 18):
every command that reads them says to run `projections rebuild`, records nothing, and
works again after it. Both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, inspect

import projections.base
from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import count_events, database_url, execute
from tests.conftest import NOW
from tests.identity import CustodesRunner


def run(data: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(NOW)
    )
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    run(path, "init", "--director", "Dana Director", "--library", "Test Library")
    run(path, "footage", "list")  # the read models caught up, as any command does
    return path


def columns(data: Path, table: str) -> set[str]:
    engine = create_engine(database_url(data))
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("table", "column"),
    [
        # the segments' rows before they carried their versions' start (4 December 2026)
        ("proj_retention_segments", "asof_from"),
        # the subject read models before the index left out an aggregate's own events
        # (session 24), whose rows would read as extra to `verify --deep`
        ("proj_subject_aggregates", "notification_id"),
    ],
)
def test_read_models_of_an_earlier_version_are_refused_until_rebuilt(
    data: Path, table: str, column: str
) -> None:
    # The read model as the version before made it: without the column.
    execute(data, f"ALTER TABLE {table} DROP COLUMN {column}")
    projections.base._SCHEMA_SEEN.clear()  # noqa: SLF001 - a new process after the upgrade
    before = count_events(data)
    refused = run(data, "footage", "list", code=1)
    assert "earlier version of Custodes" in refused.stderr
    assert "custodes projections rebuild" in refused.stderr
    assert table in refused.stderr
    assert count_events(data) == before  # nothing recorded, the ledger unchanged

    done = json.loads(run(data, "projections", "rebuild", "--json").stdout)
    assert done["resumed"] is False
    assert column in columns(data, table)
    run(data, "footage", "list")
    assert json.loads(run(data, "verify", "--json").stdout)["read_models"] == []


def test_a_second_rebuild_is_refused_before_its_progress_bar_shows(data: Path) -> None:
    """Refused because another rebuild holds the ledger's lock, the command printed its
    "Rebuilding" bar first, as if it had begun; now only the refusal, nothing dropped."""
    from projections.base import rebuild_lock

    engine = create_engine(database_url(data))
    try:
        with rebuild_lock(engine):  # as a rebuild in another process holds it
            refused = run(data, "projections", "rebuild", code=1)
    finally:
        engine.dispose()
    assert "another `custodes projections rebuild` is running" in refused.stderr
    assert "Rebuilding" not in refused.stderr
    assert "asof_from" in columns(data, "proj_retention_segments")  # nothing dropped
    run(data, "footage", "list")


def test_read_models_from_before_the_terms_were_folded_in_are_rebuilt_without_them(
    data: Path,
) -> None:
    """Up to session 23 the retention terms were a read model of their own
    (``proj_retention_terms``, its position and its seal) and the segment rows lacked
    their columns. Such read models are refused until rebuilt, as any earlier version's;
    the rebuild drops the old table, its position and its seal, and what it leaves
    verifies."""
    for column in (
        "retention_days", "retention_version", "purge_retention_days", "purge_policy_version",
    ):  # fmt: skip
        execute(data, f"ALTER TABLE proj_retention_segments DROP COLUMN {column}")
    execute(
        data,
        "CREATE TABLE proj_retention_terms (segment_id VARCHAR(12) PRIMARY KEY, "
        "retention_days INTEGER NOT NULL)",
    )
    execute(data, "INSERT INTO proj_retention_terms VALUES ('0123456789ab', 30)")
    execute(data, "INSERT INTO proj_tracking (projection, position) VALUES ('retention_terms', 1)")
    execute(
        data,
        "INSERT INTO proj_seals (projection, position, tables, mac) "
        "SELECT 'retention_terms', position, tables, mac FROM proj_seals "
        "WHERE projection = 'refusals'",
    )
    projections.base._SCHEMA_SEEN.clear()  # noqa: SLF001 - a new process after the upgrade
    refused = run(data, "footage", "list", code=1)
    assert "proj_retention_segments" in refused.stderr
    assert "custodes projections rebuild" in refused.stderr

    run(data, "projections", "rebuild")
    engine = create_engine(database_url(data))
    try:
        assert "proj_retention_terms" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert execute(data, "DELETE FROM proj_tracking WHERE projection = 'retention_terms'") == 0
    assert execute(data, "DELETE FROM proj_seals WHERE projection = 'retention_terms'") == 0
    assert "retention_days" in columns(data, "proj_retention_segments")
    run(data, "footage", "list")
    assert json.loads(run(data, "verify", "--json").stdout)["read_models"] == []
