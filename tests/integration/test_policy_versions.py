"""Adopted policy versions (R28, issue 15) through the API, on SQLite and PostgreSQL:
adoption round trip, decisions citing the version in force, a shorter retention applying
only to footage captured after it took effect, and verify --deep catching a forged
citation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import create_engine, inspect, text

from capture.ingest import ingest_paths
from ledger.app import Ledger, open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import InvalidInput, NotPermitted
from ledger.integrity import deep_checker, open_chain, verify_chain
from ledger.policy_params import profile_files
from ledger.retention_commands import PurgeBlocked
from tests.chain_rewrite import rechain_from
from tests.conftest import NOW
from tests.identity import DIRECTOR, open_test_ledger
from tests.integration.footage_helpers import CAMERA, REC, STAFF, clip, footage_ledger

SEVEN = "riverbend-7-day"
TODAY = date(2026, 11, 2)  # NOW's site day (America/Chicago)


def _adopt(ledger: Ledger, profile: str = SEVEN, effective: date = TODAY, **kw: object):
    text_, params = profile_files(profile)
    return ledger.adopt_policy(
        text=text_,
        params_toml=params,
        approved_by="Board of Trustees",
        approval_ref="minutes 2026-11-01 item 7",
        effective=effective,
        actor=kw.pop("actor", DIRECTOR),  # type: ignore[arg-type]
        profile=profile,
        **kw,  # type: ignore[arg-type]
    )


def _deep(ledger: Ledger, data_dir: Path):  # type: ignore[no-untyped-def]
    return verify_chain(open_chain(DataDir.open(data_dir)), acts=deep_checker(ledger.mapper))


def _cited(ledger: Ledger, kind: str) -> list[tuple[int | None, str | None]]:
    return [
        (e.details.get("policy_version"), e.details.get("rule_id"))
        for e in ledger.read_log(kinds=[kind])
    ]


def test_adoption_round_trip(data_dir: Path) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    v1 = ledger.policy_in_force()
    assert v1 is not None and (v1.version, v1.params.retention_days) == (1, 30)
    assert v1.profile == "mahomet-30-day" and "thirty days" in v1.text

    v2 = _adopt(ledger, effective=TODAY + timedelta(days=1))
    ledger.close()

    again = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    assert [v.version for v in again.policy_history()] == [1, 2]
    stored = again.policy_version(2)
    assert stored == v2
    assert stored.params.retention_days == 7 and stored.approval_ref == "minutes 2026-11-01 item 7"
    assert len(stored.text_sha256) == 64 and stored.params_sha256 == stored.params.sha256()
    # in force from the start of 3 November, site time (06:00 UTC in CST)
    assert again.policy_in_force().version == 1  # type: ignore[union-attr]
    assert again.policy_in_force(stored.effective_at - timedelta(seconds=1)).version == 1  # type: ignore[union-attr]
    assert again.policy_in_force(stored.effective_at).version == 2  # type: ignore[union-attr]
    assert stored.effective_at.isoformat() == "2026-11-03T06:00:00+00:00"
    changed = dict((k, (a, b)) for k, a, b in again.policy_diff(1, 2).params)
    assert changed["footage.retention_days"] == (30, 7)
    assert changed["records.counsel_review_gates_release"] == (False, True)
    assert _deep(again, data_dir).ok


def test_a_version_for_a_later_date_is_superseded_only_when_named(data_dir: Path) -> None:
    """Red-team (low): a version adopted for a date far ahead (a mistyped year) blocked
    every nearer adoption until then. A nearer one now supersedes it when --supersedes
    names it: the first never takes effect; unnamed, the adoption is refused, recorded."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    _adopt(ledger, effective=TODAY + timedelta(days=300))  # meant: 30 days
    with pytest.raises(
        NotPermitted, match="POLICY-ADOPTION .*version 2 is to take effect .*--supersedes 2"
    ):
        _adopt(ledger, effective=TODAY + timedelta(days=30))
    assert _cited(ledger, "AccessDenied")[-1][1] == "POLICY-ADOPTION"
    with pytest.raises(InvalidInput, match="no such version is pending"):
        _adopt(ledger, effective=TODAY + timedelta(days=320), supersedes=[2])
    v3 = _adopt(ledger, effective=TODAY + timedelta(days=30), supersedes=[2])
    assert v3.version == 3 and ledger.policies().timeline.superseded == {2: 3}
    far = ledger.policy_version(2).effective_at
    assert ledger.policy_in_force(far).version == 3  # type: ignore[union-attr]
    assert ledger.policy_in_force(v3.effective_at - timedelta(seconds=1)).version == 1  # type: ignore[union-attr]
    ledger.clock.set(v3.effective_at + timedelta(minutes=1))  # an act under version 3
    ledger.register_camera(
        "lobby-2", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    assert _cited(ledger, "CameraRegistered")[-1][0] == 3
    assert _deep(ledger, data_dir).ok  # verify replays the same supersession


def test_decisions_under_v1_and_v2_each_cite_their_version(data_dir: Path) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    # v1 (Mahomet) has no camera rule against staff areas; v2 (Riverbend) refuses them.
    ledger.register_camera(
        "back-1", location="Workroom", zone="staff_area", signage_posted=True, actor=DIRECTOR
    )
    _adopt(ledger)
    ledger.clock.advance(timedelta(minutes=1))
    ledger.register_camera(
        "lobby-2", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    with pytest.raises(NotPermitted, match="CAMERA-PRIVACY-ZONE"):
        ledger.register_camera(
            "back-2", location="Workroom", zone="staff_area", signage_posted=True, actor=DIRECTOR
        )
    assert _cited(ledger, "CameraRegistered") == [
        (1, "CAMERA-PRIVACY-ZONE"),
        (2, "CAMERA-PRIVACY-ZONE"),
    ]
    assert _cited(ledger, "AccessDenied") == [(2, "CAMERA-PRIVACY-ZONE")]
    assert _deep(ledger, data_dir).ok


def test_a_shorter_retention_applies_only_to_footage_captured_after_it(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)  # clock: NOW; the clip before was recorded at REC
    adopted = _adopt(ledger)  # 7 days, in force from now (today's date)
    assert adopted.effective_at == NOW
    ledger.clock.set(NOW + timedelta(hours=2))
    early, late = clip(tmp_path / "in", 0), clip(tmp_path / "in", 1, start=NOW + timedelta(hours=1))
    summary = ingest_paths(ledger, [early, late], camera=CAMERA, actor=STAFF)
    first, second = (ledger.segment_info(o.segment_id or "") for o in summary.outcomes)
    assert first.recorded_start == REC < NOW < second.recorded_start
    captured = {
        e.details["segment_id"]: (e.details["retention_days"], e.details["retention_version"])
        for e in ledger.read_log(kinds=["FootageCaptured"])
    }
    assert captured == {first.segment_id: (30, 1), second.segment_id: (7, 2)}

    ledger.clock.set(NOW + timedelta(days=10))
    service = ledger.act_as_service()
    assert ledger.check_purge(second.segment_id, actor=service).segment_id == second.segment_id
    with pytest.raises(PurgeBlocked, match="FOOTAGE-RETENTION"):
        ledger.check_purge(first.segment_id, actor=service)


@pytest.mark.parametrize(("profile", "purged"), [(SEVEN, True), ("mahomet-30-day", False)])
def test_a_7_day_profile_purges_a_clip_the_30_day_one_keeps(
    tmp_path: Path, profile: str, purged: bool
) -> None:
    from capture.ingest import open_vault
    from capture.sweep import sweep
    from projections.registry import read_views
    from projections.retention import due_for_purge
    from tests.conftest import SETUP
    from tests.identity import passphrase

    dd = DataDir.create(tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger = open_ledger(dd, clock=ManualClock(SETUP))
    ledger.initialise(
        director=DIRECTOR,
        library="Test Library",
        timezone="America/Chicago",
        passphrase=passphrase(DIRECTOR).encode(),
        profile=profile,
    )
    ledger.close()
    ledger = footage_ledger(tmp_path / "data")
    ingest_paths(ledger, [clip(tmp_path / "in", 0)], camera=CAMERA, actor=STAFF)
    later = REC + timedelta(days=10)
    due = read_views(ledger, lambda conn: due_for_purge(conn, later))
    ledger.clock.set(later)
    result = sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    assert [o.status for o in result.outcomes] == (["purged"] if purged else [])
    assert len(list(ledger.read_log(kinds=["FootagePurged"]))) == int(purged)


def test_bad_adoptions_are_refused(data_dir: Path) -> None:
    from tests.identity import enrol

    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    enrol(ledger, STAFF, "staff")
    text_, params = profile_files(SEVEN)
    refusals = lambda: _cited(ledger, "AccessDenied")  # noqa: E731
    with pytest.raises(NotPermitted, match="POLICY-ADOPTION"):
        _adopt(ledger, actor=STAFF)
    with pytest.raises(NotPermitted, match="POLICY-ADOPTION.*in the past"):
        _adopt(ledger, effective=TODAY - timedelta(days=2))
    for line, rule in (
        ("audio_recording = false", "CAMERA-NO-AUDIO"),
        ('refused_camera_zones = ["restroom", "locker_room", "changing_room", "private_office", "staff_area"]', "CAMERA-PRIVACY-ZONE"),
        ('emergency_releasable_fields = ["name", "address", "phone", "card_number"]', "LRCA-EMERGENCY-SCOPE"),
        ("response_business_days = 5", "FOIA-CLOCK"),
    ):  # fmt: skip
        bad = params.replace(line, {
            "CAMERA-NO-AUDIO": "audio_recording = true",
            "CAMERA-PRIVACY-ZONE": 'refused_camera_zones = ["private_office"]',
            "LRCA-EMERGENCY-SCOPE": 'emergency_releasable_fields = ["name", "titles"]',
            "FOIA-CLOCK": "response_business_days = 10",
        }[rule])  # fmt: skip
        assert bad != params
        with pytest.raises(NotPermitted, match=rule):
            ledger.adopt_policy(text=text_, params_toml=bad, approved_by="Board",
                                approval_ref="x", effective=TODAY, actor=DIRECTOR)  # fmt: skip
    assert [r for _, r in refusals()] == [
        "POLICY-ADOPTION", "POLICY-ADOPTION", "CAMERA-NO-AUDIO", "CAMERA-PRIVACY-ZONE",
        "LRCA-EMERGENCY-SCOPE", "FOIA-CLOCK",
    ]  # fmt: skip
    # A file that does not fit the schema, and a text that is not the approved one: each
    # refused naming the key (or rule), the refusal recorded, nothing adopted (issue 15).
    before = len(refusals())
    for bad, key in (
        (params + "\n[extra]\nx = 1\n", "'extra'"),
        (params.replace("retention_days = 7", "retention_days = \"7\""), "footage.retention_days must be a whole number"),
        (params.replace("retention_days = 7", "retention_days = 0"), "footage.retention_days = 0 is outside 1..3650"),
        (params.replace("flag_max_days = 90", "flag_max_days = 90\nflag_days = 3"), "unknown key footage.flag_days"),
        (params.replace("small_cell_threshold = 10", ""), "statistics.small_cell_threshold is missing"),
        ("[footage\n", "not valid TOML"),
    ):  # fmt: skip
        with pytest.raises(NotPermitted, match="POLICY-PARAMETERS.*" + key.replace(".", r"\.")):
            ledger.adopt_policy(text=text_, params_toml=bad, approved_by="Board",
                                approval_ref="x", effective=TODAY, actor=DIRECTOR)  # fmt: skip
    with pytest.raises(NotPermitted, match="POLICY-ADOPTION.*not the approved text"):
        _adopt(ledger, expect_text_sha256="0" * 64)
    with pytest.raises(InvalidInput, match="is not a SHA-256"):
        _adopt(ledger, expect_text_sha256="abc")  # not a hash at all: a usage error
    entries = list(ledger.read_log(kinds=["AccessDenied"]))[before:]
    denied = [e.details for e in entries]
    assert [d["rule_id"] for d in denied] == ["POLICY-PARAMETERS"] * 6 + ["POLICY-ADOPTION"]
    assert "footage.retention_days" in denied[1]["message"]
    assert all(e.actor == DIRECTOR and e.details["policy_version"] == 1 for e in entries)
    assert [v.version for v in ledger.policy_history()] == [1]  # nothing adopted


def _forge_citation(ledger: Ledger, data_dir: Path, kind: str, version: int) -> int:
    """Rewrite one event's cited version, re-encrypt it and re-chain and re-sign from it
    (an insider holding every key); returns its position."""
    [entry] = [e for e in ledger.read_log(kinds=[kind])][:1]
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT originator_id, originator_version, topic, state FROM ledger_events "
                 "WHERE id = :i"), {"i": entry.notification_id},
        ).one()  # fmt: skip
        raw = row[0]
        oid = raw if isinstance(raw, UUID) else UUID(bytes=bytes(raw))
        event = ledger.mapper.to_domain_event(StoredEvent(oid, row[1], row[2], bytes(row[3])))
        event.__dict__["policy_version"] = version
        state = ledger.mapper.to_stored_event(event).state
        conn.execute(
            text("UPDATE ledger_events SET state = :s WHERE id = :i"),
            {"s": state, "i": entry.notification_id},
        )
    engine.dispose()
    rechain_from(data_dir, entry.notification_id)
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:  # the insider rebuilds the tree's cache too
        for table in ("ledger_events_tree_nodes", "ledger_events_tree"):
            if inspect(conn).has_table(table):
                conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    return entry.notification_id


@pytest.mark.parametrize(
    ("version", "says"),
    [(1, "cites policy version 1, but version 2 was in force"), (3, "never adopted")],
)
def test_verify_catches_a_forged_citation(data_dir: Path, version: int, says: str) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    _adopt(ledger)
    ledger.clock.advance(timedelta(minutes=1))
    ledger.register_camera(
        "lobby-2", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    assert _deep(ledger, data_dir).ok
    position = _forge_citation(ledger, data_dir, "CameraRegistered", version)
    plain = verify_chain(open_chain(DataDir.open(data_dir)))
    assert plain.ok  # a consistent rewrite by the keys' holders: only the content tells
    result = _deep(ledger, data_dir)
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (position, "policy")
    assert says in result.damage.detail


def test_the_compliance_report_states_the_versions_in_force_and_adoptions(
    data_dir: Path, tmp_path: Path
) -> None:
    from projections.compliance import compile_compliance_report
    from projections.render_html import render_html

    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    _adopt(ledger, effective=TODAY + timedelta(days=1))
    with pytest.raises(NotPermitted):
        _adopt(ledger, effective=TODAY - timedelta(days=5))  # a refusal in the period
    ledger.clock.set(NOW + timedelta(days=3))
    assert ledger.datadir is not None
    report, _note = compile_compliance_report(
        ledger, period_from=date(2026, 11, 1), period_to=date(2026, 11, 4), actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    older, _ = compile_compliance_report(
        ledger, period_from=date(2026, 10, 1), period_to=date(2026, 10, 31), actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    ledger.close()
    rows = [(v.version, v.in_force_in_period, v.adopted_in_period) for v in report.policy.versions]
    assert rows == [(1, True, False), (2, True, True)]
    assert [(v.version, v.approval_ref) for v in older.policy.versions] == [
        (1, "initial policy: Custodes profile mahomet-30-day")
    ]
    assert [c.rule_id for c in report.policy.cited_rules] == ["POLICY-ADOPTION"]
    html = render_html(report)
    assert "Policy in force" in html and "minutes 2026-11-01 item 7" in html
    assert "7 days from the end of recording (policy version 2" in html
