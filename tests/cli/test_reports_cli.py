"""`custodes report compliance|statistics`, `history` and `--as-of` through click's
CliRunner: exit codes, stderr text, parsed --json, files left (or not) behind."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.cli.conftest import DATABASES
from tests.cli.db_helpers import execute
from tests.conftest import NOW, fresh_postgres_database
from tests.identity import (
    CustodesRunner,
    enrol,
    fast_kdf_while_building,
    open_test_ledger,
    passphrase,
)
from tests.integration.test_compliance_report import C, D, M, S, Scenario, build_library

REPORT_NOW = "2026-11-05T18:00:00Z"
PERIOD = ["--from", "2026-11-01", "--to", "2026-11-05"]


@pytest.fixture(scope="module", params=DATABASES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Scenario]]:
    """One scenario for the read-only tests (reports only add tree rows and refusals), on
    each database; the data directory names its database itself (custodes.json)."""
    path = tmp_path_factory.mktemp("reports") / "data"
    with ExitStack() as stack:
        url = None
        if request.param == "postgres":
            url = stack.enter_context(fresh_postgres_database())
        with fast_kdf_while_building():
            sc = build_library(path, url)
        yield path, sc


def run(data: Path, *args: str, code: int = 0, now: str = REPORT_NOW) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(datetime.fromisoformat(now))
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def compliance(data: Path, fmt: str, out: Path, *extra: str, code: int = 0) -> Result:
    return run(data, "report", "compliance", *PERIOD, "--format", fmt, "--out", str(out),
               "--as", D, *extra, code=code)  # fmt: skip


def test_the_pdf_report_is_written_and_the_checkpoint_printed(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    out = tmp_path / "board.pdf"
    r = compliance(data, "pdf", out)
    assert out.read_bytes().startswith(b"%PDF")
    assert "Compliance report 2026-11-01 to 2026-11-05 (pdf) written to" in r.stderr
    assert r.stdout.splitlines()[0].startswith("custodes/")  # the signed note's origin line
    assert r.stdout.splitlines()[-1].startswith("\u2014 ")
    assert [p.name for p in tmp_path.iterdir()] == ["board.pdf"]  # no temporary left
    # The ledger records which document was handed out, over which checkpoint.
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"ComplianceReportIssued (sha256 {digest})" in r.stderr
    ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(NOW))
    (issued,) = ledger.read_log(kinds=["ComplianceReportIssued"])
    ledger.close()
    assert issued.details["output_sha256"] == digest
    assert issued.details["format"] == "pdf"
    assert issued.details["checkpoint_size"] == int(r.stdout.splitlines()[1])
    assert issued.details["period_from"] == "2026-11-01"


def test_the_json_report_carries_the_scenario(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc = world
    out = tmp_path / "report.json"
    r = compliance(data, "json", out)
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "custodes-compliance-report/2"
    assert doc["retention"]["counts"]["overdue_now"] == 2
    rules = {(a["rule_id"], a["subject_id"]) for a in doc["attention"]}
    assert ("FOOTAGE-RETENTION", sc.overdue[0]) in rules
    integrity = doc["integrity"]
    size = int(integrity["checkpoint"].splitlines()[1])
    assert size == integrity["entries"] == integrity["tree_size"]
    assert integrity["checkpoint"] == r.stdout
    assert len(integrity["key_fingerprint"]) == 64


def test_csv_writes_one_file_per_table_into_a_new_directory(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    out = tmp_path / "csv"
    compliance(data, "csv", out)
    names = {p.name for p in out.iterdir()}
    assert {"attention.csv", "disclosures.csv", "retention_overdue.csv"} <= names


def test_as_of_report_and_lists_show_the_state_as_it_was(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc = world
    then = (NOW + timedelta(minutes=30)).isoformat()
    out = tmp_path / "then.json"
    compliance(data, "json", out, "--as-of", then)
    doc = json.loads(out.read_text())
    assert doc["header"]["as_of"] == "2026-11-02T15:30:00Z"
    rows = {r["request_id"]: r for r in doc["disclosures"]["rows"]}
    assert rows[sc.decided_later]["decision"] == "pending"
    listed = json.loads(run(data, "footage", "list", "--json", "--as-of", then).stdout)
    assert {r["segment_id"]: r["status"] for r in listed}[sc.flagged] != "flagged"
    now_listed = json.loads(run(data, "footage", "list", "--json").stdout)
    assert {r["segment_id"]: r["status"] for r in now_listed}[sc.flagged] == "flagged"
    register = json.loads(run(data, "report", "disclosures", "--json", "--as-of", then).stdout)
    assert {r["ref"]: r["decision"] for r in register}[sc.decided_later] == "pending"
    access = json.loads(run(data, "report", "access", "--json", "--as-of", then).stdout)
    assert access["viewings"] == []
    assert json.loads(run(data, "report", "access", "--json").stdout)["viewings"] != []


def test_statistics_suppress_a_cell_of_one(world) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    doc = json.loads(run(data, "report", "statistics", *PERIOD, "--json").stdout)
    public = doc["tables"]["requests_by_kind"]["cells"]["public"]
    assert public == {"count": None, "suppressed": True, "hidden": False}
    assert doc["for_publishing"] is True
    assert doc["tables"]["requests_by_kind"]["total"] == {"count": None, "suppressed": True}
    assert doc["rule"] == {"id": "LRCA-STATISTICS", "source": "75 ILCS 70/1(b)"}
    text = run(data, "report", "statistics", *PERIOD).stdout
    assert "  public" in text and "<5" in text
    loose = json.loads(
        run(data, "report", "statistics", *PERIOD, "--threshold", "1", "--json").stdout
    )
    assert loose["tables"]["requests_by_kind"]["cells"]["public"]["count"] == 1
    assert loose["for_publishing"] is False
    text = run(data, "report", "statistics", *PERIOD, "--threshold", "2").stdout
    assert "NOT FOR PUBLISHING: the policy suppresses counts below 5" in text


def test_statistics_below_the_policys_threshold_are_the_directors_only(world) -> None:  # type: ignore[no-untyped-def]
    """Red-team M2: the Business Manager and counsel read statistics, and with
    --threshold 1 read every count that identifies someone, unrecorded."""
    data, _ = world
    before = json.loads(run(data, "log", "--kind", "AccessDenied", "--json", "--as", D).stdout)
    for who in (M, C):
        refused = run(data, "report", "statistics", *PERIOD, "--threshold", "1", "--as", who,
                      code=1)  # fmt: skip
        assert refused.stdout == "" and "LRCA-STATISTICS" in refused.stderr
        assert run(data, "report", "statistics", *PERIOD, "--as", who).stdout  # as published
    after = json.loads(run(data, "log", "--kind", "AccessDenied", "--json", "--as", D).stdout)
    assert [(e["actor"], e["details"]["rule_id"]) for e in after[len(before) :]] == [
        (M, "LRCA-STATISTICS"), (C, "LRCA-STATISTICS"),
    ]  # fmt: skip


def test_history_lists_a_subject_and_refuses_an_unknown_one(world) -> None:  # type: ignore[no-untyped-def]
    data, sc = world
    doc = json.loads(run(data, "history", sc.held, "--json").stdout)
    assert doc["subject"] == f"segment:{sc.held}"
    assert [e["kind"] for e in doc["events"]] == ["FootageCaptured", "HoldPlaced", "HoldApplied"]
    assert doc["events"][0]["recorded_at"].endswith("+00:00")
    text = run(data, "history", sc.emergency).stdout
    assert "History of request:" in text and "CST" in text and "DisclosureReleased" in text
    r = run(data, "history", "R-1999-0001", code=1)
    assert "No events about 'R-1999-0001'. A subject is a segment id" in r.stderr
    assert "patron pseudonym" in r.stderr


def test_history_as_of_shows_only_what_was_recorded_by_then(world) -> None:  # type: ignore[no-untyped-def]
    data, sc = world
    full = json.loads(run(data, "history", sc.held, "--json").stdout)["events"]
    first = full[0]["recorded_at"]
    later = [e for e in full if e["recorded_at"] > first]
    assert later, "the scenario holds the segment after capturing it"
    then = json.loads(run(data, "history", sc.held, "--as-of", first, "--json").stdout)["events"]
    assert then == [e for e in full if e["recorded_at"] <= first]
    assert [e["kind"] for e in then] == ["FootageCaptured"]
    r = run(data, "history", sc.held, "--as-of", "2020-01-01T00:00:00Z", code=1)
    assert "were recorded by 2019-12-31 18:00 CST" in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-11-05", "--to", "2026-11-01"], "--from 2026-11-05 is after --to 2026-11-01"),
        (["--from", "2026-11-01", "--to", "2026-11-06"], "2026-11-06 is in the future"),
        (["--from", "2026-13-01", "--to", "2026-11-06"], "is not a valid date"),
    ],
)  # fmt: skip
def test_bad_periods_are_usage_errors(world, tmp_path: Path, args, message) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    out = tmp_path / "r.html"
    r = run(data, "report", "compliance", *args, "--format", "html", "--out", str(out),
            "--as", D, code=2)  # fmt: skip
    assert message in r.stderr
    assert not out.exists()
    r = run(data, "report", "statistics", *args, code=2)
    assert message in r.stderr


def test_an_as_of_in_the_future_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    r = run(data, "footage", "list", "--as-of", "2027-01-01", code=2)
    assert "2027-01-01 is in the future" in r.stderr


def test_an_unwritable_path_exits_1_and_leaves_nothing(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    out = tmp_path / "missing" / "r.pdf"
    r = compliance(data, "pdf", out, code=1)
    assert "directory" in r.stderr and "does not exist" in r.stderr
    r = compliance(data, "html", tmp_path, code=1)  # a directory given as the file
    assert f"{tmp_path} is a directory; give a file path" in r.stderr
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    r = compliance(data, "csv", plain, code=1)  # a file given as the CSV directory
    assert f"{plain} exists and is not an empty directory" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]


def test_staff_may_not_run_the_compliance_report(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = world
    r = run(data, "report", "compliance", *PERIOD, "--format", "html", "--out",
            str(tmp_path / "r.html"), "--as", S, code=1)  # fmt: skip
    assert "STAFF-ROLE" in r.stderr and not (tmp_path / "r.html").exists()


def test_a_tampered_ledger_exits_3_and_writes_no_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ledger = open_test_ledger(DataDir.create(data), clock=ManualClock(NOW))
    ledger.clock.set(NOW)
    ledger.initialise(
        director=D, library="L", timezone="America/Chicago", passphrase=passphrase(D).encode()
    )
    enrol(ledger, S, "staff", actor=D)
    ledger.close()
    execute(data, "UPDATE ledger_events SET state = state || state WHERE id = 2")
    out = tmp_path / "r.json"
    r = compliance(data, "json", out, code=3)
    assert "verification FAILED at position 2" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "report",
    [
        ["report", "disclosures", "--json"],
        ["report", "disclosures", "--csv"],
        ["report", "access", "--json"],
        ["report", "statistics", "--json"],
    ],
    ids=["disclosures", "disclosures-csv", "access", "statistics"],
)
def test_staff_do_not_read_the_registers_and_the_refusal_is_recorded(world, report) -> None:  # type: ignore[no-untyped-def]
    """The disclosure register, the access log and statistics are read by the roles that
    read the compliance report (as on the dashboard); a staff member is refused, exit 1,
    nothing printed on stdout, the refusal recorded under STAFF-ROLE."""
    data, _ = world
    before = json.loads(run(data, "log", "--kind", "AccessDenied", "--json", "--as", D).stdout)
    refused = run(data, *report, *PERIOD, "--as", S, code=1)
    assert refused.stdout == ""
    after = json.loads(run(data, "log", "--kind", "AccessDenied", "--json", "--as", D).stdout)
    assert len(after) == len(before) + 1
    assert after[-1]["details"]["rule_id"] == "STAFF-ROLE"
    assert after[-1]["details"]["action"] == " ".join(report[:2])
    # The Director reads the same register.
    assert run(data, *report, *PERIOD, "--as", D).stdout
