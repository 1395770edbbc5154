"""The registers in the browser: the disclosure register (page and CSV), the footage
access log, statistics, the compliance report's CSV tables; and legal review's
downloads: a signed checkpoint, an inclusion proof and the public key. Allowed, refused
and recorded, CSRF missing (nothing recorded)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from typing import Any

from flask import Flask

from ledger.checkpoint import parse_unverified
from tests.identity import DIRECTOR
from tests.integration.test_witness_loopback import witnesses as witnesses  # noqa: F401
from tests.web.conftest import (
    COUNSEL,
    MANAGER,
    STAFF,
    head,
    kinds_since,
    post,
    reader,
    sign_in,
)

SCRIPT = "<script>alert('x')</script>"


def _request(app: Flask, **over: str) -> None:
    staff = sign_in(app, STAFF)
    data = {"requester_kind": "public", "requester": SCRIPT, "received_by": STAFF,
            "records": "registration", "description": "=HYPERLINK(\"x\")", **over}  # fmt: skip
    assert post(staff, "/requests/new", data, form_page="/requests/new").status_code == 302


def test_the_disclosure_register_on_the_page_and_as_csv(
    app: Flask, library: dict[str, Any]
) -> None:
    _request(app)
    client = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    page = client.get("/reports/disclosures?first=2026-11-01&last=2026-11-02")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "R-2026-0001" in html and "1 request." in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<label for="first">From (site day)</label>' in html
    empty = client.get("/reports/disclosures?first=2026-10-01&last=2026-10-31")
    assert "No requests were opened in this period" in empty.get_data(as_text=True)
    download = client.get("/reports/disclosures?format=csv")
    assert (
        download.mimetype == "text/csv" and "attachment" in download.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [r["ref"] for r in rows] == ["R-2026-0001"]
    assert rows[0]["requester"] == SCRIPT and rows[0]["opened_at"].endswith("Z")
    assert head(library["data_dir"]) == start  # reading the register records nothing
    assert "<td>none</td>" in html  # nothing released yet, said so
    for path in ("/reports/disclosures", "/reports/access"):
        # a period the wrong way round: the form again, saying what to do, and no list
        reversed_ = client.get(f"{path}?first=2026-11-05&last=2026-11-01")
        text = reversed_.get_data(as_text=True)
        assert reversed_.status_code == 400 and "swap them" in text, text
        assert 'name="first"' in text and "No requests were opened" not in text
        for query in ("last=9999-12-31", "last=9999-12-31&format=csv", "first=0001-01-01"):
            edge = client.get(f"{path}?{query}")  # web red-team F9: it was a 500
            assert edge.status_code == 400, query
            assert "outside the dates a ledger can hold" in edge.get_data(as_text=True)


def test_staff_may_not_read_the_registers_and_each_attempt_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    for path in (
        "/reports/disclosures",
        "/reports/access",
        "/reports/statistics?first=2026-01-01&last=2026-11-02",
    ):
        start = head(library["data_dir"])
        response = staff.get(path)
        assert response.status_code == 403 and "was recorded" in response.get_data(as_text=True)
        assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_the_access_log_lists_viewings_and_refused_attempts(
    app: Flask, library: dict[str, Any]
) -> None:
    segment = library["segment"]
    manager = sign_in(app, MANAGER)
    view = {"purpose": "safety", "reason": "a patron fell near the door"}
    assert (
        post(manager, f"/footage/{segment}", view, form_page=f"/footage/{segment}").status_code
        == 200
    )
    staff = sign_in(app, STAFF)
    refused = post(staff, f"/footage/{segment}", {"purpose": "safety", "reason": "curious"},
                   form_page=f"/footage/{segment}")  # fmt: skip
    assert refused.status_code == 403  # archived footage is not for staff
    html = sign_in(app, COUNSEL).get("/reports/access").get_data(as_text=True)
    assert "Viewings (1)" in html and "a patron fell near the door" in html
    assert "Refused attempts to view, export or download footage (1)" in html


def test_statistics_suppress_small_cells(app: Flask, library: dict[str, Any]) -> None:
    _request(app)
    client = sign_in(app, DIRECTOR)
    assert "Statistics safe to publish" in client.get("/reports/statistics").get_data(as_text=True)
    html = client.get("/reports/statistics?first=2026-11-01&last=2026-11-02").get_data(as_text=True)
    assert "Requests by requester kind" in html and "&lt;5" in html
    html = client.get("/reports/statistics?first=2026-11-01&last=2026-11-02&threshold=1").get_data(
        as_text=True
    )
    assert "No suppression (threshold 1)" in html and "<td>public</td><td>1</td>" in html
    # web red-team F10: below the policy's threshold the page is not titled "safe"
    assert "safe to publish" not in html and "Statistics, not for publishing" in html
    html = client.get("/reports/statistics?first=2026-11-01&last=2026-11-02&threshold=7")
    assert "Statistics safe to publish" in html.get_data(as_text=True)
    # red-team M2: below the policy's threshold is the Director's only; refused, recorded
    start = head(library["data_dir"])
    manager = sign_in(app, MANAGER)
    lowered = manager.get("/reports/statistics?first=2026-11-01&last=2026-11-02&threshold=1")
    assert lowered.status_code == 403 and "<td>public</td><td>1</td>" not in lowered.get_data(
        as_text=True
    )
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    future = client.get("/reports/statistics?first=2026-11-01&last=2027-01-01")
    assert future.status_code == 400
    assert "ends on 2027-01-01, after today (2026-11-02)" in future.get_data(as_text=True)
    reversed_ = client.get("/reports/statistics?first=2026-11-02&last=2026-11-01")
    assert reversed_.status_code == 400
    assert "from 2026-11-02 to 2026-11-01: swap them" in reversed_.get_data(as_text=True)


def test_the_compliance_reports_tables_as_csv_are_recorded_as_issued(
    app: Flask, library: dict[str, Any]
) -> None:
    _request(app)
    client = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    response = post(client, "/reports", {"first": "2026-10-01", "last": "2026-11-02", "fmt": "csv"},
                    form_page="/reports")  # fmt: skip
    assert response.mimetype == "application/zip"
    assert "compliance-2026-10-01-to-2026-11-02.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as z:
        assert "disclosures.csv" in z.namelist() and "refusals.csv" in z.namelist()
        disclosures = z.read("disclosures.csv").decode()
    assert "R-2026-0001" in disclosures
    assert kinds_since(library["data_dir"], start) == ["ComplianceReportIssued"]
    ledger = reader(library["data_dir"])
    try:
        from ledger.report_records import IssuedReport

        [issued] = list(ledger._events_of(IssuedReport.ComplianceReportIssued))
    finally:
        ledger.close()
    assert issued.format == "csv"  # type: ignore[attr-defined]
    assert issued.output_sha256 == hashlib.sha256(response.data).hexdigest()  # type: ignore[attr-defined]


def test_legal_review_downloads_a_checkpoint_a_proof_and_the_public_key(
    app: Flask, library: dict[str, Any]
) -> None:
    counsel = sign_in(app, COUNSEL)
    page = counsel.get("/legal").get_data(as_text=True)
    assert "A signed checkpoint" in page and 'for="event"' in page
    start = head(library["data_dir"])
    note = post(counsel, "/legal/checkpoint", {}, form_page="/legal")
    assert note.status_code == 200 and "attachment" in note.headers["Content-Disposition"]
    cp = parse_unverified(note.get_data(as_text=True))
    assert cp.size == start
    proof = post(counsel, "/legal/proof", {"event": "3"}, form_page="/legal")
    assert proof.status_code == 200, proof.get_data(as_text=True)
    data = json.loads(proof.data)
    assert data["entry"]["notification_id"] == 3
    key = counsel.get("/legal/public-key.pem")
    assert key.data.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert head(library["data_dir"]) == start  # downloads record nothing
    missing = post(counsel, "/legal/proof", {"event": "999999"}, form_page="/legal")
    assert missing.status_code == 400 and "not in the ledger" in missing.get_data(as_text=True)


def test_the_proof_of_an_entry_checks_out_with_the_command_line(
    app: Flask, library: dict[str, Any], tmp_path: Any
) -> None:
    from click.testing import CliRunner

    from cli.main import custodes

    director = sign_in(app, DIRECTOR)
    proof = post(director, "/legal/proof", {"event": "2"}, form_page="/legal")
    key = director.get("/legal/public-key.pem")
    (tmp_path / "proof.json").write_bytes(proof.data)
    (tmp_path / "key.pem").write_bytes(key.data)
    result = CliRunner().invoke(
        custodes,
        ["verify-proof", str(tmp_path / "proof.json"), "--key", str(tmp_path / "key.pem")],
    )
    assert result.exit_code == 0, result.output
    assert "OK: entry" in result.output


def test_legal_downloads_are_for_the_director_and_counsel_and_refusals_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    manager = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    assert manager.get("/legal").status_code == 403
    assert manager.get("/legal/public-key.pem").status_code == 403
    director_page = sign_in(app, DIRECTOR).get("/legal").get_data(as_text=True)
    from tests.web.conftest import token

    response = manager.post("/legal/checkpoint", data={"csrf_token": token(director_page)})
    assert response.status_code == 400  # another session's token: nothing runs
    assert kinds_since(library["data_dir"], start) == ["AccessDenied", "AccessDenied"]
    staff = sign_in(app, STAFF)
    start = head(library["data_dir"])
    html = staff.get("/requests").get_data(as_text=True)
    from tests.web.conftest import token as tok

    response = staff.post("/legal/proof", data={"event": "1", "csrf_token": tok(html)})
    assert response.status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    response = staff.post("/legal/proof", data={"event": "1"})
    assert response.status_code == 400
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_the_checkpoint_download_takes_the_command_lines_path_through_the_witness_policy(
    app: Flask, library: dict[str, Any], tmp_path: Any, witnesses: Any
) -> None:
    """As `custodes checkpoint`: with a witness policy recorded, the policy's witnesses
    are asked and their cosignatures are in the downloaded note."""
    from ledger.witness.cosignature import cosignatures
    from tests.integration.test_witness_loopback import cli, write_policy

    policy = write_policy(tmp_path / "p", library["data_dir"], witnesses, "quorum board")
    cli(library["data_dir"], "witness", "policy", "set", str(policy), "--reason", "board",
        "--as", DIRECTOR)  # fmt: skip
    counsel = sign_in(app, COUNSEL)
    note = post(counsel, "/legal/checkpoint", {}, form_page="/legal")
    assert note.status_code == 200, note.get_data(as_text=True)
    signed = cosignatures(note.get_data(as_text=True), [witnesses["board"].witness.vkey])
    assert set(signed) == {"board.example/witness"}


def test_a_request_opened_by_a_clock_set_ahead_is_in_its_real_periods_register(
    library: dict[str, Any], clock: Any
) -> None:
    """As ``report disclosures`` (session 23): a request opened on 2 November by a clock
    reading June 2027, its time then set aside by the Director's correction, is in the
    register and the statistics of 2 November, not in the register of June 2027."""
    from datetime import UTC, datetime, timedelta

    from ledger.clock import ManualClock
    from ledger.datadir import DataDir
    from tests.conftest import NOW
    from tests.identity import open_test_ledger
    from web.app import create_app, desk

    data = DataDir.open(library["data_dir"])
    ahead = open_test_ledger(data, clock=ManualClock(datetime(2027, 6, 1, tzinfo=UTC)))
    try:
        hidden = ahead.open_request(
            requester_kind="public", requester="A reporter", received_by=STAFF,
            records=["registration"], description="who borrowed it", actor=STAFF,
        )  # fmt: skip
    finally:
        ahead.close()
    fixed = open_test_ledger(data, clock=ManualClock(NOW + timedelta(minutes=1)))
    try:
        fixed.correct_clock(reason="the host's clock jumped ahead", actor=DIRECTOR)
    finally:
        fixed.close()
    app = create_app(library["data_dir"], clock=clock)
    with app.app_context():
        ledger = desk().ledger
    try:
        client = sign_in(app, MANAGER)
        html = client.get("/reports/disclosures?first=2026-11-02&last=2026-11-02").get_data(
            as_text=True
        )
        assert hidden in html
        later = client.get("/reports/disclosures?first=2027-06-01&last=2027-06-01")
        assert hidden not in later.get_data(as_text=True)
        director = sign_in(app, DIRECTOR)  # and the statistics of 2 November count it
        stats = director.get("/reports/statistics?first=2026-11-02&last=2026-11-02&threshold=1")
        assert "<td>public</td><td>1</td>" in stats.get_data(as_text=True)
    finally:
        ledger.close()
