"""The compliance report's renderers: JSON, CSV, HTML and PDF from one filled model.

These tests write files (tmp_path), which the brief for report rendering allows: the
renderers' contract is the file they leave behind, or none.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import stat
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from ledger import outfiles
from projections import charts, compliance_model
from projections.compliance_model import (
    SCHEMA_VERSION,
    Access,
    AttentionItem,
    CameraRow,
    Cameras,
    CameraTimeline,
    ComplianceReport,
    DisclosureRow,
    Disclosures,
    HeldSegment,
    Integrity,
    InvalidReport,
    OverdueSegment,
    RefusalRow,
    RefusedAccess,
    RefusedCamera,
    ReportError,
    ReportHeader,
    Retention,
    RetentionCounts,
    RetentionSettings,
    TimelineBar,
    Viewing,
)
from projections.render_data import CSV_TABLES, to_csv_dir, to_json, write_json
from projections.render_html import render_html, write_html
from projections.render_pdf import (
    BODY_PT,
    MAX_CELL_LINES,
    UNI,
    ReportPDF,
    render_pdf,
    write_pdf,
)
from projections.report_document import SECTION_TITLES

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CHECKPOINT = (
    "mahomet.lib.il.us/custodes\n"
    "4812\n"
    "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n"
    "time 2026-11-01T06:00:00Z\n"
    "\n"
    "\u2014 mahomet.lib.il.us/custodes QC2pqLTLN2Cxvvr1LCiEF/r74FXrPlx96RrmRcRhOa8m29f8i"
    "fprsdAfkrCdqU31sVf+MmvtWcr1nafVerNYm9ED0wo=\n"
)
DIRECTOR, MANAGER, ACTING, STAFF = "Carol Whitfield", "Dev Patel", "Angela Ruiz", "Sam Okoro"


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """A UTC time in 2026 (Central time is UTC-5 in October)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


CAMERAS = (
    ("front-door", "Main entrance, vestibule", "entrance", True, "active"),
    ("circ-desk", "Circulation desk", "public_service", True, "active"),
    ("kids-room", "Children's room \u2014 picture books", "public_area", True, "active"),
    ("lot-north", "North parking lot", "exterior", True, "active"),
    ("makerspace", "Makerspace", "public_area", True, "active"),
    ("stacks-2", "Adult stacks, second floor", "public_area", False, "retired"),
)


def _segments() -> tuple[list[CameraTimeline], list[HeldSegment], list[OverdueSegment]]:
    timeline, held, overdue = [], [], []
    for c, (camera, *_rest) in enumerate(CAMERAS):
        bars = []
        for k in range(7 if camera != "stacks-2" else 4):
            day = 1 + (k * 4 + c) % 30
            start = at(day, 14 + c, 0)
            end = start + timedelta(minutes=45)
            status = "purged" if day <= 2 else "retained"
            segment = f"seg-{c}{k:02d}"
            if camera == "circ-desk" and k == 3:
                status = "held"
                held.append(
                    HeldSegment(
                        segment, camera, start, end,
                        "Preservation letter, Champaign County Sheriff \u201cburglary\u201d case",
                        "le_preservation", "CCSO 26-11873", (NOW - end).days, at(30, 17, month=11),
                    )
                )  # fmt: skip
            elif camera == "lot-north" and k in (2, 5):
                status = "flagged"
                held.append(
                    HeldSegment(
                        segment, camera, start, end,
                        "Patron reported a vehicle struck in the lot; keep for insurer",
                        "flag", f"FLAG-{k}", (NOW - end).days, at(24, 17) if k == 2 else None,
                    )
                )  # fmt: skip
            elif camera == "front-door" and k == 0:
                status = "overdue"
                deadline = end + timedelta(days=30)
                overdue.append(OverdueSegment(segment, camera, deadline, (NOW - deadline).days))
            bars.append(TimelineBar(start, end, status))
        timeline.append(CameraTimeline(camera, tuple(bars)))
    return timeline, held, overdue


