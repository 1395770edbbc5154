"""A refused form says once that nothing was recorded (session 18: a ledger message that
says so already was followed by "Nothing was recorded." again)."""

from __future__ import annotations

from ledger.errors import InvalidInput
from web.app import not_recorded


def test_nothing_was_recorded_is_said_once() -> None:
    said = InvalidInput("the scan's file name holds a card number; nothing was recorded")
    assert not_recorded(said) == "the scan's file name holds a card number; nothing was recorded."
    assert not_recorded(InvalidInput("the case is empty")) == (
        "the case is empty. Nothing was recorded."
    )
