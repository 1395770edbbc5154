"""Red team, session 15, on this session's own changes (both databases): each test
reproduces a finding and fails on the code before its fix."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.act_check import ActChecker
from ledger.acts import format_time
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.domain import Actor
from ledger.errors import InvalidInput, NotPermitted
from ledger.integrity import LedgerTampered, issue_checkpoint, open_chain, verify_chain
from ledger.site import Site
from ledger.staff import StaffMember
from tests.conftest import NOW
from tests.identity import DIRECTOR, enrol, open_test_ledger, passphrase, session
from tests.integration.test_session_keys import _signed

STAFF = "Sam Staff"
AHEAD = NOW + timedelta(days=365)
LATER = NOW + timedelta(hours=1)


def _verify(data_dir: Path, now):  # type: ignore[no-untyped-def]
    return verify_chain(open_chain(DataDir.open(data_dir)), acts=ActChecker(now=now))


def _ledger(data_dir: Path, when) -> Ledger:  # type: ignore[no-untyped-def]
    return open_test_ledger(DataDir.open(data_dir), clock=ManualClock(when))


def test_a_session_opened_by_a_clock_set_ahead_ends_at_the_correction(data_dir: Path) -> None:
    """HIGH: a session vouched with the terminal's clock a year ahead stayed valid for a
    year after the Director's correction (and after a passphrase change)."""
    led = _ledger(data_dir, NOW)
    enrol(led, STAFF, "staff")
    led.close()
    ahead = _ledger(data_dir, AHEAD)
    stolen = session(ahead, STAFF, minutes=480)
    ahead.close()
    led = _ledger(data_dir, LATER)
    try:
        led.correct_clock(reason="terminal a year ahead", actor=DIRECTOR)
        led.clock.advance(days=30)
        led.forget_unlocked()
        with pytest.raises(NotPermitted, match="session key that has ended"):
            led.unlock_with(stolen)  # vouched "in 2027": not a session of this clock
        _signed(led, stolen)  # around the application: the recorder takes it
    finally:
        led.close()
    result = _verify(data_dir, LATER + timedelta(days=31))
    assert result.damage is not None and result.damage.kind == "expired key"


def test_a_passphrase_change_ends_a_session_by_order_not_by_time(data_dir: Path) -> None:
    """LOW: terminal A's clock 90 s fast vouched a session; the change recorded 60 s
    'earlier' by B's clock left it in force."""
    led = _ledger(data_dir, NOW)
    try:
        enrol(led, STAFF, "staff")
        led.clock.set(NOW + timedelta(seconds=90))
        vouched = session(led, STAFF)
        led.clock.set(NOW + timedelta(seconds=30))  # within the clocks' tolerance
        led.change_passphrase(actor=STAFF, current=passphrase(STAFF).encode(),
                              new=b"a brand new passphrase 2026")  # fmt: skip
        led.clock.set(NOW + timedelta(seconds=100))
        led.forget_unlocked()
        with pytest.raises(NotPermitted, match="session key that has ended"):
            led.unlock_with(vouched)
    finally:
        led.close()


@pytest.fixture
def blocked(data_dir: Path) -> Ledger:
    led = _ledger(data_dir, NOW)
    enrol(led, STAFF, "staff")
    led.close()
    ahead = _ledger(data_dir, AHEAD)
    with pytest.raises(NotPermitted):
        ahead.register_camera("x", location="x", zone="public", signage_posted=True, actor=STAFF)
    ahead.close()
    led = _ledger(data_dir, LATER)
    yield led
    led.close()


def test_a_checkpoint_is_not_signed_over_an_act_recorded_ahead(
    data_dir: Path, blocked: Ledger
) -> None:
    """MEDIUM: `custodes checkpoint` (and the dashboard's Verify) signed a chain that
    `custodes verify` called damaged: they checked acts with no clock."""
    with pytest.raises(LedgerTampered, match="clock"):
        issue_checkpoint(
            open_chain(DataDir.open(data_dir)), origin="custodes/test",
            signing_key=DataDir.open(data_dir).signing_key(None), now=LATER,
        )  # fmt: skip


