"""The vault audited against the ledger (issue 14, finding 2), on SQLite and PostgreSQL:
footage deleted by hand is reported by `verify`, shown in the compliance report, recorded
by the sweep as FootageFoundMissing -- never as a purge -- and listed "missing"; a patron
key deleted by hand shows "missing", not "erased"."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from click.testing import Result

from capture.ingest import ingest_paths, open_vault
from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW
from tests.identity import CustodesRunner, enrol, open_test_ledger
from tests.integration.footage_helpers import (
    CAMERA,
    DIRECTOR,
    MANAGER,
    STAFF,
    clip,
    footage_ledger,
)

LATER = NOW + timedelta(days=2)


def run(data_dir: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(LATER)
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    return result


def test_footage_deleted_by_hand_is_reported_then_recorded_missing_not_purged(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    summary = ingest_paths(ledger, [clip(tmp_path / "in", n) for n in range(3)],
                           camera=CAMERA, actor=STAFF)  # fmt: skip
    gone, half, whole = (o.segment_id for o in summary.outcomes)
    vault = open_vault(ledger)
    sha = {s: ledger.segment_info(s).sha256 for s in (gone, half, whole)}
    vault.blob_path(sha[gone]).unlink()  # not due for weeks: deleted by hand
    vault.key_path(sha[gone]).unlink()
    vault.blob_path(sha[half]).unlink()
    ledger.close()

    verified = run(data_dir, "verify", "--json")  # the chain is intact: exit 0, warnings
    warnings = json.loads(verified.stdout)["warnings"]
    assert any(w.startswith(f"segment {gone}: its encrypted file and its key are missing")
               for w in warnings)  # fmt: skip
    assert any(w.startswith(f"segment {half}: its encrypted file is missing") for w in warnings)
    assert not any(whole in w for w in warnings)
    assert f"warning: segment {gone}: its encrypted file and its key are missing" in (
        verified.stderr
    )

    # the Business Manager's report lists them; she may not record them, so nothing is
    # recorded (no refusal either: the report did not ask)
    report = tmp_path / "report.json"
    before = len(json.loads(run(data_dir, "log", "--json", "--limit", "500").stdout))
    run(data_dir, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-03",
        "--format", "json", "--out", str(report), "--as", MANAGER)  # fmt: skip
    items = json.loads(report.read_text())["attention"]
    found = [i for i in items if i["rule_id"] == "FOOTAGE-FOUND-MISSING"]
    assert {i["subject_id"] for i in found} == {gone, half}
    assert all(i["severity"] == "violation" for i in found)
    assert all("not yet recorded" in i["text"] for i in found)
    log = json.loads(run(data_dir, "log", "--json", "--limit", "500").stdout)
    since = [e["kind"] for e in log[before:]]  # the report, and the reads of the log (R27)
    assert set(since) == {"ComplianceReportIssued", "ConfidentialRecordRead"}, since

    swept = run(data_dir, "retention", "sweep", "--yes", "--service", "--json", code=1)
    assert "2 segments found missing from the vault with no purge" in swept.stderr
    outcomes = {o["segment_id"]: o["status"] for o in json.loads(swept.stdout)["outcomes"]}
    assert outcomes == {gone: "missing", half: "missing"}
    log = json.loads(run(data_dir, "log", "--json", "--limit", "500").stdout)
    assert [e["kind"] for e in log].count("FootageFoundMissing") == 2
    assert "FootagePurged" not in [e["kind"] for e in log]
    listed = json.loads(run(data_dir, "footage", "list", "--json").stdout)
    assert {r["segment_id"]: r["status"] for r in listed} == {
        gone: "missing", half: "missing", whole: "retained",
    }  # fmt: skip
    assert json.loads(run(data_dir, "verify", "--json").stdout)["warnings"] == []
    again = run(data_dir, "retention", "sweep", "--yes", "--service", "--json")
    assert json.loads(again.stdout)["outcomes"] == []

    run(data_dir, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-03",
        "--format", "json", "--out", str(report), "--as", DIRECTOR, "--force")  # fmt: skip
    items = json.loads(report.read_text())["attention"]
    recorded = [i for i in items if i["rule_id"] == "FOOTAGE-FOUND-MISSING"]
    assert {i["subject_id"] for i in recorded} == {gone, half}
    assert all("found missing on" in i["text"] and "not a purge" in i["text"] for i in recorded)


def _issued(data_dir: Path, doc: dict[str, Any], path: Path) -> Path:
    """What the library, holding every key, can do with a report it edited: write it and
    record its issuance (its SHA-256) as its own report of 1-3 November."""
    from ledger.checkpoint import parse_unverified

    cp = parse_unverified(doc["proofs"]["checkpoint"])
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER))
    try:
        ledger.record_report_issued(
            period_from=date(2026, 11, 1), period_to=date(2026, 11, 3), as_of=None,
            format="json", output_sha256=hashlib.sha256(text.encode()).hexdigest(),
            checkpoint_size=cp.size, checkpoint_root=cp.root.hex(), actor=DIRECTOR,
        )  # fmt: skip
    finally:
        ledger.close()
    return path


def test_the_directors_report_records_what_the_vault_audit_finds_and_is_held_to_it(
    data_dir: Path, tmp_path: Path
) -> None:
    """Session 28: a finding only listed by a report ("found while writing this report,
    not yet recorded") rests on no event, so it could be taken out of the report the
    library issues and `verify-report --events` could not tell. The Director's report
    records what the vault audit finds (FootageFoundMissing, before it reads), lists it as
    recorded, and is held to it: taken out, the report fails with the ledger."""
    from ledger.report_proofs import report_rows

    ledger = footage_ledger(data_dir)
    summary = ingest_paths(ledger, [clip(tmp_path / "in", n) for n in range(2)],
                           camera=CAMERA, actor=STAFF)  # fmt: skip
    gone, whole = (o.segment_id for o in summary.outcomes)
    open_vault(ledger).blob_path(ledger.segment_info(gone).sha256).unlink()
    ledger.close()

    report = tmp_path / "report.json"
    made = run(data_dir, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-03",
               "--format", "json", "--out", str(report), "--as", DIRECTOR)  # fmt: skip
    assert "1 segment found missing from the vault with no purge in progress: recorded " in (
        made.stderr
    )
    assert gone in made.stderr and whole not in made.stderr
    doc = json.loads(report.read_text())
    [item] = [i for i in doc["attention"] if i["rule_id"] == "FOOTAGE-FOUND-MISSING"]
    assert item["subject_id"] == gone
    assert "found missing on" in item["text"] and "not yet recorded" not in item["text"]
    assert "(compliance report 2026-11-01 to 2026-11-03)" in item["text"]
    log = json.loads(run(data_dir, "log", "--json", "--limit", "500").stdout)
    [recorded] = [e for e in log if e["kind"] == "FootageFoundMissing"]
    assert recorded["actor"] == DIRECTOR
    assert (
        json.loads(run(data_dir, "retention", "sweep", "--yes", "--service", "--json").stdout)[
            "outcomes"
        ]
        == []
    )  # already recorded: the sweep finds nothing to record

    key = tmp_path / "library.pem"
    key.write_text(run(data_dir, "keys", "export-public").stdout)
    checked = run(data_dir, "verify-report", str(report), "--key", str(key), "--events")
    assert "It leaves nothing out" in checked.stdout
    assert "by its rule, subject and severity, not its wording" in checked.stdout

    # the finding taken out (its row and its proof), the edited file recorded as issued
    at = next(i for i, ((t, _ref), row) in enumerate(report_rows(doc))
              if t == "attention" and row.get("subject_id") == gone)  # fmt: skip
    first = next(i for i, ((t, _ref), _row) in enumerate(report_rows(doc)) if t == "attention")
    doc["proofs"]["rows"].pop(at)
    doc["attention"].pop(at - first)
    doctored = _issued(data_dir, doc, tmp_path / "doctored.json")
    run(data_dir, "verify-report", str(doctored), "--key", str(key))  # its rows all proven
    said = run(data_dir, "verify-report", str(doctored), "--key", str(key), "--events",
               code=3).stderr  # fmt: skip
    assert "the report's attention items are not what the ledger's events make" in said, said
    assert f"they leave out FOOTAGE-FOUND-MISSING {gone}, which the events make" in said, said


def test_a_patron_key_deleted_by_hand_is_missing_not_erased(data_dir: Path) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    enrol(ledger, STAFF, "staff")
    refs = [
        ledger.open_request(
            requester_kind="law_enforcement",
            requester="Ofc. Lee",
            received_by=STAFF,
            records=["registration"],
            description="identify",
            actor=STAFF,
            patron_card=card,
            patron_name=name,
        )  # fmt: skip
        for card, name in (("2100-0001", "Ann Lost"), ("2100-0002", "Bo Forgotten"))
    ]
    lost = ledger.request_view(refs[0])["patron"]["pseudonym"]
    ledger.close()
    next((data_dir / "keys" / "patrons").glob(f"{lost}-*.key")).unlink()  # by hand

    shown = run(data_dir, "request", "show", refs[0], "--json")
    assert json.loads(shown.stdout)["patron"]["details"].startswith(
        "missing: the patron's key is gone but no `patron forget` is recorded"
    )
    warnings = json.loads(run(data_dir, "verify", "--json").stdout)["warnings"]
    assert [w.split(":")[0] for w in warnings] == [f"patron {lost}"]
    assert "no `patron forget` is recorded" in warnings[0]

    run(data_dir, "patron", "forget", "2100-0002", "--reason", "asked", "--as", DIRECTOR)
    erased = json.loads(run(data_dir, "request", "show", refs[1], "--json").stdout)
    assert erased["patron"]["details"] == "erased"
    assert len(json.loads(run(data_dir, "verify", "--json").stdout)["warnings"]) == 1


def _forge(data_dir: Path, sql: str, **params: Any) -> None:
    """A read model edited by someone who can write the database but holds no seal key."""
    from sqlalchemy import create_engine, text

    engine = create_engine(DataDir.open(data_dir).database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def _found_missing(data_dir: Path) -> list[str]:
    log = json.loads(run(data_dir, "log", "--json", "--limit", "500").stdout)
    return [e["details"].get("segment_id", "") for e in log if e["kind"] == "FootageFoundMissing"]


def test_a_report_on_forged_read_models_records_nothing_missing(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team, session 28: the report read the stored segments it audits unchecked, so a
    segment's sha256 changed in the read model had the Director's report record intact
    footage as destroyed outside Custodes (never to be purged), then fail its seal check
    ("nothing was written or signed"). Now it records only once its own read checked out,
    reading what it audits checked too: a forged read model, the one it audits or another
    it reads, records nothing."""
    from projections.registry import read_views

    ledger = footage_ledger(data_dir)
    summary = ingest_paths(ledger, [clip(tmp_path / "in", n) for n in range(2)],
                           camera=CAMERA, actor=STAFF)  # fmt: skip
    _kept, forged = (o.segment_id for o in summary.outcomes)
    read_views(ledger, lambda conn: None)  # caught up and sealed
    ledger.close()
    _forge(data_dir, "UPDATE proj_retention_segments SET sha256 = :x WHERE segment_id = :s",
           x="0" * 64, s=forged)  # fmt: skip
    period = ("--from", "2026-11-01", "--to", "2026-11-04")  # to today: the dashboard's default
    made = run(data_dir, "report", "compliance", *period, "--format", "json",
               "--out", str(tmp_path / "r.json"), "--as", DIRECTOR, code=3)  # fmt: skip
    assert "proj_retention_segments" in made.stderr
    assert _found_missing(data_dir) == []
    _forge(data_dir, "UPDATE proj_retention_segments SET sha256 = :x WHERE segment_id = :s",
           x=ledger.segment_info(forged).sha256, s=forged)  # fmt: skip
    # another read model the report reads edited, a finding there to record: nothing is
    _forge(data_dir, "UPDATE proj_cameras SET location = 'Staff room' WHERE camera_id = :c",
           c=CAMERA)  # fmt: skip
    vault = open_vault(open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER)))
    vault.blob_path(ledger.segment_info(forged).sha256).unlink()
    made = run(data_dir, "report", "compliance", *period, "--format", "json",
               "--out", str(tmp_path / "r.json"), "--as", DIRECTOR, code=3)  # fmt: skip
    assert "proj_cameras" in made.stderr
    assert _found_missing(data_dir) == []


def test_a_vault_not_mounted_is_listed_not_recorded_by_a_report(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team, session 28: with the footage directory away (a mount not up), the
    Director's report recorded every stored segment destroyed. Every one gone at once,
    the report records nothing and lists them, not yet recorded."""
    ledger = footage_ledger(data_dir)
    ingest_paths(ledger, [clip(tmp_path / "in", n) for n in range(3)], camera=CAMERA, actor=STAFF)
    ledger.close()
    (data_dir / "footage").rename(tmp_path / "footage-away")
    report = tmp_path / "r.json"
    run(data_dir, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-03",
        "--format", "json", "--out", str(report), "--as", DIRECTOR)  # fmt: skip
    found = [i for i in json.loads(report.read_text())["attention"]
             if i["rule_id"] == "FOOTAGE-FOUND-MISSING"]  # fmt: skip
    assert len(found) == 3 and all("not yet recorded" in i["text"] for i in found)
    assert _found_missing(data_dir) == []