def _viewings() -> list[Viewing]:
    people = ((DIRECTOR, "director"), (MANAGER, "business_manager"), (ACTING, "director"))
    purposes = (
        ("incident_investigation", "Patron reported a stolen bag at the circulation desk"),
        ("legal_hold_review", "Check the preserved clip covers the sheriff\u2019s window"),
        ("safety", "Door alarm after closing; confirm nobody was inside"),
        ("foia_review", "Review footage responsive to FOIA-2026-031 before redaction"),
    )
    rows = []
    for i in range(12):
        name, role = people[i % 3]
        purpose, reason = purposes[i % 4]
        rows.append(
            Viewing(
                name, role, at(3 + i * 2, 15 + i % 5, 10 * (i % 6)), purpose, reason,
                i % 4 == 1, f"seg-{i % 6}{i % 7:02d}", True,
            )
        )  # fmt: skip
    # A staff member's look at a segment still in the live window: not archived footage.
    rows.append(
        Viewing(
            STAFF, "staff", at(14, 14, 5), "safety", "Fire alarm: check the stairwell is clear",
            False, "seg-512", False,
        )
    )  # fmt: skip
    return rows


def sample_report(**header_changes: object) -> ComplianceReport:
    """A filled report for a month at Mahomet Public Library (tests and the visual check)."""
    timeline, held, overdue = _segments()
    header = ReportHeader(
        library="Mahomet Public Library",
        site_timezone="America/Chicago",
        period_from=date(2026, 10, 1),
        period_to=date(2026, 10, 31),
        generated_at=NOW,
        as_of=None,
        generated_by=DIRECTOR,
    )
    header = dataclasses.replace(header, **header_changes)  # type: ignore[arg-type]
    refused_view = RefusedAccess(
        "\u0141ukasz Nowak", "staff", at(12, 19, 40), "FOOTAGE-NO-STAFF-MONITORING",
        "FOOTAGE-NO-STAFF-MONITORING (Policy V-B): cameras are not used to monitor staff "
        "performance or to evaluate staff",
    )  # fmt: skip
    refused_cam = RefusedCamera(
        "restroom-1", DIRECTOR, at(2, 16, 5), "restroom", "CAMERA-PRIVACY-ZONE",
        "CAMERA-PRIVACY-ZONE (720 ILCS 5/26-4): no video recording in restrooms, locker or "
        "changing rooms",
    )  # fmt: skip
    disclosures = (
        DisclosureRow(
            "REQ-2026-014", at(6, 15, 20), "law_enforcement", "court_order", "partial",
            at(7, 16, 0), 24.7,
            "Order covers circulation 2026-09-01..09-30 for one card; holds outside its scope",
            ("name", "card_number", "circulation:2026-09"), "receipt signed", "none", None,
        ),
        DisclosureRow(
            "REQ-2026-015", at(9, 2, 40), "law_enforcement", "emergency", "granted",
            at(9, 3, 5), 0.4,
            "All four Appendix 9 representations attested; identifying fields only (R9)",
            ("name", "address", "phone"), "Appendix 9 signed", "open", None,
        ),
        DisclosureRow(
            "REQ-2026-016", at(13, 18, 0), "guardian", "minor_fines", "granted",
            at(13, 18, 30), 0.5,
            "Guardianship confirmed by library card application; amounts only, no titles",
            ("fines_total",), "none", "none", None,
        ),
        DisclosureRow(
            "REQ-2026-017", at(20, 14, 0), "public", "foia", "denied",
            at(22, 15, 0), 49.0,
            "FOIA 7.5(b): circulation records are exempt",
            (), "none", "none", at(27, 22, 0),
        ),
        DisclosureRow(
            "FOIA-2026-031", at(28, 16, 0), "press", "foia", "pending",
            None, None, "", (), "none", "none", at(4, 23, 0, month=11),
        ),
        DisclosureRow(
            "REQ-2026-018", at(23, 13, 0), "law_enforcement", "active_investigation",
            "granted", at(23, 20, 0), 7.0,
            "Active investigation CCSO 26-11873; faces of bystanders blurred",
            ("footage:seg-103",), "receipt signed", "none", None,
        ),
    )  # fmt: skip
    return ComplianceReport(
        header=header,
        attention=(
            AttentionItem(
                "violation",
                "FOOTAGE-RETENTION",
                "50 ILCS 205; Policy V-B",
                "Segment seg-000 (front-door) was due for purge on 2026-10-31 and is still "
                "kept: run the retention sweep.",
                "seg-000",
            ),
            AttentionItem(
                "violation",
                "FOOTAGE-RETENTION",
                "Policy V-B; 50 ILCS 205",
                "1 segment was purged late in this period (after the deadline and the sweep's "
                "grace day): check that the daily retention sweep runs.",
                "retention",
            ),
            AttentionItem(
                "warning",
                "LRCA-EMERGENCY-FOLLOWUP",
                "75 ILCS 70/1(a)(2)",
                "Emergency release REQ-2026-015 has an open follow-up: seek judicial review "
                "or link the later court order.",
                "REQ-2026-015",
            ),
            AttentionItem(
                "warning",
                "FOIA-CLOCK",
                "5 ILCS 140/3(d)",
                "FOIA request FOIA-2026-031 is due 2026-11-04 (2 business days); answer or "
                "extend it.",
                "FOIA-2026-031",
            ),
        ),  # fmt: skip
        integrity=Integrity(
            verified=True,
            entries=4812,
            chain_head="9f2c6a0d4b1e8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
            tree_size=4812,
            merkle_root="4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2",
            checkpoint=CHECKPOINT,
            key_fingerprint="56475aa754634740",
        ),
        cameras=Cameras(
            rows=tuple(
                CameraRow(cid, loc, zone, sign, status, at(1, 13, 0, month=9))
                for cid, loc, zone, sign, status in CAMERAS
            ),
            refused=(refused_cam,),
        ),
        retention=Retention(
            settings=RetentionSettings(
                30, "Local Records Commission schedule 26-017, item 12 (security video)"
            ),
            counts=RetentionCounts(
                captured=39, purged_on_time=6, purged_late=1, overdue_now=1, flagged=2, held=1
            ),
            held=tuple(held),
            overdue=tuple(overdue),
            timeline=tuple(timeline),
        ),
        access=Access(viewings=tuple(_viewings()), refused=(refused_view,)),
        disclosures=Disclosures(
            rows=disclosures,
            by_requester_kind={"law_enforcement": 3, "guardian": 1, "public": 1, "press": 1},
            by_basis={
                "court_order": 1,
                "emergency": 1,
                "minor_fines": 1,
                "foia": 2,
                "active_investigation": 1,
            },
        ),
        refusals=(
            RefusalRow(
                refused_cam.at,
                DIRECTOR,
                "director",
                "register camera",
                refused_cam.rule_id,
                refused_cam.message,
            ),
            RefusalRow(
                refused_view.at,
                refused_view.name,
                "staff",
                "view footage",
                refused_view.rule_id,
                refused_view.message,
            ),
            RefusalRow(
                at(9, 2, 55),
                MANAGER,
                "business_manager",
                "release on emergency request",
                "LRCA-EMERGENCY-SCOPE",
                "LRCA-EMERGENCY-SCOPE (75 ILCS 70/1(a)(2)): circulation records may not be "
                "released on an emergency request",
            ),
        ),  # fmt: skip
    )


