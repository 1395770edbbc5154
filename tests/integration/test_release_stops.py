"""The Director stops further releases on a request, and the register says what was
decided (red team, session 13): once anything had been released she could not deny the
request any more, so staff went on releasing fields after the emergency was over and its
follow-up closed; and a guardian's request that staff answered stayed "pending", basis
"none", in the register and on the home page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger import sitetime
from ledger.app import Ledger
from ledger.disclosure_intake import OrderScope
from ledger.disclosure_queries import SEALED_FOR_READER
from ledger.errors import InvalidInput, NotPermitted
from tests.integration.test_disclosure_ledger import (
    CARD,
    DIRECTOR,
    STAFF,
    open_request,
    record_emergency,
    record_order,
    refused,
    register,
)
from tests.integration.test_disclosure_ledger import ledger as ledger  # noqa: F401 (fixture)

OFFICER = dict(to="Sgt. Lee Officer", badge="4471", method="in person")


def _released_once(ledger: Ledger, now: datetime) -> str:  # noqa: F811
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    ledger.release(ref, fields=["name"], actor=STAFF, **OFFICER)
    return ref


def test_a_denial_after_a_release_stops_further_releases_and_the_first_stands(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    ref = _released_once(ledger, now)
    with pytest.raises(InvalidInput, match="cannot be approved again .* --deny"):
        ledger.decide(ref, approve=True, reason="again", actor=DIRECTOR)
    ledger.decide(ref, approve=False, reason="the danger is over", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^POLICY-DENY-BY-DEFAULT .*denied"):
        ledger.release(ref, fields=["address"], actor=STAFF, **OFFICER)
    assert refused(ledger)[-1] == ("request release", ref, "POLICY-DENY-BY-DEFAULT")
    view = ledger.request_view(ref)
    assert [r["fields"] for r in view["releases"]] == [["name"]]
    row = register(ledger)[ref]
    assert (row.decision, row.released_fields) == ("released, denied", ["name"])  # type: ignore[attr-defined]
    # Red team (session 14): the approval the release went out on stays in the register,
    # and the time to decide is the first decision's (20 minutes), not the denial's.
    assert row.decision_reason.startswith("the danger is over; released before on the decision of")  # type: ignore[attr-defined]
    assert row.decision_reason.endswith("UTC: emergency met")  # type: ignore[attr-defined]
    assert row.time_to_decision_s == 20 * 60  # type: ignore[attr-defined]
    assert ledger.request_view(ref)["decision"]["approved"] is False


def test_a_decision_made_again_keeps_the_one_it_replaced_in_sight(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team (session 17): a denial followed by an approval on the same documents read
    as one approval in the register, the compliance report and the request's record; only
    the history showed the denial."""
    from projections.request_record import request_sections

    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=False, reason="the form is defective", actor=DIRECTOR)
    ledger.clock.set(now + timedelta(minutes=50))
    ledger.decide(ref, approve=True, reason="approved", actor=DIRECTOR)
    row = register(ledger)[ref]
    assert row.decision == "approved"  # type: ignore[attr-defined]
    assert row.decision_reason.startswith("approved; denied before, ")  # type: ignore[attr-defined]
    assert row.decision_reason.endswith(f"UTC, by {DIRECTOR}: the form is defective")  # type: ignore[attr-defined]
    assert row.time_to_decision_s == 20 * 60  # type: ignore[attr-defined]  # the first's
    view = ledger.request_view(ref)
    assert [d["reason"] for d in view["earlier_decisions"]] == ["the form is defective"]
    _, sections = request_sections(view, ZoneInfo("UTC"))
    rows = [r for _, section in sections for r in section]
    assert [v for k, v in rows if k == "Decided before"] == [
        f"denied by {DIRECTOR}, {sitetime.show(now + timedelta(minutes=20), ZoneInfo('UTC'))}: "
        "the form is defective"
    ]


