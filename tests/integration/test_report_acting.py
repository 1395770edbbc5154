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


def test_the_access_log_names_the_delegation_an_acting_director_viewed_under(
    data_dir: Path,
) -> None:
    """Policy red team (session 16): `report access` showed a member of staff made acting
    Director, viewing archived footage, as "director", where the compliance report named
    the delegation."""
    from capture.ingest import ingest_paths
    from capture.viewing import view_segment
    from cli.main import custodes
    from tests.integration.footage_helpers import CAMERA, clip, footage_ledger

    ledger = footage_ledger(data_dir)
    try:
        path = clip(data_dir.parent / "clips", 0)
        sid = ingest_paths(ledger, [path], camera=CAMERA, actor=STAFF).outcomes[0].segment_id
        assert sid is not None
        now = ledger.clock()
        delegation = ledger.delegate_director(
            STAFF, start=now, until=now + timedelta(days=7), authority="board minutes",
            actor=DIRECTOR,
        )  # fmt: skip
        ledger.clock.advance(minutes=1)
        view_segment(ledger, sid, reason="patron fell", purpose="safety", remote=False,
                     actor=STAFF)  # fmt: skip
        with pytest.raises(NotPermitted):  # and a refused still, no reason given
            from capture.viewing import frame_of_segment

            frame_of_segment(ledger, sid, at_seconds=0.5, out_png=data_dir.parent / "s.png",
                             reason="", purpose="safety", remote=False, actor=STAFF)  # fmt: skip
        later = ManualClock(ledger.clock() + timedelta(minutes=5))
    finally:
        ledger.close()
    args = ["--data-dir", str(data_dir), "report", "access", "--as", DIRECTOR]
    shown = CustodesRunner().invoke(custodes, args, obj=later)
    assert shown.exit_code == 0, shown.output
    assert f"director (acting, {delegation})" in shown.output
    got = CustodesRunner().invoke(custodes, [*args, "--json"], obj=later)
    report = json.loads(got.stdout)
    assert [(v["actor"], v["acting"]) for v in report["viewings"]] == [(STAFF, delegation)]
    assert [(r["action"], r["acting"]) for r in report["refused"]] == [
        ("footage frame", delegation)
    ]
