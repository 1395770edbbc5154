"""Retention status is one definition, consistent with the policy engine (R13, R14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.footage_policy import retention_deadline
from ledger.policy import Flag, Hold
from projections.retention import OVERDUE_AFTER, status_of

END = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DEADLINE = END + timedelta(days=30)


def status(now: datetime, **kw: object) -> str:
    facts: dict = dict(purged=False, active_holds=0, open_flags=0, keep_until=DEADLINE)
    facts.update(kw)
    return status_of(now=now, **facts)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # No live window (R16): a segment is archived footage from the start.
        (END + timedelta(seconds=1), "retained"),
        (DEADLINE - timedelta(seconds=1), "retained"),
        (DEADLINE, "due"),
        (DEADLINE + OVERDUE_AFTER - timedelta(seconds=1), "due"),
        (DEADLINE + OVERDUE_AFTER, "overdue"),
    ],
)
def test_an_unflagged_segment_moves_from_retained_to_overdue(now: datetime, expected: str) -> None:
    assert status(now) == expected


def test_a_purged_segment_is_purged_whatever_else_holds() -> None:
    assert status(DEADLINE, purged=True, active_holds=2, open_flags=1) == "purged"


def test_an_active_hold_wins_over_a_passed_deadline() -> None:
    assert status(DEADLINE + timedelta(days=90), active_holds=1) == "held"


def test_an_open_ended_flag_from_an_older_ledger_keeps_the_segment_flagged() -> None:
    assert status(DEADLINE + timedelta(days=365), open_flags=1, keep_until=None) == "flagged"


def test_a_flag_with_an_end_falls_due_when_it_ends() -> None:
    until = DEADLINE + timedelta(days=10)
    assert status(until - timedelta(seconds=1), open_flags=1, keep_until=until) == "flagged"
    assert status(until, open_flags=1, keep_until=until) == "due"


@pytest.mark.parametrize("days_after", [-5, 0, 3, 12, 40])
@pytest.mark.parametrize(
    ("flags", "holds"),
    [
        ((), ()),
        ((Flag("F-1", DEADLINE + timedelta(days=10)),), ()),
        ((Flag("F-1", None),), ()),
        ((), (Hold("H-1", "legal_hold"),)),
    ],
)
def test_due_for_purge_agrees_with_the_policy_engine(
    days_after: int, flags: tuple, holds: tuple
) -> None:
    now = DEADLINE + timedelta(days=days_after)
    policy = retention_deadline(END, 30, flags, holds, now)
    shown = status(
        now,
        open_flags=len(flags),
        active_holds=len(holds),
        keep_until=policy.keep_until,
    )
    assert (shown in ("due", "overdue")) == policy.due
