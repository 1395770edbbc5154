"""Disclosure requests without a database: the Request aggregate's facts go through the
policy engine; one table row per rule (R2-R9, R20) with the decision and the rule cited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger import policy
from ledger.disclosure import Request, fields_for, request_id
from ledger.disclosure_commands import inventory_digest
from ledger.patrons import PatronDetails, normalise_card, pseudonym, seal, unseal

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
WHO = dict(actor="Dana Director", actor_role="director", occurred_at=None, timestamp=T0)
ALL_FOUR = dict(
    sworn_officer=True,
    court_order_impractical=True,
    imminent_danger=True,
    identification_purpose=True,
)


def opened(kind: str = "law_enforcement", records: tuple[str, ...] = ("registration",),
           **extra: Any) -> Request:  # fmt: skip
    values: dict[str, Any] = dict(
        ref="R-2026-0001",
        requester_kind=kind,
        requester="someone",
        received_by="Sam Staff",
        records=list(records),
        patron="p-0123456789abcdef",
        minor=False,
        guardianship=None,
        footage=[],
        case_number=None,
        description="a request",
    )
    values.update(extra)
    return Request._create(Request.RequestOpened, id=request_id("R-2026-0001"), **values, **WHO)


def emergency(request: Request, **reps: bool) -> Request:
    """The officer's signed Appendix 9, recorded as the ledger does: what an emergency
    request may not obtain is refused at intake."""
    refused = policy.emergency_intake_refusals(request.facts().fields, request.case_number)
    request.trigger_event(
        Request.EmergencyRequestRecorded,
        signed_form_sha256="f" * 64,
        signed_form_name="appendix9-signed.pdf",
        refused_at_intake=[
            {"field": f, "rule_id": d.rule.id, "reason": d.reason} for f, d in refused
        ],
        officer_name="Lee Officer",
        officer_rank="Sergeant",
        badge_number="4471",
        agency="Mahomet PD",
        agency_phone="",
        id_examined=True,
        role_sought="suspect",
        emergency_description="a threat",
        **{**ALL_FOUR, **reps},
        **WHO,
    )
    return request


PATRON = "p-0123456789abcdef"  # the request's patron (``opened``)


def order(request: Request, *, kind: str = "order", signed: bool = True,
          review: str | None = "sufficient", records: tuple[str, ...] = ("registration",),
          fields: tuple[str, ...] = (), patrons: tuple[str, ...] = (PATRON,),
          dates: tuple[str | None, str | None] = (None, None),
          exclude: tuple[str, ...] = ()) -> Request:  # fmt: skip
    request.trigger_event(
        Request.CourtOrderRecorded,
        kind=kind,
        signed_by_judge=signed,
        court="Circuit Court",
        judge="Hon. Judge",
        case="2026-CF-1",
        issued=T0,
        served_at=T0,
        served_by="Det. Ray",
        scope="as the order reads",
        scope_records=list(records),
        scope_fields=list(fields),
        scope_patrons=list(patrons),
        scope_from=dates[0],
        scope_to=dates[1],
        exclude_records=[c for c in exclude if c in policy.PATRON_CLASSES | {"footage"}],
        exclude_fields=[f for f in exclude if f in policy.FIELD_CLASS],
        document_name="order.pdf",
        document_sha256="0" * 64,
        nondisclosure="",
        **WHO,
    )
    if review is not None:
        request.trigger_event(
            Request.CounselReviewRecorded, result=review, notes="", document_sha256="0" * 64, **WHO
        )
    return request


def plan_of(request: Request) -> policy.ReleasePlan:
    return policy.releasable_fields(request.facts())


def decision(make: Callable[[], Request], field: str) -> policy.Decision:
    d = plan_of(make()).decision(field)
    assert d is not None
    return d


def guardian(minor: bool = True, how: str | None = "birth certificate") -> Request:
    return opened("parent_guardian", ("fines_fees", "circulation"), minor=minor, guardianship=how)


BOTH = ("registration", "circulation")
ROWS = [
    # (requirement, request, field, allowed, rule id)
    ("R2", lambda: opened("other"), "name", False, "POLICY-DENY-BY-DEFAULT"),
    ("R10", lambda: opened("law_enforcement"), "name", False, "LRCA-EMERGENCY-FORM"),
    ("R4", guardian, "fines_total", True, "POLICY-MINOR-FINES"),
    ("R4", guardian, "itemized_fines", True, "POLICY-MINOR-FINES"),  # amounts, no titles
    ("R4", guardian, "titles", False, "POLICY-MINOR-FINES"),
    ("R4", lambda: guardian(minor=False), "fines_total", False, "POLICY-MINOR-FINES"),
    ("R4", lambda: guardian(how=None), "fines_total", False, "POLICY-MINOR-FINES"),
    ("R6", lambda: order(opened("court"), kind="subpoena", signed=False), "name", False,
     "LRCA-COURT-ORDER"),
    # Counsel's review is recorded, not a gate under this policy: the Director is (R6).
    ("R7", lambda: order(opened("court"), review=None), "name", True, "LRCA-COURT-ORDER-SCOPE"),
    ("R7", lambda: order(opened("court", BOTH)), "name", True, "LRCA-COURT-ORDER-SCOPE"),
    ("R7", lambda: order(opened("court", BOTH)), "titles", False, "LRCA-COURT-ORDER-SCOPE"),
    ("R7", lambda: order(opened("court", BOTH), records=BOTH, exclude=("circulation",)),
     "titles", False, "LRCA-COURT-ORDER-SCOPE"),
    ("R7", lambda: order(opened("court"), patrons=("p-someoneelse00000",)), "name", False,
     "LRCA-COURT-ORDER-SCOPE"),
    ("R7", lambda: order(opened("court", patron=None)), "name", False, "LRCA-COURT-ORDER-SCOPE"),
    ("R8", lambda: emergency(opened(), imminent_danger=False), "name", False,
     "LRCA-EMERGENCY-REPRESENTATIONS"),
    ("R9", lambda: emergency(opened()), "card_number", True, "LRCA-EMERGENCY-SCOPE"),
    ("R20", lambda: opened("public", ("circulation",)), "titles", False, "FOIA-7.5B"),
    ("R20", lambda: opened("public", ("registration",)), "name", False, "FOIA-7-1A"),
    ("R20", lambda: opened("public", ("footage",)), "footage", True, "FOIA-7-1C"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("requirement", "make", "field", "allowed", "rule_id"),
    ROWS,
    ids=[f"{r[0]}-{r[2]}-{r[4]}-{'allow' if r[3] else 'refuse'}" for r in ROWS],
)
def test_each_rule_decides_a_request_field(
    requirement: str, make: Callable[[], Request], field: str, allowed: bool, rule_id: str
) -> None:
    d = decision(make, field)
    assert (d.allowed, d.rule.id) == (allowed, rule_id)
    assert requirement in d.rule.requirements or requirement == "R2"


@pytest.mark.parametrize(
    "records, refused",
    [
        (("circulation",), {"titles", "holds", "circulation_history"}),
        (("other_patron",), {"computer_sessions", "program_signups", "reference_questions"}),
        (("fines_fees",), {"itemized_fines", "fines_total", "fees_total"}),
        (("registration",), {"registration_record"}),
    ],
)
def test_an_emergency_request_is_refused_at_intake_what_it_may_not_obtain(
    records: tuple[str, ...], refused: set[str]
) -> None:
    request = emergency(opened(records=records))
    at_intake = {r["field"]: r["rule_id"] for r in request.emergency["refused_at_intake"]}  # type: ignore[index]
    assert at_intake == dict.fromkeys(refused, "LRCA-EMERGENCY-SCOPE")
    plan = plan_of(request)
    assert not set(dict(plan.decisions)) & refused  # not decided again: refused already


def test_a_release_outside_the_orders_dates_is_refused() -> None:
    request = order(opened("court"), dates=("2026-10-01", "2026-10-31"))
    plan = plan_of(request)
    facts = request.facts()
    assert facts.court_order is not None
    inside = policy.check_release(
        plan, ["name"], order=facts.court_order, period=(date(2026, 10, 2), date(2026, 10, 30))
    )
    assert all(d.allowed for d in inside)
    outside = policy.check_release(
        plan, ["name"], order=facts.court_order, period=(date(2026, 9, 1), date(2026, 10, 30))
    )
    assert [d.rule.id for d in outside if not d.allowed] == ["LRCA-COURT-ORDER-SCOPE"]
    assert "(scope item: dates)" in outside[-1].reason


def test_only_the_director_decides_r3() -> None:
    for role in ("staff", "business_manager", "counsel"):
        d = policy.check_decider(role)
        assert (d.allowed, d.rule.id) == (False, "POLICY-DIRECTOR-DECIDES")
    assert policy.check_decider("director").allowed


def test_a_request_asks_for_every_field_of_its_record_classes() -> None:
    assert fields_for(["registration"]) == {
        "name", "address", "phone", "card_number", "registration_record"
    }  # fmt: skip
    assert "footage" in fields_for(["footage"])


def test_an_emergency_plan_allows_identifying_fields_only() -> None:
    plan = plan_of(emergency(opened(records=("registration", "circulation"))))
    assert plan.allowed_fields == policy.IDENTIFYING_FIELDS
    assert plan.basis == "emergency"


def test_a_field_scope_limits_the_order_to_those_fields() -> None:
    plan = plan_of(
        order(opened("court", ("registration",)), records=(), fields=("name", "address"))
    )
    assert plan.allowed_fields == {"name", "address"}


def test_a_release_and_acknowledgement_and_follow_up_are_recorded_on_the_request() -> None:
    request = emergency(opened())
    request.trigger_event(
        Request.DisclosureReleased, fields=["name"], footage=[], to="Lee",
        recipient_badge="4471", method="in person", period=None, basis="emergency",
        redacted=None, inventory_sha256="a" * 64, **WHO,
    )  # fmt: skip
    request.trigger_event(Request.FollowUpOpened, reason="emergency release", **WHO)
    request.trigger_event(Request.AcknowledgementRecorded, signed_receipt_sha256="b" * 64, **WHO)
    request.trigger_event(
        Request.FollowUpResolved, resolution="judicial_review_sought", court_order_request=None,
        reason="", **WHO,
    )  # fmt: skip
    assert request.released_fields == ["name"]
    assert request.acknowledgement is not None
    assert request.acknowledgement["signed_receipt_sha256"] == "b" * 64
    assert request.follow_up is not None
    assert request.follow_up["state"] == "resolved"
    assert request.follow_up["resolution"] == "judicial_review_sought"


def test_a_new_court_order_is_reviewed_afresh_and_counsel_gates_only_if_the_policy_says() -> None:
    request = order(opened("court"))
    order(request, review=None)
    assert request.counsel_review is None
    assert plan_of(request).allowed_fields  # this policy: the Director is the gate
    facts = request.facts()
    gated = replace(facts, court_order=replace(facts.court_order, counsel_gates_release=True))  # type: ignore[type-var]
    assert not policy.releasable_fields(gated).allowed_fields


def test_the_pseudonym_is_keyed_stable_and_ignores_card_formatting() -> None:
    key = b"k" * 32
    assert pseudonym(key, "2100-0123 45") == pseudonym(key, "2100012345")
    assert pseudonym(key, "2100012345") != pseudonym(b"j" * 32, "2100012345")
    assert pseudonym(key, "2100012345").startswith("p-")
    assert len(pseudonym(key, "2100012345")) == 18
    assert normalise_card(" ab-12 ") == "AB12"
    # the digits of any script are the card's digits (session 22): one card, one patron
    for typed in ("٢١٠٠-٠١٢٣٤٥", "२१००-०१२३४५", "２１００ ０１２３４５"):
        assert normalise_card(typed) == "2100012345"


def test_sealed_details_open_only_with_the_patrons_key_and_pseudonym() -> None:
    details = PatronDetails("2100012345", "Jane Patron", "1 Main St", "555-0100")
    sealed = seal(b"k" * 32, "p-1", details)
    assert "Jane" not in sealed and "2100012345" not in sealed
    assert unseal(b"k" * 32, "p-1", sealed) == details
    assert unseal(None, "p-1", sealed) is None  # key destroyed: erased
    assert unseal(b"j" * 32, "p-1", sealed) is None
    assert unseal(b"k" * 32, "p-2", sealed) is None  # bound to its pseudonym


def test_the_inventory_digest_changes_with_anything_released() -> None:
    base = inventory_digest("R-1", ["name"], [], "Lee", "in person")
    assert base == inventory_digest("R-1", ["name"], [], "Lee", "in person")
    assert base != inventory_digest("R-1", ["name", "phone"], [], "Lee", "in person")
    assert base != inventory_digest("R-1", ["name"], [], "Kim", "in person")


def test_the_inventory_digest_tells_blurred_footage_and_dates_apart() -> None:
    clip = [{"segment_id": "ab" * 6, "sha256": "c" * 64}]
    blurred = inventory_digest("R-1", [], clip, "Lee", "in person", redacted=True)
    plain = inventory_digest("R-1", [], clip, "Lee", "in person", redacted=False)
    assert blurred != plain
    dated = inventory_digest("R-1", ["name"], [], "Lee", "in person", period=["2026-01-01", "2026-02-01"])  # fmt: skip
    assert dated != inventory_digest("R-1", ["name"], [], "Lee", "in person")
    # a release of fields alone digests as it always did (earlier releases still match)
    doc = {"request": "R-1", "fields": ["name"], "footage": [], "to": "Lee", "method": "in person"}
    import hashlib
    import json

    assert (
        inventory_digest("R-1", ["name"], [], "Lee", "in person")
        == hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    )
