"""A clock set ahead, and the Director's correction (R26), on both databases.

Red-team finding (session 14, left then): any member could record one act dated a year
ahead through the Python API (or a host's clock could jump), and every later act was
refused (``ClockBehind``) until real time caught up: the ledger frozen, with no way out.
Now the Director sets that time aside by an act of her own, which ``verify`` checks and
lists; nobody else can, and a correction that says anything else is damage."""

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
from ledger.errors import ClockBehind, InvalidInput, NotPermitted
from ledger.integrity import deep_checker, open_chain, verify_chain
from ledger.site import Site
from ledger.staff import CLOCK_CORRECTED
from tests.conftest import NOW
from tests.identity import DIRECTOR, enrol, open_test_ledger

STAFF = "Sam Staff"
AHEAD = NOW + timedelta(days=400)
LATER = NOW + timedelta(hours=1)


def _camera(ledger: Ledger, name: str, actor: str = DIRECTOR) -> None:
    ledger.register_camera(name, location="Hall", zone="public", signage_posted=True, actor=actor)


@pytest.fixture
def blocked(data_dir: Path) -> tuple[Ledger, int]:
    """A ledger whose last act a member recorded 400 days ahead (the Python API with a clock
    of her choosing); returns it opened at ``LATER``, and the entry that act ends at."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    enrol(ledger, STAFF, "staff")
    _camera(ledger, "c-1")
    ledger.close()
    ahead = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(AHEAD))
    try:  # staff may not add a camera: the refusal is her act, recorded 400 days ahead
        with pytest.raises(NotPermitted):
            _camera(ahead, "c-ahead", actor=STAFF)
        position = ahead.chain_head()[0]
    finally:
        ahead.close()
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER))
    yield ledger, position
    ledger.close()


def _verify(data_dir: Path, now, deep: Ledger | None = None):  # type: ignore[no-untyped-def]
    checker = deep_checker(deep.mapper, now=now) if deep else ActChecker(now=now)
    return verify_chain(open_chain(DataDir.open(data_dir)), acts=checker), checker


def test_a_clock_set_ahead_blocks_until_the_director_corrects_it(
    data_dir: Path, blocked: tuple[Ledger, int]
) -> None:
    ledger, position = blocked
    with pytest.raises(ClockBehind, match="custodes clock correct"):
        _camera(ledger, "c-2")
    state = ledger.clock_state()
    assert state.blocked and state.last == AHEAD
    assert state.ahead == [(position, AHEAD)] and state.from_position == position
    # before the correction, verify names the act recorded ahead, and attests what precedes it
    result, _ = _verify(data_dir, LATER)
    assert result.damage is not None and result.damage.kind == "clock"
    assert result.damage.position == position and "set ahead" in result.damage.detail
    reader = open_chain(DataDir.open(data_dir))
    assert result.count == position - 1
    assert result.head_hash == reader.entry(position=position - 1)[7]

    ledger.clock.advance(minutes=5)
    done = ledger.correct_clock(reason="front desk PC a year ahead", actor=DIRECTOR)
    assert (done.position, done.set_aside, done.acts) == (position + 1, AHEAD, 1)
    assert done.from_position == position
    assert not ledger.clock_state().blocked
    ledger.clock.advance(minutes=1)
    _camera(ledger, "c-2")  # acts are recorded again, timed by the real clock
    kinds = [e.kind for e in ledger.read_log()]
    assert kinds[-2:] == ["ClockCorrected", "CameraRegistered"]

    for deep in (None, ledger):
        result, checker = _verify(data_dir, LATER + timedelta(minutes=10), deep)
        assert result.ok, result.damage
        [c] = checker.corrections
        assert (c.position, c.by, c.set_aside, c.from_position, c.acts) == (
            position + 1, DIRECTOR, AHEAD, position, 1,
        )  # fmt: skip
        assert c.reason == "front desk PC a year ahead"


def test_only_the_director_corrects_and_only_a_blocked_ledger(
    data_dir: Path, blocked: tuple[Ledger, int]
) -> None:
    ledger, _ = blocked
    head = ledger.chain_head()
    with pytest.raises(
        NotPermitted,
        match="^RECORDED-TIME .*only director may .not recorded: .*ahead of this clock",
    ):
        ledger.correct_clock(reason="mine", actor=STAFF)
    assert ledger.chain_head() == head  # the ledger is blocked: not even the refusal
    with pytest.raises(InvalidInput, match="reason"):
        ledger.correct_clock(reason="  ", actor=DIRECTOR)
    with pytest.raises(InvalidInput, match="card number"):  # the reason is kept in clear
        ledger.correct_clock(reason="patron 21000123456789 saw it", actor=DIRECTOR)
    assert ledger.chain_head() == head
    ledger.correct_clock(reason="host clock", actor=DIRECTOR)
    head = ledger.chain_head()
    with pytest.raises(InvalidInput, match="nothing to set aside"):
        ledger.correct_clock(reason="again", actor=DIRECTOR)
    assert ledger.chain_head() == head


def test_an_acting_director_cannot_correct(data_dir: Path, blocked: tuple[Ledger, int]) -> None:
    ledger, _ = blocked
    ledger.correct_clock(reason="host clock", actor=DIRECTOR)
    ledger.clock.advance(minutes=1)
    ledger.delegate_director(
        STAFF, start=ledger.clock(), until=ledger.clock() + timedelta(days=7),
        authority="board minutes", actor=DIRECTOR,
    )  # fmt: skip
    ledger.clock.advance(minutes=1)
    head = ledger.chain_head()
    with pytest.raises(NotPermitted, match="^RECORDED-TIME .*acting Director"):
        ledger.correct_clock(reason="not blocked", actor=STAFF)
    assert ledger.chain_head()[0] == head[0] + 1  # the refusal, recorded (R23)
    # blocked again, by the Director's own clock this time
    ledger.clock.advance(days=30)
    _camera(ledger, "c-3")
    ledger.clock.advance(days=-30, minutes=5)
    # her clock reads before the last act: she acts as staff (the order decides), unrecorded
    with pytest.raises(NotPermitted, match="^RECORDED-TIME .*only director may .not recorded"):
        ledger.correct_clock(reason="mine", actor=STAFF)
    assert ledger.chain_head()[0] == head[0] + 2  # and the camera


def _forge(ledger: Ledger, actor: str, set_aside, *, extra: bool = False) -> None:  # type: ignore[no-untyped-def]
    """A correction made through the Python API around ``correct_clock``'s checks."""
    site = ledger.site()
    site.trigger_event(
        Site.ClockCorrected, set_aside=format_time(set_aside), from_position=2, acts=1,
        reason="forged", actor=actor, actor_role="staff", occurred_at=None,
        timestamp=ledger.clock(),
    )  # fmt: skip
    objs = [site]
    if extra:
        from uuid import uuid4

        from ledger.refusals import Refusal

        objs.append(
            Refusal._create(
                Refusal.AccessDenied, id=uuid4(), timestamp=ledger.clock(), actor=actor,
                actor_role="director", occurred_at=None, action="x", subject="y",
                rule_id="RECORDED-TIME", rule_source="z", message="m", authenticated=True,
            )
        )  # fmt: skip
    act = dataclasses.replace(ledger._act_for(objs), corrects=ledger.clock_state().last)
    ledger.save(*objs, act=act)


