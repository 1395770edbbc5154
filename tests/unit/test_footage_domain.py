"""Segment aggregates carry their own flags and holds, so a purge decision needs no other
aggregate (R13, R14). No database: aggregates only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.footage import Segment, segment_aggregate_id, short_id
from ledger.footage_policy import check_purge

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SHA = "ab" * 32
WHO = dict(actor="Dana Director", actor_role="director", occurred_at=None)


def _segment() -> Segment:
    end = NOW - timedelta(days=40)
    return Segment._create(
        Segment.FootageCaptured,
        id=segment_aggregate_id(short_id(SHA)),
        timestamp=NOW,
        segment_id=short_id(SHA),
        sha256=SHA,
        size=10,
        camera_id="lobby-1",
        recorded_start=end - timedelta(minutes=30),
        recorded_end=end,
        retention_days=30,
        retention_deadline=end + timedelta(days=30),
        media={},
        source_name="x.mp4",
        **WHO,
    )


def test_a_segment_id_is_the_first_twelve_hex_digits_of_its_hash() -> None:
    assert short_id(SHA) == "abababababab"
    assert segment_aggregate_id("ABABABABABAB") == segment_aggregate_id("abababababab")


def test_a_hold_blocks_purge_until_it_is_lifted() -> None:
    seg = _segment()
    allowed = check_purge(seg.recorded_end, 30, seg.policy_flags(), seg.policy_holds(), NOW)
    assert allowed.allowed
    seg.trigger_event(Segment.HoldApplied, hold_id="H-1", kind="legal", timestamp=NOW, **WHO)
    blocked = check_purge(seg.recorded_end, 30, seg.policy_flags(), seg.policy_holds(), NOW)
    assert blocked.message() == (
        "FOOTAGE-HOLD-BLOCKS-PURGE (Policy V-B; 50 ILCS 205): an active hold blocks purge: H-1"
    )
    seg.trigger_event(Segment.HoldLifted, hold_id="H-1", timestamp=NOW, **WHO)
    assert seg.holds == {}
    assert [type(e).__name__ for e in seg.collect_events()] == [
        "FootageCaptured",
        "HoldApplied",
        "HoldLifted",
    ]


def test_an_open_ended_flag_keeps_footage_until_cleared() -> None:
    # New flags always end (R13); an older ledger's flag without an end still holds.
    seg = _segment()
    seg.trigger_event(
        Segment.FootageFlagged,
        flag_id="F-1",
        reason="theft",
        retain_until=None,
        incident="",
        staff_note=None,
        timestamp=NOW,
        **WHO,
    )
    decision = check_purge(seg.recorded_end, 30, seg.policy_flags(), seg.policy_holds(), NOW)
    assert decision.reason == "flagged footage is kept until the flag is cleared"
    seg.trigger_event(Segment.FlagCleared, flag_id="F-1", reason="no theft", timestamp=NOW, **WHO)
    assert check_purge(seg.recorded_end, 30, seg.policy_flags(), seg.policy_holds(), NOW).allowed
