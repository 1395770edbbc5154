"""The compliance report and the statistics filled from the read models, on SQLite and
PostgreSQL: the numbers set up in the scenario reach the report; as-of replays; small
cells are suppressed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted
from ledger.footage import MediaFacts
from ledger.footage_commands import CaptureItem
from ledger.integrity import issue_checkpoint, open_chain
from projections.attention import business_days_between
from projections.compliance import build_compliance_report
from projections.compliance_model import Integrity
from projections.registry import open_views
from projections.statistics import statistics
from tests.conftest import NOW, SETUP
from tests.identity import enrol, open_test_ledger

D, M, S, C = "Dana Director", "Bo Manager", "Sam Staff", "Cora Counsel"
CARD = "2100-077123"
REPORT_NOW = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)
MEDIA = MediaFacts("mp4", "mp4v", 3000, 5.0, 600.0, 160, 120)


@dataclass(frozen=True)
class Scenario:
    overdue: tuple[str, ...]  # recorded in October, still kept: overdue purges
    purged_late: str
    flagged: str
    held: str
    hold_id: str
    emergency: str
    foia: str
    decided_later: str  # opened at NOW, decided at NOW + 3 days


def sha(n: int) -> str:
    return hashlib.sha256(f"segment {n}".encode()).hexdigest()


def capture(ledger: Ledger, n: int, start: datetime) -> str:
    """A segment recorded with its encrypted file and key in the vault, as ingest leaves
    them (their content is not read here): a report's vault audit finds it whole."""
    from capture.vault import open_vault

    item = CaptureItem(sha(n), 1000 + n, "lobby-1", start, MEDIA, f"lobby-1_{n}.mp4")
    vault = open_vault(ledger)
    for path in (vault.blob_path(item.sha256), vault.key_path(item.sha256)):
        path.write_bytes(b"stand-in")
    return ledger.record_capture(item, actor=S).segment_id


def build_library(path: Path, database_url: str | None = None) -> Scenario:
    """A new data directory at ``path`` (its database ``database_url``; None: SQLite in
    it), the library initialised and ``build_scenario``'s week recorded."""
    from tests.identity import passphrase

    ledger = open_test_ledger(
        DataDir.create(path, database_url=database_url), clock=ManualClock(SETUP)
    )
    ledger.initialise(director=D, library="Mahomet Public Library",
                      timezone="America/Chicago", passphrase=passphrase(D).encode())  # fmt: skip
    sc = build_scenario(ledger)
    ledger.close()
    return sc


def build_scenario(ledger: Ledger) -> Scenario:
    """A week at a small library (times UTC; the site is America/Chicago), recorded in
    time order: recorded times only move forward (R26)."""
    later = NOW + timedelta(hours=1)
    ledger.clock.set(SETUP + timedelta(hours=1))  # staff and cameras before any footage
    enrol(ledger, M, "business_manager", actor=D)
    enrol(ledger, S, "staff", actor=D)
    enrol(ledger, C, "counsel", actor=D)
    ledger.register_camera(
        "lobby-1", location="Main lobby", zone="public", signage_posted=True, actor=D
    )
    # October's footage ingested as it was recorded (footage already past its 30 days is
    # not ingested at all), then nobody ran the sweep.
    october = datetime(2026, 10, 1, 14, 0, tzinfo=UTC)
    old = []
    for n in range(3):
        ledger.clock.set(october + timedelta(hours=n, minutes=11))
        old.append(capture(ledger, n, october + timedelta(hours=n)))
    ledger.clock.set(NOW)
    with pytest.raises(NotPermitted):
        ledger.register_camera(
            "restroom-1", location="Restroom", zone="restroom", signage_posted=True,
            actor=D,
        )  # fmt: skip
    nov = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    flagged, held, plain = (capture(ledger, 10 + n, nov + timedelta(hours=n)) for n in range(3))
    emergency = ledger.open_request(
        requester_kind="law_enforcement", requester="Officer Lee", received_by=S,
        records=["registration"], description="threat", actor=S, patron_card=CARD,
        patron_name="Quentin Patron",
    )  # fmt: skip
    foia = ledger.open_request(
        requester_kind="public", requester="A reporter", received_by=S, records=["footage"],
        description="lobby footage", actor=S, footage=[plain],
    )  # fmt: skip
    decided_later = ledger.open_request(
        requester_kind="parent_guardian", requester="A parent", received_by=S,
        records=["fines_fees"], description="fines of a minor", actor=S, patron_card="2100-000999", minor=True, guardianship="birth certificate",
    )  # fmt: skip
    ledger.clock.set(later)
    ledger.record_purge(
        old[0], method="file removed, key destroyed", blob_removed=True, key_destroyed=True,
        completed_after_interruption=False, sweep_run="sweep-1", actor=ledger.act_as_service(),
    )  # fmt: skip
    ledger.flag(flagged, incident="IR-9 fall", reason="patron reported a fall", actor=S)
    hold_id = ledger.place_hold(
        [held], kind="legal", reason="claim letter from counsel", reference="CLAIM-7",
        actor=D, review_by=NOW + timedelta(days=1),
    )  # fmt: skip
    permit = ledger.check_viewing(flagged, reason="check the fall", purpose="safety", actor=D)
    ledger.record_viewing(permit, kind="view", remote=False)
    ledger.record_emergency(
        emergency, officer_name="Lee", officer_rank="Sgt", badge_number="4471",
        agency="Mahomet PD", agency_phone="555-0100", id_examined=True, sworn_officer=True,
        court_order_impractical=True, imminent_danger=True, identification_purpose=True,
        role_sought="suspect", emergency_description="a threat", actor=D,
        signed_form_sha256="f" * 64, signed_form_name="appendix9-signed.pdf",
    )  # fmt: skip
    ledger.decide(emergency, approve=True, reason="all four representations", actor=D)
    ledger.release(emergency, fields=["name"], to="Sgt Lee", badge="4471", method="in person",
                   actor=D)  # fmt: skip
    ledger.clock.set(NOW + timedelta(days=1))
    with pytest.raises(NotPermitted):
        ledger.check_viewing(plain, reason="a patron said her bag was taken", purpose="safety", actor=S)  # fmt: skip
    ledger.clock.set(NOW + timedelta(days=3))
    ledger.decide(decided_later, approve=True, reason="guardian confirmed", actor=D)  # fmt: skip
    return Scenario(tuple(old[1:]), old[0], flagged, held, hold_id, emergency, foia,
                    decided_later)  # fmt: skip


