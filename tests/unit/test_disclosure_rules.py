"""Disclosure requests without a database: the Request aggregate's facts go through the
policy engine; one table row per rule (R2-R9, R20) with the decision and the rule cited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger import policy
from ledger.disclosure import Request, fields_for, request_id
from ledger.disclosure_commands import inventory_digest, parse_scope
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
    request.trigger_event(
        Request.EmergencyRequestRecorded,
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


def order(request: Request, *, kind: str = "order", signed: bool = True,
          review: str | None = "sufficient", scope: str = "registration") -> Request:  # fmt: skip
    classes, fields = parse_scope(scope)
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
        scope=scope,
        scope_records=classes,
        scope_fields=fields,
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


ROWS = [
    # (requirement, request, field, allowed, rule id)
    ("R2", lambda: opened("other"), "name", False, "POLICY-DENY-BY-DEFAULT"),
    ("R2", lambda: opened("law_enforcement"), "name", False, "POLICY-DENY-BY-DEFAULT"),
    ("R4", guardian, "fines_total", True, "POLICY-MINOR-FINES"),
    ("R4", guardian, "titles", False, "POLICY-MINOR-FINES"),
    ("R4", guardian, "itemized_fines", False, "POLICY-MINOR-FINES"),
    ("R4", lambda: guardian(minor=False), "fines_total", False, "POLICY-MINOR-FINES"),
    ("R4", lambda: guardian(how=None), "fines_total", False, "POLICY-MINOR-FINES"),
    ("R6", lambda: order(opened("court"), kind="subpoena", signed=False), "name", False,
     "LRCA-COURT-ORDER"),
    ("R6", lambda: order(opened("court"), review=None), "name", False, "LRCA-COUNSEL-REVIEW"),
    ("R6", lambda: order(opened("court"), review="defective"), "name", False,
     "LRCA-COUNSEL-REVIEW"),
    ("R7", lambda: order(opened("court", ("registration", "circulation"))), "name", True,
     "LRCA-COURT-ORDER-SCOPE"),
    ("R7", lambda: order(opened("court", ("registration", "circulation"))), "titles", False,
     "LRCA-COURT-ORDER-SCOPE"),
    ("R8", lambda: emergency(opened(), imminent_danger=False), "name", False,
     "LRCA-EMERGENCY-REPRESENTATIONS"),
    ("R9", lambda: emergency(opened()), "card_number", True, "LRCA-EMERGENCY-SCOPE"),
    ("R9", lambda: emergency(opened(records=("circulation",))), "titles", False,
     "LRCA-EMERGENCY-SCOPE"),
    ("R9", lambda: emergency(opened(records=("other_patron",))), "computer_sessions", False,
     "LRCA-EMERGENCY-SCOPE"),
    ("R9", lambda: emergency(opened(records=("fines_fees",))), "itemized_fines", False,
     "LRCA-EMERGENCY-SCOPE"),
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


def test_a_court_order_scope_names_record_classes_and_fields() -> None:
    assert parse_scope("Registration, circulation for card 1234, Oct 2026") == (
        ["circulation", "registration"],
        [],
    )
    assert parse_scope("the patron's name and phone") == ([], ["name", "phone"])
    assert parse_scope("everything you have") == ([], [])


def test_a_field_scope_limits_the_order_to_those_fields() -> None:
    plan = plan_of(order(opened("court", ("registration",)), scope="name, address"))
    assert plan.allowed_fields == {"name", "address"}


def test_a_release_and_acknowledgement_and_follow_up_are_recorded_on_the_request() -> None:
    request = emergency(opened())
    request.trigger_event(
        Request.DisclosureReleased, fields=["name"], footage=[], to="Lee", method="in person",
        inventory_sha256="a" * 64, **WHO,
    )  # fmt: skip
    request.trigger_event(Request.FollowUpOpened, reason="emergency release", **WHO)
    request.trigger_event(
        Request.AcknowledgementRecorded, signed_form_sha256=None, refused_to_sign=True, **WHO
    )
    request.trigger_event(
        Request.FollowUpResolved, resolution="judicial_review_sought", court_order_request=None,
        reason="", **WHO,
    )  # fmt: skip
    assert request.released_fields == ["name"]
    assert request.acknowledgement is not None and request.acknowledgement["refused_to_sign"]
    assert request.follow_up is not None
    assert request.follow_up["state"] == "resolved"
    assert request.follow_up["resolution"] == "judicial_review_sought"


def test_a_new_court_order_is_reviewed_afresh() -> None:
    request = order(opened("court"))
    assert plan_of(request).allowed_fields
    order(request, review=None)
    assert request.counsel_review is None
    assert not plan_of(request).allowed_fields


def test_the_pseudonym_is_keyed_stable_and_ignores_card_formatting() -> None:
    key = b"k" * 32
    assert pseudonym(key, "2100-0123 45") == pseudonym(key, "2100012345")
    assert pseudonym(key, "2100012345") != pseudonym(b"j" * 32, "2100012345")
    assert pseudonym(key, "2100012345").startswith("p-")
    assert len(pseudonym(key, "2100012345")) == 18
    assert normalise_card(" ab-12 ") == "AB12"


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
