"""Long text never breaks a report (issue 14, finding 5): a 1,561-character flag reason
and a 1,050-character refused name render to PDF and read back with pypdf, cut with a
pointer to the JSON, which holds them whole; and long input is bounded at entry. On
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from ledger.errors import InvalidInput, NotPermitted
from ledger.rules import STAFF_ACTIVE
from ledger.text import LIMITS
from projections.compliance import compile_compliance_report
from projections.render_data import write_json
from projections.render_pdf import write_pdf
from tests.conftest import NOW
from tests.identity import CustodesRunner
from tests.integration.footage_helpers import DIRECTOR, STAFF, footage_ledger
from tests.integration.test_compliance_report import capture

SENTENCE = "A patron took a laptop from the study carrel near the windows and ran outside. "
LONG_REASON = (SENTENCE * 20)[:1560].rstrip() + "."
LONG_NAME = "Q" * 1050


def test_a_long_flag_reason_and_a_long_refused_name_render_to_pdf(
    data_dir: Path, tmp_path: Path
) -> None:
    assert len(LONG_REASON) == 1561
    ledger = footage_ledger(data_dir)
    try:
        seg = capture(ledger, 1, NOW - timedelta(days=2))
        ledger.clock.set(NOW)
        ledger.flag(seg, incident="IR-1", reason=LONG_REASON, actor=STAFF)
        with pytest.raises(NotPermitted):  # an unknown name recorded as a refusal (R23)
            ledger.authorize(LONG_NAME, "footage view", (), STAFF_ACTIVE, subject=seg)
        assert ledger.datadir is not None
        ledger.clock.set(NOW + timedelta(hours=1))
        report, _note = compile_compliance_report(
            ledger, period_from=date(2026, 11, 1), period_to=date(2026, 11, 2),
            actor=DIRECTOR, now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
        )  # fmt: skip
    finally:
        ledger.close()
    pdf = write_pdf(report, tmp_path / "report.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert SENTENCE.strip()[:60] in text
    assert "more characters: the full text is in this report's JSON and CSV" in text
    assert "QQQQQQQQQQ" in text
    assert LONG_REASON not in text  # cut in the PDF ...
    data = json.loads(write_json(report, tmp_path / "report.json").read_text())
    held = [h["reason"] for h in data["retention"]["held"]]
    assert held == [f"IR-1: {LONG_REASON}"]  # ... whole here, after the incident it names
    assert LONG_NAME in [r["actor"] for r in data["refusals"]]


def test_long_input_is_refused_at_entry_with_the_limit(data_dir: Path) -> None:
    ledger = footage_ledger(data_dir)
    try:
        seg = capture(ledger, 2, NOW - timedelta(days=2))
        before = ledger.recorder.max_notification_id()
        too_long = "x" * (LIMITS["reason"] + 1)
        with pytest.raises(InvalidInput, match="is 2,001 characters long; a reason may have at"):
            ledger.flag(seg, incident="IR-1", reason=too_long, actor=STAFF)
        with pytest.raises(InvalidInput, match="a name may have at most 120"):
            ledger.add_staff("N" * 121, "staff", actor=DIRECTOR)
        with pytest.raises(InvalidInput, match="the description is 4,001 characters long"):
            ledger.open_request(
                requester_kind="public", requester="Pat", received_by=STAFF,
                records=["footage"], description="d" * 4001, actor=STAFF,
            )  # fmt: skip
        assert ledger.recorder.max_notification_id() == before
    finally:
        ledger.close()


def test_a_long_as_name_is_a_usage_error_and_nothing_is_recorded(data_dir: Path) -> None:
    from cli.main import custodes
    from ledger.clock import ManualClock
    from tests.cli.db_helpers import count_events

    before = count_events(data_dir)
    result = CustodesRunner().invoke(
        custodes,
        ["--data-dir", str(data_dir), "footage", "flag", "0123456789ab", "--reason", "x",
         "--as", LONG_NAME],
        obj=ManualClock(NOW),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is 1,050 characters long; a name may have at most 120" in result.stderr
    assert count_events(data_dir) == before