def with_reason(report: ComplianceReport, reason: str) -> ComplianceReport:
    first, *rest = report.access.viewings
    viewings = (dataclasses.replace(first, reason=reason), *rest)
    return dataclasses.replace(report, access=dataclasses.replace(report.access, viewings=viewings))


# --- JSON -------------------------------------------------------------------------------


def test_json_carries_the_schema_version_and_every_section_with_sorted_keys() -> None:
    text = to_json(sample_report())
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION == "custodes-compliance-report/2"
    assert list(data) == sorted(data)
    assert set(data) == {
        "header", "attention", "integrity", "cameras", "retention", "access",
        "disclosures", "refusals", "schema_version", "policy", "proofs",
    }  # fmt: skip
    assert data["header"]["period_from"] == "2026-10-01"
    assert data["header"]["generated_at"] == "2026-11-02T15:00:00Z"
    assert data["header"]["as_of"] is None
    assert data["integrity"]["checkpoint"] == CHECKPOINT
    assert set(data["retention"]["held"][0]) == {f.name for f in dataclasses.fields(HeldSegment)}
    assert data["disclosures"]["by_basis"]["foia"] == 2
    assert to_json(sample_report()) == text


def test_json_shows_times_in_utc_whatever_zone_they_were_given_in() -> None:
    chicago = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("America/Chicago")
    )
    data = json.loads(to_json(sample_report(generated_at=chicago, as_of=chicago)))
    assert data["header"]["generated_at"] == "2026-11-02T09:00:00Z"
    assert data["header"]["as_of"] == "2026-11-02T09:00:00Z"