@pytest.fixture
def ledger(data_dir: Path) -> Ledger:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    yield ledger  # type: ignore[misc]
    ledger.close()


def integrity_of(ledger: Ledger) -> Integrity:
    assert ledger.datadir is not None
    cp, note = issue_checkpoint(
        open_chain(ledger.datadir),
        origin=ledger.site().log_origin,
        signing_key=ledger.datadir.signing_key(None),
        now=REPORT_NOW,
    )
    return Integrity(True, cp.size, "00", cp.size, cp.root.hex(), note, "fp")


def report_of(ledger: Ledger, as_of: datetime | None = None):  # type: ignore[no-untyped-def]
    views = open_views(ledger, as_of=as_of)
    try:
        return build_compliance_report(
            ledger, views, period_from=date(2026, 11, 1), period_to=date(2026, 11, 5),
            now=REPORT_NOW, generated_by=D, integrity=integrity_of(ledger), as_of=as_of,
        )  # fmt: skip
    finally:
        views.close()


def test_the_report_carries_the_scenario_numbers_and_what_needs_attention(
    ledger: Ledger,
) -> None:
    sc = build_scenario(ledger)
    report = report_of(ledger)
    counts = report.retention.counts
    assert (counts.captured, counts.purged_late, counts.purged_on_time) == (3, 1, 0)
    assert (counts.overdue_now, counts.flagged, counts.held) == (2, 1, 2)  # legal + FOIA hold
    assert {o.segment_id for o in report.retention.overdue} == set(sc.overdue)
    attention = {(a.rule_id, a.subject_id): a for a in report.attention}
    overdue = attention[("FOOTAGE-RETENTION", sc.overdue[0])]
    assert overdue.severity == "violation" and overdue.rule_source == "Policy V-B; 50 ILCS 205"
    assert "run the retention sweep" in overdue.text
    # the most overdue first (recorded earliest under the same retention), not by id
    listed = [a.subject_id for a in report.attention if a.subject_id in sc.overdue]
    assert listed == list(sc.overdue)
    assert attention[("LRCA-EMERGENCY-FOLLOWUP", sc.emergency)].severity == "warning"
    foia = attention[("FOIA-CLOCK", sc.foia)]
    assert foia.severity == "warning" and "2 business days left" in foia.text
    assert attention[("FOOTAGE-HOLD-BLOCKS-PURGE", sc.hold_id)].severity == "warning"
    # The late purge and the missing schedule authority need the Director too.
    late = attention[("FOOTAGE-RETENTION", "retention")]
    assert late.severity == "violation" and late.text.startswith("1 segment was purged late")
    schedule = attention[("FOOTAGE-RETENTION", "retention settings")]
    assert schedule.severity == "warning"
    assert schedule.text.startswith("Schedule authority: NOT CONFIGURED.")
    # Refused attempts were refused already: listed once, under refusals, not here.
    assert not {a.rule_id for a in report.attention} & {r.rule_id for r in report.refusals}
    assert {r.rule_id for r in report.refusals} == {"CAMERA-PRIVACY-ZONE", "FOOTAGE-ARCHIVE-ACCESS"}
    assert [a.severity for a in report.attention] == sorted(
        (a.severity for a in report.attention),
        key=["violation", "warning", "info"].index,
    )
    # Cameras: the registry and the refused restroom camera with its zone.
    assert [(c.camera_id, c.status) for c in report.cameras.rows] == [("lobby-1", "active")]
    (refused_cam,) = report.cameras.refused
    assert (refused_cam.camera_id, refused_cam.zone) == ("restroom-1", "restroom")
    # Access: one viewing by the Director, one refused attempt by staff.
    (viewing,) = report.access.viewings
    assert (viewing.name, viewing.segment_id, viewing.purpose) == (D, sc.flagged, "safety")
    assert viewing.archived  # ended 1 November 14:10 UTC, viewed 26 hours later
    assert [r.name for r in report.access.refused] == [S]
    # Disclosures by kind and basis; the release and the open follow-up.
    d = report.disclosures
    assert d.by_requester_kind == {"law_enforcement": 1, "parent_guardian": 1, "public": 1}
    assert d.by_basis == {"emergency": 1, "foia": 1, "guardian": 1}
    rows = {r.request_id: r for r in d.rows}
    assert rows[sc.emergency].released_fields == ("name",)
    assert rows[sc.emergency].follow_up == "open"
    assert rows[sc.foia].foia_due is not None and rows[sc.foia].decision == "pending"
    assert report.integrity.tree_size == report.integrity.entries
    assert report.integrity.checkpoint.splitlines()[1] == str(report.integrity.entries)
    # Issue 12's facts on paper: the signed Appendix 9's hash, the flag's incident and end.
    from projections.render_html import render_html

    html = render_html(report)
    signed = "signed Appendix 9 sha256:" + "f" * 16
    assert rows[sc.emergency].legal_basis == signed and signed in html
    (flag_row,) = [x for x in report.retention.held if x.kind == "flag"]
    assert flag_row.reason == "IR-9 fall: patron reported a fall" and flag_row.review_by
    assert "IR-9 fall: patron reported a fall" in html