@pytest.mark.parametrize(
    ("actor", "wrong_time", "extra", "kind", "detail"),
    [
        (STAFF, False, False, "not permitted", "only the Director may"),
        (DIRECTOR, True, False, "clock", "but the act before it was recorded at"),
        (DIRECTOR, False, True, "not permitted", "an act of its own"),
    ],
)
def test_a_correction_that_says_anything_else_is_damage(
    data_dir: Path,
    blocked: tuple[Ledger, int],
    actor: str,
    wrong_time: bool,
    extra: bool,
    kind: str,
    detail: str,
) -> None:
    ledger, position = blocked
    _forge(ledger, actor, AHEAD - timedelta(days=1) if wrong_time else AHEAD, extra=extra)
    result, _ = _verify(data_dir, AHEAD + timedelta(days=1))  # the act ahead is no longer so
    assert result.damage is not None, "a forged correction verified"
    assert (result.damage.kind, result.damage.position) == (kind, position + 1)
    assert detail in result.damage.detail


def test_the_topic_is_the_sites_event() -> None:
    from eventsourcing.utils import get_topic

    assert get_topic(Site.ClockCorrected) == CLOCK_CORRECTED


def test_custodes_clock_show_correct_and_verify(
    data_dir: Path, blocked: tuple[Ledger, int]
) -> None:
    import json

    from cli.main import custodes
    from tests.identity import CustodesRunner

    ledger, position = blocked
    ledger.close()
    run = CustodesRunner()
    base = ["--data-dir", str(data_dir)]
    shown = run.invoke(custodes, [*base, "clock", "show"], obj=ManualClock(LATER))
    assert shown.exit_code == 1, shown.output
    assert "BLOCKED: 1 act(s)" in shown.output and f"entry {position}" in shown.output
    as_json = run.invoke(custodes, [*base, "clock", "show", "--json"], obj=ManualClock(LATER))
    assert json.loads(as_json.stdout)["ahead"][0]["position"] == position
    done = run.invoke(
        custodes, [*base, "clock", "correct", "--reason", "BIOS battery"], obj=ManualClock(LATER)
    )
    assert done.exit_code == 0, done.output
    assert f"Clock corrected at entry {position + 1}" in done.stderr
    shown = run.invoke(custodes, [*base, "clock", "show"], obj=ManualClock(LATER))
    assert shown.exit_code == 0 and "acts can be recorded" in shown.output
    verified = run.invoke(custodes, [*base, "verify"], obj=ManualClock(LATER))
    assert verified.exit_code == 0, verified.output
    assert f"clock corrected at entry {position + 1} by {DIRECTOR}" in verified.stdout
    assert "reason: BIOS battery" in verified.stdout
    logged = run.invoke(custodes, [*base, "log", "--json"], obj=ManualClock(LATER))
    [entry] = [e for e in json.loads(logged.stdout) if e["kind"] == "ClockCorrected"]
    assert entry["details"]["reason"] == "BIOS battery" and entry["actor"] == DIRECTOR
    logged = run.invoke(custodes, [*base, "log"], obj=ManualClock(LATER))
    assert "ClockCorrected" in logged.stdout
    # the quick status reads the site's events, this one stored in clear
    status = run.invoke(custodes, [*base, "status", "--json"], obj=ManualClock(LATER))
    assert json.loads(status.stdout)["library"] == "Test Library", status.output


