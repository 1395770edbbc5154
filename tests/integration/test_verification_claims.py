"""A recorded verification names a state the chain had (verify --deep), on both databases.

Review, session 14 (LOW, left then): any member could record "verified OK" through the
Python API for a head, a length or a count of acts the ledger never had; the dashboard's
integrity panel showed it and `verify --deep` passed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ledger.chain import VerifyResult
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import deep_checker, open_chain, verify_chain
from tests.conftest import NOW
from tests.identity import DIRECTOR, open_test_ledger


@pytest.mark.parametrize("lie", [None, "head", "entries", "acts", "ahead"])
def test_a_recorded_verification_must_name_the_chain_as_it_was(
    data_dir: Path, lie: str | None
) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        ledger.register_camera(
            "c-1", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        )
        real = verify_chain(open_chain(DataDir.open(data_dir)))
        assert real.ok
        ledger.clock.advance(minutes=1)  # someone else's act between the check and its record
        ledger.register_camera(
            "c-2", location="Annex", zone="public", signage_posted=True, actor=DIRECTOR
        )
        claimed = {
            None: real,
            "head": VerifyResult(real.count, bytes(32), None, real.acts),
            "entries": VerifyResult(real.count - 1, real.head_hash, None, real.acts),
            "acts": VerifyResult(real.count, real.head_hash, None, real.acts + 1),
            "ahead": VerifyResult(real.count + 50, real.head_hash, None, real.acts),
        }[lie]
        ledger.clock.advance(minutes=1)
        ledger.record_verification(claimed, deep=False, via="web", actor=DIRECTOR)
        position = ledger.chain_head()[0]
        result = verify_chain(
            open_chain(DataDir.open(data_dir)),
            acts=deep_checker(ledger.mapper, now=NOW + timedelta(hours=1)),
        )
    finally:
        ledger.close()
    if lie is None:
        assert result.ok, result.damage
        return
    assert result.damage is not None and result.damage.kind == "forged"
    assert result.damage.position == position
    assert "a recorded verification names" in result.damage.detail
