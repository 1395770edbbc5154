"""A scan is the legal basis of the requests it was served for, on both databases (red
team, session 17): one court order's scan was recorded as an order naming patron A, as
one naming patron B and as a warrant in a 2019 case, each released; one officer's signed
Appendix 9 form was the basis of two requests about two patrons. Nothing is decided or
released while one order's scan reads two ways; an officer's form is refused on another
request."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ledger.app import Ledger
from ledger.disclosure_intake import OrderScope
from ledger.errors import NotPermitted
from tests.integration.test_disclosure_ledger import (
    CARD,
    DIRECTOR,
    STAFF,
    open_request,
    order_scan,
    record_emergency,
    record_order,
    refused,
    signed_form,
)
from tests.integration.test_disclosure_ledger import ledger as ledger  # noqa: F401 (fixture)

OTHER_CARD = "2100-099999"


def test_one_order_scan_is_one_order_whatever_request_it_is_recorded_on(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    first = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    record_order(ledger, first, now)  # the order naming CARD, case 2026-CF-9
    scan = order_scan(first)
    other = open_request(ledger, now, "court", ["registration"], patron_card=OTHER_CARD)
    for change in (
        {"scope": OrderScope(patron_cards=[OTHER_CARD], records=["registration"])},
        {"kind": "warrant"},
        {"case": "2019-CF-12"},
        {"issued": now - timedelta(days=400)},
    ):
        # Recorded as typed (a transcription can always be corrected), but nothing is
        # decided on either request while the one scan reads two ways.
        ledger.record_court_order(
            other, **{**_as_recorded(now), **change, "document_sha256": scan}, actor=STAFF
        )
        for ref, elsewhere in ((other, first), (first, other)):
            with pytest.raises(
                NotPermitted, match=f"^LRCA-COURT-ORDER .*recorded on {elsewhere} with another"
            ):
                ledger.decide(ref, approve=True, reason="the order", actor=DIRECTOR)
            assert refused(ledger)[-1] == ("request decide", ref, "LRCA-COURT-ORDER")
    # Corrected to read as it does on the first request: one order for two requests. It
    # names CARD only, so nothing of OTHER_CARD goes out, and the first is decided.
    ledger.record_court_order(other, **_as_recorded(now), document_sha256=scan, actor=STAFF)
    with pytest.raises(NotPermitted, match="LRCA-COURT-ORDER-SCOPE"):
        ledger.decide(other, approve=True, reason="the order", actor=DIRECTOR)
    ledger.decide(first, approve=True, reason="the order", actor=DIRECTOR)
    # A transcription that goes wrong after the decision stops the release.
    ledger.record_court_order(
        other, **{**_as_recorded(now), "case": "2019-CF-12", "document_sha256": scan},
        actor=STAFF,
    )  # fmt: skip
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER .*with another case"):
        ledger.release(first, fields=["name"], to="Circuit Court clerk", method="mail",
                       actor=STAFF)  # fmt: skip
    assert not ledger.request_view(first)["releases"]


def test_the_same_typo_on_two_requests_can_be_corrected_on_both(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """The session's own review: a check when the order was recorded locked them out."""
    refs = [open_request(ledger, now, "court", ["registration"], patron_card=CARD) for _ in "ab"]
    scan = order_scan(refs[0])
    typo = {**_as_recorded(now), "case": "2026-CF-8", "document_sha256": scan}
    for ref in refs:
        ledger.record_court_order(ref, **typo, actor=STAFF)
    ledger.record_court_order(refs[0], **_as_recorded(now), document_sha256=scan, actor=STAFF)
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER .*another case"):
        ledger.decide(refs[0], approve=True, reason="the order", actor=DIRECTOR)
    ledger.record_court_order(refs[1], **_as_recorded(now), document_sha256=scan, actor=STAFF)
    for ref in refs:
        ledger.decide(ref, approve=True, reason="the order", actor=DIRECTOR)


def test_an_officers_signed_form_is_the_basis_of_its_own_request_only(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    first = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, first, now)
    other = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=OTHER_CARD)
    with pytest.raises(
        NotPermitted, match=f"^LRCA-EMERGENCY-FORM .*signed Appendix 9 form of {first}"
    ):
        ledger.record_emergency(
            other, officer_name="Lee Officer", officer_rank="Sergeant", badge_number="4471",
            agency="Mahomet PD", agency_phone="217-555-0100", id_examined=True,
            sworn_officer=True, court_order_impractical=True, imminent_danger=True,
            identification_purpose=True, role_sought="suspect",
            emergency_description="a threat at the desk", signed_form_sha256=signed_form(first),
            signed_form_name="appendix9-signed.pdf", actor=STAFF,
        )  # fmt: skip
    assert refused(ledger)[-1] == ("request emergency", other, "LRCA-EMERGENCY-FORM")
    assert ledger.request_view(other)["emergency"] is None
    record_emergency(ledger, other, now)  # its own form
    assert ledger.request_view(other)["emergency"]["signed_form_sha256"] == signed_form(other)


def _as_recorded(now: datetime) -> dict[str, object]:
    """The order ``record_order`` records, as its scan says."""
    return dict(
        kind="order", signed_by_judge=True, court="Circuit Court", judge="Hon. J",
        case="2026-CF-9", issued=now - timedelta(days=1), served_at=now,
        served_by="Det. Ray #42", scope=OrderScope(patron_cards=[CARD], records=["registration"]),
        document_name="o.pdf",
    )  # fmt: skip
