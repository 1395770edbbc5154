"""An emergency release goes to the officer of the signed form (R10), on both databases
(red-team finding: only the badge was compared, so anyone who gave the officer's badge
number received the fields)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ledger.app import Ledger
from ledger.errors import NotPermitted
from tests.integration.test_disclosure_ledger import (
    CARD,
    DIRECTOR,
    STAFF,
    open_request,
    record_emergency,
    refused,
)
from tests.integration.test_disclosure_ledger import ledger as ledger  # noqa: F401 (fixture)


def test_an_emergency_release_to_someone_else_with_the_badge_is_refused_and_recorded(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)  # the form of Sergeant Lee Officer, badge 4471
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-RECIPIENT .*does not name them"):
        ledger.release(ref, fields=["name"], to="Ofc. Someone Else", badge="4471",
                       method="in person", actor=STAFF)  # fmt: skip
    assert refused(ledger)[-1] == ("request release", ref, "LRCA-EMERGENCY-RECIPIENT")
    # The officer, however the rank is written, is the recipient.
    done = ledger.release(ref, fields=["name"], to="Sgt. Lee Officer", badge="4471",
                          method="in person", actor=STAFF)  # fmt: skip
    assert done["to"] == "Sgt. Lee Officer"
