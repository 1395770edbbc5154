"""Reports in the browser: the compliance report for a period on the page or as PDF or
JSON (recorded as issued), and legal review, a subject's history as of a day (each
reading recorded, R27) (issue 17, item 5)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from tests.identity import DIRECTOR
from tests.web.conftest import COUNSEL, MANAGER, STAFF, head, kinds_since, post, sign_in


def _report(client: Any, fmt: str) -> Any:
    return post(client, "/reports", {"first": "2026-10-01", "last": "2026-11-02", "fmt": fmt},
                form_page="/reports")  # fmt: skip


def test_the_compliance_report_inline_and_as_downloads(app: Flask, library: dict[str, Any]) -> None:
    client = sign_in(app, DIRECTOR)
    form = client.get("/reports").get_data(as_text=True)
    assert '<label for="first">From (site day)</label>' in form
    start = head(library["data_dir"])
    response = _report(client, "page")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Compliance report: Test Library" in html and "Proof of integrity" in html
    assert "<style>" not in html  # the page's own stylesheet, nothing inline (CSP)
    assert kinds_since(library["data_dir"], start) == ["ComplianceReportIssued"]
    pdf = _report(client, "pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    data = json.loads(_report(client, "json").data)
    assert data["header"]["period_from"] == "2026-10-01"
    assert kinds_since(library["data_dir"], start).count("ComplianceReportIssued") == 3
    home = client.get("/").get_data(as_text=True)
    assert "signed for the report of 2026-10-01 to 2026-11-02" in home


def test_staff_may_not_make_the_compliance_report_and_it_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, STAFF)
    start = head(library["data_dir"])
    response = _report(client, "page")
    assert response.status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_counsel_reads_a_history_as_of_a_day_and_the_reading_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, COUNSEL)
    segment = library["segment"]
    start = head(library["data_dir"])
    response = client.get(f"/history?subject={segment}&as_of=2026-11-02")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "FootageCaptured" in html
    assert kinds_since(library["data_dir"], start) == ["ConfidentialRecordRead"]
    before = client.get(f"/history?subject={segment}&as_of=2026-10-30")
    assert before.status_code == 404 and "were recorded by" in before.get_data(as_text=True)
    assert client.get("/history?subject=lobby-1").status_code == 200


def test_the_business_manager_may_not_read_histories_and_it_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    response = client.get(f"/history?subject={library['segment']}")
    assert response.status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_footage_found_gone_is_recorded_by_the_directors_report_only(
    app: Flask, library: dict[str, Any]
) -> None:
    """Session 28: the Director's report on the page records what the vault audit finds
    (FootageFoundMissing, before it reads), so the report's item rests on an event its
    checkpoint signs; the Business Manager's lists it as not yet recorded and records
    nothing but the report."""
    data_dir = library["data_dir"]
    [blob] = (data_dir / "footage" / "blobs").iterdir()
    blob.unlink()  # deleted by hand: no purge in progress
    start = head(data_dir)
    listed = _report(sign_in(app, MANAGER), "page").get_data(as_text=True)
    assert "Found while writing this report, not yet recorded" in listed
    assert kinds_since(data_dir, start) == ["ComplianceReportIssued"]
    start = head(data_dir)
    made = _report(sign_in(app, DIRECTOR), "page").get_data(as_text=True)
    assert kinds_since(data_dir, start) == ["FootageFoundMissing", "ComplianceReportIssued"]
    assert "not yet recorded" not in made
    assert "1 segment found missing from the vault with no purge in progress: recorded" in made
    assert "found missing on" in made and "(compliance report 2026-10-01 to 2026-11-02)" in made
