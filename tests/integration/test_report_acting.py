"""An acting Director's acts read as hers in the compliance report, not the Director's
(R3; review, session 14: events record the role "director" for both, and the report showed
"Sam Staff, director")."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, enrol, open_test_ledger

STAFF = "Sam Staff"


def test_the_report_names_the_delegation_an_acting_directors_act_was_done_under(
    data_dir: Path, tmp_path: Path
) -> None:
    from cli.main import custodes

    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        enrol(ledger, STAFF, "staff")
        delegation = ledger.delegate_director(
            STAFF, start=NOW, until=NOW + timedelta(days=7), authority="board minutes",
            actor=DIRECTOR,
        )  # fmt: skip
        ledger.clock.advance(minutes=1)
        with pytest.raises(NotPermitted, match="^ONE-DIRECTOR"):  # not over the Director
            ledger.change_security(
                max_failures=9, window_minutes=15, unlock_minutes=10, actor=STAFF
            )
        with pytest.raises(NotPermitted):  # the Director's own refusal: no delegation
            ledger.register_camera("x", location="x", zone="restroom", signage_posted=True,
                                   actor=DIRECTOR)  # fmt: skip
    finally:
        ledger.close()
    out = tmp_path / "r.json"
    base = ["--data-dir", str(data_dir), "report", "compliance", "--from", "2026-11-01",
            "--to", "2026-11-02"]  # fmt: skip
    later = ManualClock(NOW + timedelta(hours=1))
    made = CustodesRunner().invoke(custodes, [*base, "--format", "json", "--out", str(out)],
                                   obj=later)  # fmt: skip
    assert made.exit_code == 0, made.output
    rows = json.loads(out.read_text())["refusals"]
    by_actor = {r["actor"]: r for r in rows}
    assert by_actor[STAFF]["role"] == "director" and by_actor[STAFF]["acting"] == delegation
    assert by_actor[DIRECTOR]["acting"] == ""
    html = tmp_path / "r.html"
    made = CustodesRunner().invoke(custodes, [*base, "--format", "html", "--out", str(html)],
                                   obj=later)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert f"director (acting, {delegation})" in html.read_text()
