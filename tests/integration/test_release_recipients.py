"""An emergency release goes to the officer of the signed form (R10), on both databases
(red-team finding: only the badge was compared, so anyone who gave the officer's badge
number received the fields); and a release goes out only on the documents the Director
decided on (red-team H2: a court order recorded after an emergency decision turned it
into a release to anyone, by any method)."""

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
    record_order,
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
    # Red-team (session 13): one word of the officer's name was enough.
    # Red team (session 17): only the name before the first comma was read.
    for someone_else in ("Bruce Lee", "Lee's brother", "Ofc. Ray, for Sgt. Lee Officer",
                         "Lee Officer, with Bob Smith of the News-Gazette",
                         "Sgt. Lee Officer; News-Gazette", "Lee Officer, for the court clerk",
                         "Lee Officer, copy to the county sheriff", "Lee Officer's partner"):  # fmt: skip
        with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-RECIPIENT .*and only them"):
            ledger.release(ref, fields=["name"], to=someone_else, badge="4471",
                           method="in person", actor=STAFF)  # fmt: skip
        assert refused(ledger)[-1] == ("request release", ref, "LRCA-EMERGENCY-RECIPIENT")
    # The officer, however the rank is written, is the recipient.
    done = ledger.release(ref, fields=["name"], to="Sgt. Lee Officer", badge="4471",
                          method="in person", actor=STAFF)  # fmt: skip
    assert done["to"] == "Sgt. Lee Officer"


def test_a_court_order_recorded_after_the_decision_waits_for_a_new_decision(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    record_order(ledger, ref, now + timedelta(minutes=30))  # staff, after the decision
    with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES .*after the Director decided"):
        ledger.release(ref, fields=["name"], to="Anyone At All", method="email", actor=STAFF)
    assert refused(ledger)[-1] == ("request release", ref, "POLICY-DIRECTOR-DECIDES")
    view = ledger.request_view(ref)
    assert not view["decision_current"] and not view["releases"]
    # The Director decides again on the order now before her; the release follows it.
    ledger.decide(ref, approve=True, reason="the order now governs", actor=DIRECTOR)
    assert ledger.request_view(ref)["decision_current"]
    done = ledger.release(ref, fields=["name"], to="Circuit Court clerk", method="mail",
                          actor=DIRECTOR)  # fmt: skip
    assert done["basis"] == "court_order"


def test_the_acting_director_decides_and_releases_citing_her_delegation(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """A delegation made its holder acting Director for the Director-only commands but not
    for a decision, which any member may attempt and the policy gives to the Director: the
    acting Director was refused the one act a delegation is for (R3)."""
    delegation = ledger.delegate_director(
        STAFF, start=now, until=now + timedelta(days=2), authority="board minutes item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    decided = ledger.decide(ref, approve=True, reason="emergency met", actor=STAFF)
    assert decided["by"] == STAFF
    event = list(ledger.read_log(kinds=["DisclosureDecided"]))[-1]
    assert (event.actor, event.actor_role) == (STAFF, "director")
    assert ledger.release(ref, fields=["name"], to="Sgt. Lee Officer", badge="4471",
                          method="in person", actor=STAFF)["basis"] == "emergency"  # fmt: skip
    ledger.clock.set(now + timedelta(days=2, minutes=1))  # it ends by itself
    other = open_request(ledger, ledger.clock(), "law_enforcement", ["registration"],
                         patron_card=CARD)  # fmt: skip
    record_emergency(ledger, other, ledger.clock())
    with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES"):
        ledger.decide(other, approve=True, reason="emergency met", actor=STAFF)
    assert delegation.startswith("D-")
