"""What verify-report --events compares for the one-event rows (ledger.report_proofs):
each field of a staff note, a viewing and a refusal against its one decrypted event.
The CLI tests (tests/cli/test_verify_report_cli.py) run these on a real ledger; the
scenario there has no staff note, so its check is exercised here on real event objects."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from ledger.footage import Segment
from ledger.refusals import Refusal
from ledger.report_proofs import row_check

AT = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def _viewed(**extra: object) -> Segment.FootageViewed:
    fields = dict(
        originator_id=uuid4(), originator_version=3, timestamp=AT, actor="Dana Director",
        actor_role="director", occurred_at=None, kind="view", reason="the guard's question",
        purpose="incident_review", remote=False, archived=True, at_seconds=None,
        copy_path=None, copy_until=None, staff_note="about a patron, not the guard",
    )  # fmt: skip
    fields.update(extra)
    return Segment.FootageViewed(**fields)  # type: ignore[arg-type]


def test_a_staff_note_row_is_compared_field_by_field() -> None:
    event = _viewed()
    row = {
        "name": "Dana Director", "at": "2026-11-03T15:00:00Z", "act": "view",
        "segment_id": "8cbf3e67d251", "stated": "incident_review: the guard's question",
        "note": "about a patron, not the guard",
    }  # fmt: skip
    assert row_check("staff_notes", row, [event]) is None
    for field, value in (("note", "edited"), ("act", "export"), ("name", "Bo"),
                         ("at", "2026-11-03T16:00:00Z"), ("stated", "x: y")):  # fmt: skip
        problem = row_check("staff_notes", {**row, field: value}, [event])
        assert problem is not None and problem.startswith(field), (field, problem)


def test_a_viewing_and_a_refusal_row_are_compared_field_by_field() -> None:
    viewing = {
        "name": "Dana Director", "role": "director", "viewed_at": "2026-11-03T15:00:00Z",
        "purpose": "incident_review", "reason": "the guard's question", "remote": False,
        "archived": True, "segment_id": "8cbf3e67d251",
    }  # fmt: skip
    assert row_check("viewings", viewing, [_viewed()]) is None
    assert "remote" in str(row_check("viewings", {**viewing, "remote": True}, [_viewed()]))
    denied = Refusal.AccessDenied(
        originator_id=uuid4(), originator_version=1, timestamp=AT, actor="Sam Staff",
        actor_role="staff", occurred_at=None, action="footage view", subject="8cbf3e67d251",
        rule_id="FOOTAGE-ARCHIVE-ACCESS", rule_source="V-B", message="refused", authenticated=True,
        originator_topic="ledger.refusals:Refusal",
    )  # fmt: skip
    refusal = {
        "at": "2026-11-03T15:00:00Z", "actor": "Sam Staff", "role": "staff",
        "action": "footage view", "rule_id": "FOOTAGE-ARCHIVE-ACCESS", "message": "refused",
    }  # fmt: skip
    assert row_check("refusals", refusal, [denied]) is None
    assert "rule_id" in str(row_check("refusals", {**refusal, "rule_id": "X"}, [denied]))