def _correction(led: Ledger, *, set_aside, from_position: int, acts: int, latest: str = "") -> None:  # type: ignore[no-untyped-def]
    site = led.site()
    site.trigger_event(
        Site.ClockCorrected, set_aside=format_time(set_aside), from_position=from_position,
        acts=acts, reason="forged", actor=DIRECTOR, actor_role="director", occurred_at=None,
        timestamp=led.clock(), latest=latest,
    )  # fmt: skip
    act = dataclasses.replace(led._act_for([site]), corrects=led.clock_state().last or set_aside)
    led.save(site, act=act)


def test_a_correction_must_tell_the_truth_about_what_it_sets_aside(
    data_dir: Path, blocked: Ledger
) -> None:
    """MEDIUM: a correction's entry and count were listed as written, and one timed before
    the acts it kept could backdate everything after it."""
    position = blocked.chain_head()[0]
    _correction(blocked, set_aside=AHEAD, from_position=position - 2, acts=3)  # lies
    result = _verify(data_dir, AHEAD + timedelta(days=1))  # the act ahead no longer is
    assert result.damage is not None and result.damage.kind == "forged"
    assert "the chain holds" in result.damage.detail


def test_a_correction_must_tell_the_truth_about_the_latest_act_it_sets_aside(
    data_dir: Path, blocked: Ledger
) -> None:
    """Since session 19 a correction records the latest time among the acts it sets aside
    (verify-report bounds a purge set aside by it); a false one is found."""
    position = blocked.chain_head()[0]
    _correction(blocked, set_aside=AHEAD, from_position=position, acts=1,
                latest=format_time(AHEAD + timedelta(days=3)))  # fmt: skip
    result = _verify(data_dir, AHEAD + timedelta(days=1))
    assert result.damage is not None and result.damage.kind == "forged"
    assert "the latest there was recorded at" in result.damage.detail


def test_a_correction_cannot_reach_back_before_the_acts_it_keeps(
    data_dir: Path, blocked: Ledger
) -> None:
    position = blocked.chain_head()[0]
    blocked.clock.set(NOW - timedelta(days=730))  # her clock set back two years
    with pytest.raises(InvalidInput, match="this host's clock is wrong"):
        blocked.correct_clock(reason="rewind", actor=DIRECTOR)  # every act reads as ahead
    _correction(blocked, set_aside=AHEAD, from_position=position, acts=1)
    result = _verify(data_dir, AHEAD + timedelta(days=1))
    assert result.damage is not None and result.damage.kind == "clock"
    assert "before the act it keeps" in result.damage.detail


def test_a_revoked_key_is_never_enrolled_again(data_dir: Path) -> None:
    """From reading the verifier: a key id already known could be enrolled again."""
    from ledger.identity import _enrol

    led = _ledger(data_dir, NOW)
    try:
        enrol(led, STAFF, "staff")
        member = led._get(StaffMember, led.member(STAFF).id)
        old_key = led._keyring[member.id].private_key
        led.clock.advance(minutes=1)
        led.reset_staff(STAFF, actor=DIRECTOR, reason="lost", passphrase=b"another passphrase 2026")
        member = led._get(StaffMember, member.id)
        led.clock.advance(minutes=1)
        member.trigger_event(StaffMember.KeyRevoked, key_id=member.key_id, cause="reset",
                             actor=DIRECTOR, actor_role="director", occurred_at=None,
                             timestamp=led.clock())  # fmt: skip
        _enrol(member, old_key, "reset", Actor(DIRECTOR, "director"), led.clock())
        led.save(member)
    finally:
        led.close()
    result = _verify(data_dir, NOW + timedelta(days=1))
    assert result.damage is not None and result.damage.kind == "forged"
    assert "enrolled twice" in result.damage.detail
