"""Issue 14 finding 1 (R29): read models rewritten with plain SQL are never printed.

The forgeries of the security review, made with SQL on the database of a real scenario
(SQLite file or PostgreSQL database): rows deleted from ``proj_access_viewings`` and
``proj_refusals``, the Director's viewing renamed with another reason, a request's
decision set to denied, an overdue segment's deadline moved to 2099, a row inserted.
Each report exits 3 naming the table, the kind and the row; no file is written, no
checkpoint printed and nothing recorded. `verify` warns with the same rows and
`projections rebuild` repairs them. Runs on both databases (tests/cli/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.cli.db_helpers import count_events, execute
from tests.conftest import copy_of_data_dir, fresh_postgres_database
from tests.identity import CustodesRunner, open_test_ledger
from tests.integration.test_compliance_report import D, S, Scenario, build_library

REPORT_NOW = "2026-11-05T18:00:00Z"
PERIOD = ["--from", "2026-11-01", "--to", "2026-11-05"]


_BUILT: dict[str, tuple[Path, Scenario]] = {}  # the scenario, by database kind


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExitStack]:
    """Holds the PostgreSQL database of the scenario built once (``forged``)."""
    with ExitStack() as stack:
        yield stack
    _BUILT.clear()


def _built(
    kind: str, stack: ExitStack, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Scenario]:
    """The scenario, its read models caught up, built once per module and database kind
    (1-2 s a build); ``forged`` copies it for each test."""
    if kind not in _BUILT:
        path = tmp_path_factory.mktemp(f"seals-{kind}") / "data"
        url = None if kind == "sqlite" else stack.enter_context(fresh_postgres_database())
        with pytest.MonkeyPatch.context() as mp:
            if url is None:
                mp.delenv("CUSTODES_DATABASE_URL", raising=False)
            else:
                mp.setenv("CUSTODES_DATABASE_URL", url)
            sc = build_library(path, url)
            # The read models caught up (as any command does) before the forgery.
            run(path, "footage", "list")
            run(path, "report", "disclosures", *PERIOD)
        _BUILT[kind] = (path, sc)
    return _BUILT[kind]


@pytest.fixture
def forged(
    tmp_path: Path,
    cli_database: str,
    templates: ExitStack,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Path, Scenario]]:
    """A copy of the scenario (data directory and database) for this test alone; on
    PostgreSQL, CUSTODES_DATABASE_URL names the copy's database."""
    kind = "sqlite" if cli_database == "sqlite" else "postgres"
    source, sc = _built(kind, templates, tmp_path_factory)
    with copy_of_data_dir(source, tmp_path / "data") as path:
        if kind == "postgres":
            config = json.loads((path / "custodes.json").read_text())
            monkeypatch.setenv("CUSTODES_DATABASE_URL", config["database_url"])
        yield path, sc