def test_the_compliance_report_names_the_correction_and_verify_report_checks_it(
    data_dir: Path, blocked: tuple[Ledger, int], tmp_path: Path
) -> None:
    import json

    from cli.main import custodes
    from tests.identity import CustodesRunner

    ledger, position = blocked
    ledger.correct_clock(reason="BIOS battery", actor=DIRECTOR)
    ledger.close()
    run = CustodesRunner()
    base = ["--data-dir", str(data_dir)]
    out = tmp_path / "report.json"
    later = ManualClock(LATER + timedelta(minutes=5))
    made = run.invoke(
        custodes,
        [*base, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02",
         "--format", "json", "--out", str(out)],
        obj=later,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    report = json.loads(out.read_text())
    [item] = [a for a in report["attention"] if a["rule_id"] == "RECORDED-TIME"]
    assert f"from entry {position} on was recorded by a clock set ahead" in item["text"]
    assert "Reason given: BIOS battery" in item["text"]
    key = tmp_path / "library.pem"
    key.write_text(run.invoke(custodes, [*base, "keys", "export-public"], obj=later).stdout)
    check = [*base, "verify-report", str(out), "--key", str(key), "--events"]
    assert run.invoke(custodes, check, obj=later).exit_code == 0
    # the same item naming a correction at another time: its events say otherwise
    for a in report["attention"]:
        if a["rule_id"] == "RECORDED-TIME":
            a["subject_id"] = "clock correction 2026-11-03T00:00:00Z"
    for row in report["proofs"]["rows"]:
        if row["table"] == "attention" and row["ref"].startswith("RECORDED-TIME"):
            row["ref"] = "RECORDED-TIME clock correction 2026-11-03T00:00:00Z"
    out.write_text(json.dumps(report))
    check = [*base, "verify-report", str(out), "--key", str(key), "--events"]
    caught = run.invoke(custodes, check, obj=later)
    assert caught.exit_code == 3, caught.output
    assert "the events record no clock correction then" in caught.stderr
