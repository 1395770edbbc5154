"""Red-team findings on time and the Director's stand-in, on both databases: an act
recorded by a clock set ahead (R26) is damage of kind "clock" at its position (a request
recorded through the Python API 400 days ahead had verified, then blocked every act); a
delegation past a year, or overlapping another, is a recorded refusal (R3, R23)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.act_check import ActChecker
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import open_chain, verify_chain
from tests.identity import DIRECTOR, open_test_ledger


def test_an_act_recorded_after_the_verification_is_clock_damage(data_dir: Path) -> None:
    ahead = datetime.now(UTC) + timedelta(days=400)
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(ahead))
    try:
        ledger.register_camera(
            "lobby-1", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
        )
        position = ledger.chain_head()[0]
    finally:
        ledger.close()
    result = verify_chain(
        open_chain(DataDir.open(data_dir)), acts=ActChecker(now=datetime.now(UTC))
    )
    assert result.damage is not None
    assert result.damage.kind == "clock" and result.damage.position == position
    assert "after this verification" in result.damage.detail
    assert "set ahead" in result.damage.detail


def test_custodes_verify_reports_it_with_exit_3(data_dir: Path) -> None:
    from cli.main import custodes
    from tests.conftest import NOW
    from tests.identity import CustodesRunner

    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW + timedelta(days=1)))
    try:
        ledger.register_camera(
            "lobby-1", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
        )
    finally:
        ledger.close()
    verified = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), "verify"], obj=ManualClock(NOW)
    )
    assert verified.exit_code == 3, verified.output
    assert ": clock (recorded at 2026-11-03" in verified.stderr
    later = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), "verify"], obj=ManualClock(NOW + timedelta(days=2))
    )
    assert later.exit_code == 0, later.output


def test_a_delegation_past_a_year_or_overlapping_another_is_a_recorded_refusal(
    data_dir: Path,
) -> None:
    """Red-team finding: `staff delegate --until 2099-12-31` was refused but not recorded
    (R23: every refusal is recorded with its rule)."""
    import pytest

    from ledger.errors import NotPermitted
    from tests.conftest import NOW
    from tests.identity import enrol

    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        enrol(ledger, "Sam Staff", "staff")
        enrol(ledger, "Pat Page", "staff")
        with pytest.raises(NotPermitted, match="^ONE-DIRECTOR .*at most a year"):
            ledger.delegate_director(
                "Sam Staff", start=NOW, until=NOW + timedelta(days=400), authority="board",
                actor=DIRECTOR,
            )  # fmt: skip
        ledger.delegate_director(
            "Sam Staff", start=NOW, until=NOW + timedelta(days=7), authority="board",
            actor=DIRECTOR,
        )  # fmt: skip
        with pytest.raises(NotPermitted, match="^ONE-DIRECTOR .*one acting Director at a time"):
            ledger.delegate_director(
                "Pat Page", start=NOW, until=NOW + timedelta(days=3), authority="board",
                actor=DIRECTOR,
            )  # fmt: skip
        kinds = [e.kind for e in ledger.read_log()]
        assert kinds.count("AccessDenied") == 2 and kinds[-1] == "AccessDenied"
    finally:
        ledger.close()
