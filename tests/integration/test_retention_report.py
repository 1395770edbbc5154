"""The retention in force per segment in the compliance report (issue 12 finding 9, issue
15), on SQLite and PostgreSQL: footage captured under version 1 (30 days) and version 2
(7 days), one clip purged under 7 days, one flagged, one viewed. The report groups the
segments by version, lists each one with its days, version and deadline (JSON, CSV),
prints each version's own flag bound and archive roles, and shows the issue-12 facts
(scope items, the signed form's hash, flags' incident and end)."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from capture.ingest import ingest_paths, open_vault
from capture.sweep import sweep
from capture.viewing import view_segment
from ledger.app import Ledger
from ledger.disclosure_intake import OrderScope
from ledger.policy_params import profile_files
from projections.compliance import compile_compliance_report
from projections.disclosures import disclosures
from projections.registry import read_views
from projections.render_data import to_csv_dir, to_json
from projections.render_html import render_html
from projections.render_pdf import render_pdf
from projections.retention import due_for_purge
from tests.conftest import NOW
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip, footage_ledger

TODAY = date(2026, 11, 2)  # NOW's site day (America/Chicago)
CARD = "2100-012345"


def _adopt_seven_day(ledger: Ledger) -> None:
    """Riverbend's 7 days, Director only, with its own flag bound of 30 days."""
    text, params = profile_files("riverbend-7-day")
    ledger.adopt_policy(
        text=text, params_toml=params.replace("flag_max_days = 90", "flag_max_days = 30"),
        approved_by="Board of Trustees", approval_ref="minutes 2026-11-01 item 7",
        effective=TODAY, actor=DIRECTOR,  # its own flag bound: not the shipped profile
    )  # fmt: skip


def _court_order(ledger: Ledger, folder: Path) -> str:
    ref = ledger.open_request(
        requester_kind="court", requester="Champaign County Circuit Court", received_by=STAFF,
        records=["registration"], description="order for a registration record",
        patron_card=CARD, patron_name="Pat Patron", actor=STAFF,
    )  # fmt: skip
    order = folder / "order.pdf"
    order.write_bytes(b"%PDF-1.4 order 2026-CF-9")
    ledger.record_court_order(
        ref, kind="order", signed_by_judge=True, court="Champaign County Circuit Court",
        judge="Hon. R. Alvarez", case="2026-CF-9", issued=NOW - timedelta(days=1),
        served_at=ledger.clock(), served_by="Dep. K. Moore",
        scope=OrderScope(patron_cards=[CARD], fields=["name", "address"],
                         exclude_records=["circulation"]),
        scope_note="name and address only", document_name=order.name,
        document_sha256=hashlib.sha256(order.read_bytes()).hexdigest(), actor=STAFF,
    )  # fmt: skip
    return ref