def run(data: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes,
        ["--data-dir", str(data), *args],
        obj=ManualClock(datetime.fromisoformat(REPORT_NOW)),
    )
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def notification_of(data: Path, table: str, where: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(DataDir.open(data).database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(f"SELECT notification_id FROM {table} WHERE {where}")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def refused(result: Result, *needles: str) -> None:
    """Exit 3 (checked by ``run``) with one message naming what was found."""
    message = result.stderr
    assert "read models do not match the ledger (R29)" in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    assert "projections rebuild" in message


def compliance_refused(data: Path, tmp: Path, *needles: str) -> None:
    before = count_events(data)
    out = tmp / "board.json"
    r = run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(out),
            "--as", D, code=3)  # fmt: skip
    refused(r, *needles)
    assert not out.exists() and list(tmp.glob("board*")) == []  # no file, no temporary
    assert "custodes/" not in r.stdout and r.stdout == ""  # no checkpoint printed
    # Nothing recorded: no ComplianceReportIssued (the verification adds tree rows only).
    assert count_events(data) == before


def test_deleted_viewings_and_refusals_are_named_not_printed(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = forged
    sam = notification_of(data, "proj_refusals", f"actor = '{S}'")
    viewing = notification_of(data, "proj_access_viewings", f"actor = '{D}'")
    execute(data, f"DELETE FROM proj_refusals WHERE actor = '{S}'")
    execute(data, f"DELETE FROM proj_access_viewings WHERE actor = '{D}'")
    r = run(data, "report", "access", "--json", code=3)
    refused(r, f"proj_refusals: missing row notification_id={sam}",
            f"proj_access_viewings: missing row notification_id={viewing}")  # fmt: skip
    assert r.stdout == ""  # nothing of the forged log printed
    compliance_refused(data, tmp_path, "proj_refusals: missing row", "proj_access_viewings")


def test_a_renamed_viewing_is_named_edited(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = forged
    viewing = notification_of(data, "proj_access_viewings", f"actor = '{D}'")
    execute(data, "UPDATE proj_access_viewings SET actor = 'Bo Manager', reason = 'routine'")
    r = run(data, "report", "access", code=3)
    refused(r, f"proj_access_viewings: edited row notification_id={viewing}",
            "actor: 'Dana Director' -> 'Bo Manager'", "'routine'")  # fmt: skip
    compliance_refused(data, tmp_path, "proj_access_viewings: edited row")


def test_a_request_set_to_denied_is_named(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc = forged
    execute(data, f"UPDATE proj_disclosures SET decision = 'denied' WHERE ref = '{sc.foia}'")
    for args in (["report", "disclosures", *PERIOD], ["report", "disclosures", "--csv", *PERIOD]):
        r = run(data, *args, code=3)
        refused(r, f"proj_disclosures: edited row ref={sc.foia}", "'pending' -> 'denied'")
        assert "denied" not in r.stdout
    run(data, "report", "statistics", *PERIOD, code=3)
    compliance_refused(data, tmp_path, f"proj_disclosures: edited row ref={sc.foia}")


def test_a_history_missing_an_indexed_event_is_refused(forged) -> None:  # type: ignore[no-untyped-def]
    """Legal review reads a subject's events through the subject index: a deleted index
    row would hide an event from the history, so the index is checked first (R29). Here
    a row for an event that names a camera (a capture)."""
    data, sc = forged
    camera = "lobby-1"  # every segment of the scenario's
    subject = f"camera:{camera}"
    assert run(data, "history", camera, "--json", "--as", D).stdout
    first = notification_of(
        data, "proj_subject_index",
        f"subject = '{subject}' AND notification_id = (SELECT min(notification_id) "
        f"FROM proj_subject_index WHERE subject = '{subject}')",
    )  # fmt: skip
    execute(data, f"DELETE FROM proj_subject_index WHERE notification_id = {first}")
    r = run(data, "history", camera, "--json", "--as", D, code=3)
    refused(r, f"proj_subject_index: missing row subject={subject}, notification_id={first}")
    assert r.stdout == ""


def test_a_history_missing_its_subjects_own_events_is_refused(forged) -> None:  # type: ignore[no-untyped-def]
    """A request's own events are found in the log by its aggregate, which the read
    model of aggregates names: its row deleted would hide every one of them from the
    history, so it is checked first too (R29)."""
    data, sc = forged
    subject = f"request:{sc.foia}"
    assert run(data, "history", sc.foia, "--json", "--as", D).stdout
    assert execute(data, f"DELETE FROM proj_subject_aggregates WHERE subject = '{subject}'") == 1
    r = run(data, "history", sc.foia, "--json", "--as", D, code=3)
    refused(r, "proj_subject_aggregates: missing row", f"subject={subject}")
    assert r.stdout == ""


def test_an_overdue_deadline_moved_to_2099_is_refused_everywhere(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc = forged
    seg = sc.overdue[0]
    execute(data, "UPDATE proj_retention_segments SET deadline = '2099-01-01 00:00:00', "
                  f"keep_until = '2099-01-01 00:00:00' WHERE segment_id = '{seg}'")  # fmt: skip
    r = run(data, "footage", "list", code=3)
    refused(r, f"proj_retention_segments: edited row segment_id={seg}", "2099")
    assert r.stdout == ""
    compliance_refused(data, tmp_path, f"proj_retention_segments: edited row segment_id={seg}")
    # The sweep never trusts the forged deadline: it refuses and records nothing.
    before = count_events(data)
    r = run(data, "retention", "sweep", "--yes", "--service", code=3)
    refused(r, f"segment_id={seg}")
    assert count_events(data) == before


def test_an_inserted_row_is_named_extra(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = forged
    execute(data, "INSERT INTO proj_refusals (notification_id, recorded_at, actor, actor_role, "
                  "action, subject, rule_id, message, authenticated, asof_from) VALUES (999999, "
                  "'2026-11-02 16:00:00', 'Bo Manager', 'business_manager', 'footage view', "
                  "'x', 'R1', 'invented', TRUE, 999999)")  # fmt: skip
    r = run(data, "report", "access", code=3)
    refused(r, "proj_refusals: extra row notification_id=999999")
    compliance_refused(data, tmp_path, "proj_refusals: extra row notification_id=999999")


def test_a_forged_seal_is_refused(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Rewriting the seal row itself (here: emptied) does not hide a forgery."""
    data, _ = forged
    execute(data, f"DELETE FROM proj_refusals WHERE actor = '{S}'")
    execute(data, "UPDATE proj_seals SET tables = '{}' WHERE projection = 'refusals'")
    refused(run(data, "report", "access", code=3), "proj_refusals: missing row")


def test_verify_warns_and_rebuild_repairs(forged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc = forged
    clean = json.loads(run(data, "report", "access", "--json").stdout)
    execute(data, f"UPDATE proj_disclosures SET decision = 'denied' WHERE ref = '{sc.foia}'")
    execute(data, f"DELETE FROM proj_refusals WHERE actor = '{S}'")
    r = run(data, "verify")  # the chain is intact: exit 0, the damage as warnings
    assert f"warning: read model damaged (R29): proj_disclosures: edited row ref={sc.foia}" in (
        r.stderr
    )
    assert "proj_refusals: missing row notification_id=" in r.stderr
    # For cron, which alerts on any exit but 0 (red-team finding 15).
    strict = run(data, "verify", "--strict", code=4)
    assert "Error: the chain verifies, with " in strict.stderr and "(--strict)" in strict.stderr
    damage = json.loads(run(data, "verify", "--json").stdout)["read_models"]
    assert {(d["table"], d["kind"]) for d in damage} == {
        ("proj_disclosures", "edited"),
        ("proj_refusals", "missing"),
    }
    run(data, "projections", "rebuild")
    assert json.loads(run(data, "verify", "--json").stdout)["read_models"] == []
    # The rebuilt read models (sealed once, from a scan) equal a scratch replay.
    assert json.loads(run(data, "verify", "--deep", "--json").stdout)["read_models"] == []
    assert json.loads(run(data, "report", "access", "--json").stdout) == clean
    out = tmp_path / "board.json"
    run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(out), "--as", D)
    rows = {r["request_id"]: r for r in json.loads(out.read_text())["disclosures"]["rows"]}
    assert rows[sc.foia]["decision"] == "pending"


def test_verify_deep_catches_rows_rewritten_with_a_valid_seal(forged) -> None:  # type: ignore[no-untyped-def]
    """Someone holding keys/events.key can compute seals: the fast check passes, the deep
    replay still names the row."""
    from sqlalchemy import select

    from projections.refusals import RefusalsProjection, refusals
    from projections.registry import open_views
    from projections.seal import Sealer, read_seal, write_seal

    data, _ = forged
    ledger = open_test_ledger(DataDir.open(data))
    views = open_views(ledger)
    try:
        p = RefusalsProjection()
        with views.engine.begin() as conn:
            row = dict(conn.execute(select(refusals).where(refusals.c.actor == S)).one()._mapping)
            gone = refusals.c.notification_id == row["notification_id"]
            position = views.position(p)
            old = read_seal(conn, views.seal_key(), p, position)
            sealer = Sealer(views.seal_key())
            sealer.touch_where(conn, refusals, gone)
            conn.execute(refusals.delete().where(gone))
            sealer.finish(conn)
            write_seal(
                conn, views.seal_key(), p, old, position, sealer, views.chain_entry(position)
            )
    finally:
        views.close()
        ledger.close()
    run(data, "report", "access")  # the seal matches: not caught by the fast check
    assert json.loads(run(data, "verify", "--json").stdout)["read_models"] == []
    deep = json.loads(run(data, "verify", "--deep", "--json").stdout)["read_models"]
    assert [(d["table"], d["kind"], d["row"]) for d in deep] == [
        ("proj_refusals", "missing", f"notification_id={row['notification_id']}")
    ]
