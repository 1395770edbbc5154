"""The tracking table's marks are sealed (R29): "(rebuilding)" and "(no versions) NAME".

The app role may INSERT and UPDATE ``proj_tracking`` (README, grants.sql). A mark written
with plain SQL once made `projections rebuild` "resume" with nothing to do, and a mark
inserted, zeroed or renamed changed whether `--as-of` trusted the row versions. Now a
mark is believed only with its seal: each forgery is exit 3 naming the table, the kind,
the mark and its position, and `verify` warns with the same. Both databases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import execute
from tests.conftest import NOW
from tests.identity import CustodesRunner

DIRECTOR = "Dana Director"
NO_VERSIONS = "(no versions) retention"


def run(data: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(NOW)
    )
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    run(path, "init", "--director", DIRECTOR, "--library", "Test Library")
    run(path, "footage", "list")  # the read models caught up, as any command does
    return path


def as_of() -> str:
    return NOW.isoformat()


def read_model_warnings(data: Path) -> list[dict[str, str]]:
    return json.loads(run(data, "verify", "--json").stdout)["read_models"]


def test_a_rebuilding_mark_inserted_with_sql_is_exit_3_and_nothing_is_dropped(
    data: Path,
) -> None:
    execute(data, "INSERT INTO proj_tracking (projection, position) VALUES ('(rebuilding)', 0)")
    refused = run(data, "projections", "rebuild", "--json", code=3)
    assert (
        "proj_tracking: extra row projection=(rebuilding) "
        "(position 0: a mark with no seal (forged))" in refused.stderr
    )
    assert "projections rebuild --restart" in refused.stderr
    assert read_model_warnings(data) == [
        {
            "table": "proj_tracking",
            "kind": "extra",
            "row": "projection=(rebuilding)",
            "detail": "position 0: a mark with no seal (forged)",
        }
    ]
    done = json.loads(run(data, "projections", "rebuild", "--restart", "--json").stdout)
    assert done["resumed"] is False
    assert read_model_warnings(data) == []


def test_a_no_versions_mark_inserted_with_sql_stops_as_of_reads(data: Path) -> None:
    run(data, "footage", "list", "--as-of", as_of())
    execute(
        data,
        f"INSERT INTO proj_tracking (projection, position) VALUES ('{NO_VERSIONS}', 1)",
    )
    refused = run(data, "footage", "list", "--as-of", as_of(), code=3)
    assert (
        f"proj_tracking: extra row projection={NO_VERSIONS} "
        "(position 1: a mark with no seal (forged))" in refused.stderr
    )
    assert [w["kind"] for w in read_model_warnings(data)] == ["extra"]


def _drop_versions(data: Path) -> None:
    """A ledger whose read models were kept before row versions existed."""
    execute(data, "DROP TABLE proj_retention_segments_asof")


@pytest.mark.parametrize(
    "hide,kind,detail",
    [
        (
            f"UPDATE proj_tracking SET position = 0 WHERE projection = '{NO_VERSIONS}'",
            "edited",
            "position 0, sealed at position 1",
        ),
        (
            f"UPDATE proj_tracking SET projection = 'x' WHERE projection = '{NO_VERSIONS}'",
            "missing",
            "position 1: sealed, but no tracking row",
        ),
    ],
)
def test_a_genuine_no_versions_mark_hidden_with_sql_is_found(
    data: Path, hide: str, kind: str, detail: str
) -> None:
    _drop_versions(data)
    run(data, "footage", "list", "--as-of", as_of())  # versions begun now: marked, sealed
    assert read_model_warnings(data) == []
    execute(data, hide)
    refused = run(data, "footage", "list", "--as-of", as_of(), code=3)
    assert f"proj_tracking: {kind} row projection={NO_VERSIONS} ({detail})" in refused.stderr


def test_a_marks_seal_renamed_to_hide_it_is_found(data: Path) -> None:
    _drop_versions(data)
    run(data, "footage", "list", "--as-of", as_of())
    execute(data, f"UPDATE proj_tracking SET projection = 'x' WHERE projection = '{NO_VERSIONS}'")
    execute(data, f"UPDATE proj_seals SET projection = 'y' WHERE projection = '{NO_VERSIONS}'")
    found = read_model_warnings(data)
    assert found == [
        {
            "table": "proj_seals",
            "kind": "extra",
            "row": "projection=y",
            "detail": "position 1: fails its HMAC",
        }
    ]


def test_a_genuine_rebuilding_mark_still_resumes(data: Path) -> None:
    """The seal is what an interrupted rebuild leaves: the next run resumes."""
    from sqlalchemy import create_engine

    from ledger.datadir import DataDir
    from projections.base import REBUILDING
    from projections.seal import seal_key, set_mark
    from tests.identity import open_test_ledger

    dd = DataDir.open(data)
    led = open_test_ledger(dd, clock=ManualClock(NOW))
    engine = create_engine(dd.database_url)
    with engine.begin() as conn:
        set_mark(conn, seal_key(led), REBUILDING, 0)
    engine.dispose()
    led.close()
    done = json.loads(run(data, "projections", "rebuild", "--json").stdout)
    assert done["resumed"] is True
    assert read_model_warnings(data) == []