def test_the_report_shows_the_retention_in_force_per_segment_and_per_version(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    court = _court_order(ledger, tmp_path)
    _adopt_seven_day(ledger)  # version 2, in force from NOW
    ledger.clock.set(NOW + timedelta(hours=2))
    files = [clip(tmp_path / "in", 0)]  # recorded before NOW: version 1's 30 days
    files += [clip(tmp_path / "in", n, start=NOW + timedelta(hours=1)) for n in range(3)]
    outcomes = ingest_paths(ledger, files, camera=CAMERA, actor=STAFF).outcomes
    old, flagged, viewed, plain = (o.segment_id or "" for o in outcomes)
    flag = ledger.flag(flagged, incident="IR-31 fall", reason="patron fell", actor=STAFF)
    view_segment(ledger, viewed, reason="a patron reported a theft",
                 purpose="incident_investigation", remote=False, actor=DIRECTOR)  # fmt: skip
    later = NOW + timedelta(days=10)
    due = read_views(ledger, lambda conn: due_for_purge(conn, later))
    ledger.clock.set(later)
    sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    ledger.clock.set(later + timedelta(hours=1))
    assert ledger.datadir is not None
    report, _ = compile_compliance_report(
        ledger, period_from=date(2026, 11, 1), period_to=date(2026, 11, 12), actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    register = read_views(ledger, disclosures)
    ledger.close()

    r = report.retention
    # Segments recorded in the period, by the version in force when recording began (R28).
    assert [(g.version, g.retention_days, g.segments, g.purged) for g in r.by_version] == [
        (1, 30, 1, 0),
        (2, 7, 3, 2),
    ]
    assert [(g.version, g.retention_days, g.purge_retention_days, g.segments)
            for g in r.purges] == [(2, 7, 7, 2)]  # fmt: skip
    # Each segment with the days and version recorded at capture, its deadline, and what
    # its purge applied.
    listed = {s.segment_id: s for s in r.segments}
    assert set(listed) == {old, flagged, viewed, plain}
    assert (listed[old].retention_days, listed[old].retention_version) == (30, 1)
    assert listed[old].deadline - listed[old].recorded_end == timedelta(days=30)
    assert listed[old].status == "retained" and listed[old].purge_retention_days is None
    assert listed[flagged].listed_for == ("recorded", "flagged")
    assert listed[flagged].status == "flagged"
    assert listed[viewed].listed_for == ("recorded", "purged", "viewed")
    v = listed[viewed]
    assert (v.status, v.purge_retention_days, v.purge_policy_version) == ("purged", 7, 2)
    assert v.deadline - v.recorded_end == timedelta(days=7)
    assert listed[plain].listed_for == ("recorded", "purged")
    (held,) = r.held
    assert (held.segment_id, held.retention_days, held.retention_version) == (flagged, 7, 2)
    assert held.deadline == listed[flagged].deadline
    assert held.reason.startswith("IR-31 fall") and held.review_by is not None  # incident, end
    (viewing,) = report.access.viewings
    assert (viewing.retention_days, viewing.retention_version) == (7, 2)
    # The versions' own values, and the segments captured under each.
    versions = {p.version: p for p in report.policy.versions}
    assert (versions[1].flag_max_days, versions[2].flag_max_days) == (90, 30)
    assert versions[1].archive_viewer_roles == ("business_manager", "director")
    assert versions[2].archive_viewer_roles == ("director",)
    assert (versions[1].segments_captured, versions[2].segments_captured) == (1, 3)
    assert versions[2].counsel_review_gates_release and not versions[1].counsel_review_gates_release

    html = render_html(report)
    assert "end within 90 days (policy version 1); 30 days (policy version 2)" in html
    assert (
        "only by the Director and Business Manager (policy version 1); the Director "
        "(policy version 2)" in html
    )
    assert "seed policy" not in html
    assert "Segments recorded in the period, by the policy version" in html
    assert "7 days (policy v2); deadline " in html  # the flagged row's retention
    assert "IR-31 fall: patron fell" in html and flag in html  # the flag's incident
    assert f"deadline {listed[flagged].deadline:%Y-%m-%d}" in html
    assert "retention_segments.csv" in html  # where the full list is
    # Issue 12's facts: the court order's structured scope items.
    assert f"scope: patrons {register[0].patron}" in html and "excluding circulation" in html
    assert render_pdf(report).startswith(b"%PDF")

    data = json.loads(to_json(report))
    assert len(data["retention"]["segments"]) == 4
    assert {s["retention_version"] for s in data["retention"]["segments"]} == {1, 2}
    assert data["policy"]["versions"][1]["archive_viewer_roles"] == ["director"]
    to_csv_dir(report, tmp_path / "csv")
    with (tmp_path / "csv" / "retention_segments.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(x["segment_id"], x["retention_days"], x["retention_version"]) for x in rows} == {
        (old, "30", "1"), (flagged, "7", "2"), (viewed, "7", "2"), (plain, "7", "2"),
    }  # fmt: skip
    assert {x["purge_retention_days"] for x in rows if x["status"] == "purged"} == {"7"}
    with (tmp_path / "csv" / "policy_versions.csv").open(newline="") as handle:
        policy_rows = list(csv.DictReader(handle))
    assert [(x["flag_max_days"], x["segments_captured"]) for x in policy_rows] == [
        ("90", "1"),
        ("30", "3"),
    ]
    # The register carries the same scope items.
    (row,) = [x for x in register if x.ref == court]
    assert row.scope is not None and "records address, name" in row.scope


def test_an_edited_retention_in_the_read_model_stops_the_report(
    data_dir: Path, tmp_path: Path
) -> None:
    """R29: the new read model is sealed like every other; a segment's days changed with
    SQL (7 -> 30, to make a purge look late or a deadline later) stop the report."""
    from sqlalchemy import create_engine, text

    from ledger.datadir import DataDir
    from projections.seal import ReadModelTampered

    ledger = footage_ledger(data_dir)
    (outcome,) = ingest_paths(
        ledger, [clip(tmp_path / "in", 0)], camera=CAMERA, actor=STAFF
    ).outcomes
    read_views(ledger, lambda conn: None)  # caught up, sealed
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE proj_retention_segments SET retention_days = 99 WHERE segment_id = :s"),
            {"s": outcome.segment_id},
        )
    engine.dispose()
    assert ledger.datadir is not None
    with pytest.raises(ReadModelTampered, match="proj_retention_segments: edited row"):
        compile_compliance_report(
            ledger, period_from=date(2026, 11, 1), period_to=date(2026, 11, 2), actor=DIRECTOR,
            now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
        )  # fmt: skip
    ledger.close()
