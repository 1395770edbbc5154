"""A shipped profile's name on a policy version is a claim about its text and parameters
(R28; red-team finding: `init --retention-days 1` was recorded as the board-approved
30-day profile, and `policy adopt --profile` accepted other parameters under its name)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted
from ledger.policy_params import profile_files
from tests.conftest import NOW, SETUP
from tests.identity import DIRECTOR, open_test_ledger

TODAY = date(2026, 11, 2)  # NOW's site day (America/Chicago)


def test_a_profile_name_with_other_parameters_is_refused_and_recorded(data_dir: Path) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        text, params = profile_files("mahomet-30-day")
        changed = params.replace("retention_days = 30", "retention_days = 1")
        assert changed != params
        # the text must say so too (ledger.policy_text): the profile's words, other numbers
        with pytest.raises(NotPermitted, match="^POLICY-ADOPTION .*the text says 30 days"):
            ledger.adopt_policy(
                text=text, params_toml=changed, approved_by="Board of Trustees",
                approval_ref="minutes", effective=TODAY, actor=DIRECTOR,
            )  # fmt: skip
        assert [e.kind for e in ledger.read_log()][-1] == "AccessDenied"
        text = text.replace("for thirty days", "for one day")
        with pytest.raises(NotPermitted, match="not those of the shipped profile mahomet-30-day"):
            ledger.adopt_policy(
                text=text, params_toml=changed, approved_by="Board of Trustees",
                approval_ref="minutes", effective=TODAY, actor=DIRECTOR,
                profile="mahomet-30-day",
            )  # fmt: skip
        assert [e.kind for e in ledger.read_log()][-1] == "AccessDenied"
        assert ledger.policy_in_force().version == 1  # nothing adopted
        # Without the name, the library's own version is adopted as what it is.
        adopted = ledger.adopt_policy(
            text=text, params_toml=changed, approved_by="Board of Trustees",
            approval_ref="minutes", effective=TODAY, actor=DIRECTOR,
        )  # fmt: skip
        assert adopted.version == 2 and adopted.params.retention_days == 1
    finally:
        ledger.close()


def test_init_with_other_retention_days_does_not_claim_the_profile_or_the_board(
    tmp_path: Path,
) -> None:
    from ledger.app import open_ledger

    dd = DataDir.create(tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger = open_ledger(dd, clock=ManualClock(SETUP))
    try:
        ledger.initialise(
            director=DIRECTOR, library="L", timezone="America/Chicago", retention_days=1
        )
        version = ledger.policy_in_force()
        assert version is not None and version.params.retention_days == 1
        assert version.profile == ""
        assert version.approved_by == f"{DIRECTOR} (Director, at initialisation)"
        assert "instead of 30" in version.approval_ref
    finally:
        ledger.close()