def test_as_of_gives_the_state_as_it_was_then(ledger: Ledger) -> None:
    sc = build_scenario(ledger)
    today = report_of(ledger)
    then = report_of(ledger, as_of=NOW + timedelta(minutes=30))
    rows_today = {r.request_id: r for r in today.disclosures.rows}
    rows_then = {r.request_id: r for r in then.disclosures.rows}
    assert rows_today[sc.decided_later].decision == "approved"
    assert rows_then[sc.decided_later].decision == "pending"
    # Before the flag, the hold and the purge (recorded an hour after NOW).
    assert today.retention.counts.flagged == 1 and then.retention.counts.flagged == 0
    assert then.retention.counts.purged_late == 0
    assert then.access.viewings == ()
    assert then.header.as_of == NOW + timedelta(minutes=30)


def test_statistics_suppress_small_cells_and_a_total_that_would_reveal_one(
    ledger: Ledger,
) -> None:
    build_scenario(ledger)
    start, end = datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 6, 6, tzinfo=UTC)
    views = open_views(ledger)
    try:
        with views.connect() as conn:
            stats = statistics(conn, start, end, threshold=5)
            loose = statistics(conn, start, end, threshold=1)
    finally:
        views.close()
    kinds = {t.name: t for t in stats.tables}["requests_by_kind"]
    cells = {c.label: c for c in kinds.cells}
    assert cells["public"].count is None and cells["public"].suppressed  # a cell of 1
    assert cells["court"].count == 0 and not cells["court"].suppressed  # zero identifies no one
    assert kinds.total is None and kinds.total_suppressed
    loose_kinds = {t.name: t for t in loose.tables}["requests_by_kind"]
    assert {c.label: c.count for c in loose_kinds.cells}["public"] == 1
    assert loose_kinds.total == 3
    assert stats.footage_hours_captured == 0.5  # three 10-minute segments recorded in Nov
    assert stats.footage_hours_purged == pytest.approx(600 / 3600, abs=0.01)


def test_business_days_count_weekdays_after_today_up_to_the_due_day() -> None:
    thursday = date(2026, 11, 5)
    assert business_days_between(thursday, date(2026, 11, 9)) == 2  # Friday, Monday
    assert business_days_between(thursday, thursday) == 0


def test_the_home_pages_requests_needing_attention_are_the_reports(ledger: Ledger) -> None:
    """The home page reads the register in a few columns (``register_brief``); the FOIA
    clocks and follow-ups it judges from them are the report's, from the whole rows."""
    from projections.compliance import desk

    build_scenario(ledger)
    kinds = {"FOIA-CLOCK", "LRCA-EMERGENCY-FOLLOWUP"}
    report = [a for a in report_of(ledger).attention if a.rule_id in kinds]
    home = desk(ledger, REPORT_NOW)
    assert len(report) == 2
    assert [a for a in home.attention if a.rule_id in kinds] == report
    pending = [r.ref for r in home.register if r.decision == "pending"]
    assert len(pending) == 1 and [r.foia_due for r in home.register if r.ref in pending][0]