def test_nothing_more_is_released_once_the_follow_up_is_resolved(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    ref = _released_once(ledger, now)
    ledger.resolve_follow_up(ref, closed=True, reason="emergency over", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-FOLLOWUP .*was resolved \\(closed\\)"):
        ledger.release(ref, fields=["address", "phone"], actor=STAFF, **OFFICER)
    assert refused(ledger)[-1] == ("request release", ref, "LRCA-EMERGENCY-FOLLOWUP")
    assert [r["fields"] for r in ledger.request_view(ref)["releases"]] == [["name"]]


def test_a_guardians_answered_request_needs_no_decision_and_the_director_can_stop_it(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    ref = open_request(ledger, now, "parent_guardian", ["fines_fees"], patron_card=CARD,
                       minor=True, guardianship="birth certificate")  # fmt: skip
    assert (register(ledger)[ref].basis, register(ledger)[ref].decision) == ("none", "pending")  # type: ignore[attr-defined]
    ledger.release(ref, fields=["fines_total"], to="Someone", method="desk", actor=STAFF)
    row = register(ledger)[ref]
    assert (row.basis, row.decision) == ("guardian", "not needed")  # type: ignore[attr-defined]
    assert ledger.request_view(ref)["releases"][0]["basis"] == "guardian"
    # The Director may still stop it: nothing more is told after her denial.
    ledger.decide(ref, approve=False, reason="guardianship in dispute", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^POLICY-DENY-BY-DEFAULT"):
        ledger.release(ref, fields=["itemized_fines"], to="Someone", method="desk", actor=STAFF)
    row = register(ledger)[ref]
    assert row.decision == "released, denied"  # type: ignore[attr-defined]
    assert row.decision_reason.endswith("released before to a guardian with no decision needed")  # type: ignore[attr-defined]


def test_an_order_served_before_it_was_issued_is_a_refused_claim_and_recorded(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """IDENTITY.md says so; it was bad input and nothing was recorded (red team)."""
    ref = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    with pytest.raises(NotPermitted, match="^CLAIMED-TIMES .*served before it was issued"):
        ledger.record_court_order(
            ref, kind="order", signed_by_judge=True, court="Circuit Court", judge="Hon. J",
            case="2026-CF-9", issued=now - timedelta(days=1), served_at=now - timedelta(days=2),
            served_by="Det. Ray", scope=OrderScope(patron_cards=[CARD], records=["registration"]),
            document_name="o.pdf", document_sha256="d" * 64, actor=STAFF,
        )  # fmt: skip
    assert refused(ledger)[-1] == ("request court-order", ref, "CLAIMED-TIMES")


def test_a_release_whose_records_dates_end_before_they_begin_is_refused(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    ref = open_request(ledger, now, "court", ["circulation"], patron_card=CARD)
    record_order(ledger, ref, now, scope=OrderScope(
        patron_cards=[CARD], records=["circulation"], date_from=date(2026, 10, 1),
        date_to=date(2026, 10, 31),
    ))  # fmt: skip
    ledger.decide(ref, approve=True, reason="valid order", actor=DIRECTOR)
    with pytest.raises(InvalidInput, match="end \\(2026-10-01\\) before they begin"):
        ledger.release(ref, fields=["titles"], to="Det. Ray", method="sealed envelope",
                       period=(date(2026, 10, 31), date(2026, 10, 1)), actor=STAFF)  # fmt: skip
    assert not ledger.request_view(ref)["releases"]


def test_staff_neither_read_nor_change_a_patrons_details_through_a_request_of_their_own(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team (session 13, dashboard): staff typed a card number alone into a new
    request and read, on its page, the name and address an emergency request had recorded;
    a second request with another name changed the name the Director read on the first."""
    first = ledger.open_request(
        requester_kind="law_enforcement", requester="Ofc. Lee", received_by=DIRECTOR,
        records=["registration"], description="identify", actor=DIRECTOR, patron_card=CARD,
        patron_name="Alex Sample", patron_address="12 Elm St",
    )  # fmt: skip
    mine = open_request(ledger, now, "other", ["registration"], patron_card=CARD,
                        patron_name="Mallory Overwrite", patron_phone="217 555 0199")  # fmt: skip
    seen = ledger.read_request(mine, actor=STAFF)
    assert seen["patron"]["details"] == SEALED_FOR_READER
    directors = ledger.read_request(first, actor=DIRECTOR)["patron"]["details"]
    # the name and address stand; the phone the ledger lacked is added
    assert (directors["name"], directors["address"]) == ("Alex Sample", "12 Elm St")
    assert directors["phone"] == "217 555 0199"
    assert ledger.read_request(mine, actor=DIRECTOR)["patron"]["details"]["name"] == "Alex Sample"


def test_staff_release_a_court_orders_records_to_the_court_or_who_served_it_only(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team (session 13, dashboard): staff recorded a further release of the order's
    fields to a newspaper, by email, with no one else involved."""
    ref = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    record_order(ledger, ref, now)  # Circuit Court, served by "Det. Ray #42"
    ledger.decide(ref, approve=True, reason="valid order", actor=DIRECTOR)
    done = ledger.release(ref, fields=["name"], to="Circuit Court clerk", method="mail",
                          actor=STAFF)  # fmt: skip
    assert done["basis"] == "court_order"
    ledger.release(ref, fields=["name"], to="Det. Ray", method="in person",
                   actor=STAFF)  # fmt: skip
    with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES .*'Reporter, .*someone else"):
        ledger.release(ref, fields=["name"], to="Reporter, Mahomet Citizen newspaper",
                       method="email to tips@citizen.example", actor=STAFF)  # fmt: skip
    assert refused(ledger)[-1] == ("request release", ref, "POLICY-DIRECTOR-DECIDES")
    # Red team (session 17): the court's word first, the newspaper after a comma, passed.
    for someone_else in ("County, News-Gazette reporter", "Court; for the News-Gazette newsroom"):
        with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES .*someone else"):
            ledger.release(ref, fields=["name"], to=someone_else, method="email", actor=STAFF)
        assert refused(ledger)[-1] == ("request release", ref, "POLICY-DIRECTOR-DECIDES")
    # Every word of --to counts (the session's own review: asides let "copy to the
    # sheriff" through); how it was handed over goes in --method.
    for someone_else in ("Circuit Court clerk, copy to the sheriff", "Det. Ray, Mahomet PD",
                         "Circuit Court clerk; by certified mail"):  # fmt: skip
        with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES .*recipient only"):
            ledger.release(ref, fields=["name"], to=someone_else, method="mail", actor=STAFF)
    ledger.release(ref, fields=["name"], to="Attn: Circuit Court clerk", method="certified mail",
                   actor=STAFF)  # fmt: skip
    assert len(ledger.request_view(ref)["releases"]) == 3