def test_a_naive_time_in_the_report_is_refused() -> None:
    with pytest.raises(InvalidReport, match=r"report\.header\.generated_at is a naive datetime"):
        sample_report(generated_at=datetime(2026, 11, 2, 15, 0))


# --- CSV --------------------------------------------------------------------------------


def test_csv_writes_one_file_per_table_with_its_header_row(tmp_path: Path) -> None:
    written = to_csv_dir(sample_report(), tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(CSV_TABLES)
    assert {
        "attention.csv", "cameras.csv", "retention_held.csv", "retention_overdue.csv",
        "access.csv", "access_refused.csv", "disclosures.csv", "refusals.csv",
    } <= set(names)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary files left
    with (tmp_path / "access.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "name", "role", "viewed_at", "purpose", "reason", "remote", "segment_id", "archived",
        "retention_days", "retention_version", "acting",
    ]  # fmt: skip
    assert len(rows) == 1 + 13
    assert [r[7] for r in rows[1:]].count("no") == 1  # the staff member's recent-footage view
    with (tmp_path / "disclosures.csv").open(newline="", encoding="utf-8") as handle:
        by_id = {r["request_id"]: r for r in csv.DictReader(handle)}
    assert by_id["REQ-2026-015"]["released_fields"] == "name; address; phone"
    assert by_id["FOIA-2026-031"]["decided_at"] == ""


# --- HTML -------------------------------------------------------------------------------


def test_html_has_every_section_in_order_summary_first_proof_last() -> None:
    html = render_html(sample_report())
    positions = [html.index(f">{title}</h2>") for title in SECTION_TITLES]
    assert positions == sorted(positions)
    assert SECTION_TITLES[:2] == ("Summary", "Needs your attention")
    assert SECTION_TITLES[-1] == "Proof of integrity"
    assert "<pre" in html[positions[-1] :]
    assert "\u2014 mahomet.lib.il.us/custodes QC2pq" in html
    assert '<th scope="col">' in html and "<caption>" in html
    assert html.count('<img src="data:image/png;base64,') == 3
    assert "2026-10-09 02:40\u00a0CDT" not in html  # a UTC time shown as if local
    assert "2026-10-08 21:40\u00a0CDT" in html  # REQ-2026-015 received, site time


def test_html_escapes_a_script_in_a_viewing_reason() -> None:
    html = render_html(with_reason(sample_report(), '<script>alert("x")</script>'))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_an_empty_period_renders_with_no_data_messages() -> None:
    report = sample_report()
    empty = dataclasses.replace(
        report,
        attention=(),
        access=Access((), ()),
        disclosures=Disclosures((), {}, {}),
        refusals=(),
        retention=dataclasses.replace(report.retention, held=(), overdue=(), timeline=()),
    )
    html = render_html(empty)
    assert "Nothing needs your attention in this period." in html
    assert "No archived footage was viewed." in html
    assert render_pdf(empty).startswith(b"%PDF")
    assert charts.empty_chart("x")[:8] == b"\x89PNG\r\n\x1a\n"


def test_charts_are_the_same_bytes_every_time() -> None:
    report = sample_report()
    zone = __import__("zoneinfo").ZoneInfo("America/Chicago")
    assert charts.viewings_per_week(report.access.viewings, zone) == charts.viewings_per_week(
        report.access.viewings, zone
    )


# --- PDF --------------------------------------------------------------------------------


def test_pdf_text_has_the_library_attention_and_the_checkpoint_origin(tmp_path: Path) -> None:
    path = write_pdf(sample_report(), tmp_path / "report.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert "Mahomet Public Library" in text
    assert "Needs your attention" in text
    assert "mahomet.lib.il.us/custodes\n" in text.replace(" \n", "\n") or (
        "mahomet.lib.il.us/custodes" in text
    )
    assert "\u2014 mahomet.lib.il.us/custodes" in text  # the em dash printed verbatim
    assert "\u0141ukasz Nowak" in text  # Unicode name set in DejaVu, not mangled
    assert "Page 1 of " in text


def test_pdf_renders_the_same_bytes_for_the_same_report() -> None:
    assert render_pdf(sample_report()) == render_pdf(sample_report())


def test_the_unwrapped_fast_path_gives_the_same_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fits_unwrapped`` only skips a dry run whose answer would be "fits": the bytes
    are those of measuring every cell. The report holds a cell of 30 short lines and a
    cell of one long line, both cut (the fast path must not pass either)."""
    report = with_reason(sample_report(), "\n".join(f"line {n}" for n in range(30)))
    viewings = list(report.access.viewings)
    viewings[1] = dataclasses.replace(viewings[1], reason="A patron ran outside. " * 60)
    report = dataclasses.replace(
        report, access=dataclasses.replace(report.access, viewings=tuple(viewings))
    )
    fast = render_pdf(report)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(fast)).pages)
    assert text.count("more characters") == 2
    monkeypatch.setattr(ReportPDF, "fits_unwrapped", lambda self, text, room: False)
    assert render_pdf(report) == fast


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzWM0123456789-.,", min_size=1, max_size=40)


@given(
    lines=st.lists(st.lists(_WORDS, min_size=0, max_size=12), min_size=1, max_size=30),
    room=st.floats(min_value=8.0, max_value=120.0),
    unicode_font=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_a_cell_said_to_fit_unwrapped_fits(
    lines: list[list[str]], room: float, unicode_font: bool
) -> None:
    pdf = _measuring_pdf()
    if unicode_font:
        pdf.set_font(UNI, "", BODY_PT - 0.5)
    else:
        pdf.set_font("Helvetica", "", BODY_PT)
    text = "\n".join(" ".join(words) for words in lines)
    if pdf.fits_unwrapped(text, room):
        assert pdf.cell_lines(text, room) <= MAX_CELL_LINES
        assert pdf.cell_lines(text, room) <= len(lines)  # a trailing empty line is dropped


_PDF: list[ReportPDF] = []


def _measuring_pdf() -> ReportPDF:
    if not _PDF:
        pdf = ReportPDF(sample_report())
        pdf.add_page()
        _PDF.append(pdf)
    return _PDF[0]


# --- Writing ----------------------------------------------------------------------------


@pytest.mark.parametrize("write", [write_pdf, write_html, write_json], ids=["pdf", "html", "json"])
def test_an_unwritable_path_raises_report_error_and_leaves_no_file(tmp_path: Path, write) -> None:
    target = tmp_path / "missing" / "report.out"
    with pytest.raises(ReportError, match=r"the directory .*missing does not exist"):
        write(sample_report(), target)
    assert list(tmp_path.iterdir()) == []


def test_writing_onto_a_directory_raises_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="is a directory; give a file path"):
        write_html(sample_report(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_csv_into_a_directory_whose_parent_is_missing_raises_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="No such file or directory"):
        to_csv_dir(sample_report(), tmp_path / "nope" / "csv")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_link_leaves_neither_the_file_nor_a_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_link(src: object, dst: object, **kw: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outfiles.os, "link", failing_link)
    with pytest.raises(ReportError, match="Permission denied"):
        compliance_model.write_atomically(tmp_path / "report.pdf", b"%PDF-1.4 partial")
    assert list(tmp_path.iterdir()) == []


def test_a_report_is_private_and_never_written_over_without_force(tmp_path: Path) -> None:
    path = write_json(sample_report(), tmp_path / "r.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ReportError, match="exists already; pass --force"):
        write_json(sample_report(), path)
    path.write_text("old")
    write_json(sample_report(), path, force=True)
    assert json.loads(path.read_text())["schema_version"] == "custodes-compliance-report/2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


# --- Words a Director understands (issue 16, item 11) -----------------------------------


def test_page_one_opens_with_a_plain_summary_and_the_proof_comes_last() -> None:
    html = render_html(sample_report())
    summary = html.index(">Summary</h2>")
    attention = html.index(">Needs your attention</h2>")
    refusals = html.index(">Refused attempts</h2>")
    for said in (
        "The ledger verified: all 4,812 recorded entries are intact",
        "39 segments recorded; 7 purged (1 late); 1 overdue for purge now",
        "12 viewings of archived footage by 3 people; 1 viewing recorded as not archived "
        "(former live window)",
        "6 requests received: 1 denied, 3 granted, 1 partial, 1 pending",
        "Needs your attention: 2 violations and 2 warnings, listed next.",
    ):
        assert summary < html.index(said) < attention, said
    for proof in ("Chain head", "Merkle root", "Public key fingerprint", "<pre"):
        assert html.index(proof) > refusals, proof


def test_each_refused_attempt_is_listed_once() -> None:
    report = sample_report()
    html = render_html(report)
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(report))).pages
    )
    for refusal in report.refusals:
        assert html.count(escape(refusal.message)) == 1, refusal.message
        assert text.replace("\n", " ").count(refusal.message[-40:]) == 1, refusal.message
    assert "1 camera registration was refused (restroom-1): see Refused attempts." in html
    assert (
        "1 attempt to view, export or download footage was refused: see Refused attempts." in html
    )


def test_the_archived_viewings_title_names_the_roles_of_the_versions_in_force() -> None:
    """Red team (session 14): the title said "Director and Business Manager" under a
    version that lets only the Director view archived footage."""
    from dataclasses import replace

    from projections.compliance_model import Policy, PolicyVersionRow

    def version(n: int, roles: tuple[str, ...], in_force: bool = True) -> PolicyVersionRow:
        moment = datetime(2026, 10, n, tzinfo=UTC)
        return PolicyVersionRow(
            version=n, profile="mahomet", approved_by="Board", approval_ref=f"minutes {n}",
            effective_date=moment.date(), effective_at=moment, adopted_at=moment,
            adopted_by="Dana Director", text_sha256="0" * 64, params_sha256="0" * 64,
            retention_days=30, in_force_in_period=in_force, adopted_in_period=False,
            archive_viewer_roles=roles,
        )  # fmt: skip

    both = ("director", "business_manager")
    director_only = replace(sample_report(), policy=Policy(versions=(version(2, ("director",)),)))
    assert "Archived-footage viewings: Director only (R16)" in render_html(director_only)
    changed = replace(
        sample_report(),
        policy=Policy(
            versions=(version(1, both), version(2, ("director",)), version(3, both, False))
        ),
    )
    assert (
        "Archived-footage viewings: Director and Business Manager (version 1); "
        "Director (version 2) only (R16)"
    ) in render_html(changed)


def test_a_view_recorded_as_not_archived_is_listed_apart_as_a_former_live_window() -> None:
    html = render_html(sample_report())
    archived = html.index("Archived-footage viewings: Director and Business Manager only")
    recent = html.index("Viewings recorded as not archived (a former live window; none is allowed")
    assert html.index(STAFF) > recent > archived


def test_no_dash_pair_in_the_pdf_title_or_footer() -> None:
    pdf = PdfReader(io.BytesIO(render_pdf(sample_report())))
    assert pdf.metadata is not None
    assert pdf.metadata.title == "Compliance report: Mahomet Public Library"
    footer = pdf.pages[1].extract_text()
    assert "Mahomet Public Library, compliance report 2026-10-01 to 2026-10-31" in footer
    assert " -- " not in footer


def test_table_headers_wrap_between_words_only() -> None:
    html = render_html(sample_report())
    css = html[html.index("<style>") : html.index("</style>")]
    assert "th{overflow-wrap:normal;word-break:normal" in css
    assert (
        "th,td{border:1px solid #888;padding:.25em .4em;text-align:left;vertical-align:top}" in css
    )


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2026, 12, 1), date(2026, 12, 1), ["Dec 01", "03:00", "06:00", "09:00"]),
        (date(2026, 10, 1), date(2026, 10, 31), ["Oct 06", "Oct 13", "Oct 20", "Oct 27"]),
    ],
    ids=["a one-day report labels hours, the date once", "a month labels days"],
)
def test_the_timeline_labels_each_tick_once(first: date, last: date, expected: list[str]) -> None:
    import matplotlib.pyplot as plt

    zone = ZoneInfo("America/Chicago")
    fig, ax = plt.subplots()
    x0 = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    x1 = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    charts.date_axis(ax, zone, x0, x1)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    plt.close(fig)
    assert labels[: len(expected)] == expected
    assert len(labels) == len(set(labels)), labels
