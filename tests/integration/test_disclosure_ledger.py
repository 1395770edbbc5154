"""Disclosure requests against a real ledger (SQLite and PostgreSQL): every refused step is
recorded, the register follows, a forgotten patron reads as erased and the chain verifies."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ledger.app import Ledger, open_chain, verify_chain
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.disclosure_intake import OrderScope
from ledger.errors import InvalidInput, NotFound, NotPermitted
from ledger.footage import MediaFacts
from ledger.footage_commands import CaptureItem
from projections.disclosures import disclosures
from projections.refusals import refused_attempts
from projections.registry import open_views
from tests.conftest import SETUP
from tests.identity import enrol, open_test_ledger

DIRECTOR, STAFF, COUNSEL = "Dana Director", "Sam Staff", "Cora Counsel"
CARD = "2100-012345"
REPS = dict(
    sworn_officer=True,
    court_order_impractical=True,
    imminent_danger=True,
    identification_purpose=True,
)


@pytest.fixture
def ledger(data_dir: Path, now: datetime) -> Iterator[Ledger]:
    led = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(SETUP + timedelta(hours=1)))
    enrol(led, STAFF, "staff", actor=DIRECTOR)
    enrol(led, COUNSEL, "counsel", actor=DIRECTOR)
    led.register_camera(
        "lobby-1", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    led.clock.set(now)
    yield led
    led.close()


def open_request(led: Ledger, now: datetime, kind: str, records: list[str], **kw: object) -> str:
    led.clock.set(max(now, led.clock()))  # recorded times only move forward (R26)
    return led.open_request(
        requester_kind=kind, requester="Someone", received_by=STAFF, records=records,
        description="asked at the desk", actor=STAFF, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def signed_form(ref: str) -> str:
    """The SHA-256 of the officer's signed Appendix 9 scan for this request: each request
    has its own form (one scan recorded on two requests is refused)."""
    return hashlib.sha256(f"signed Appendix 9 of {ref}".encode()).hexdigest()


def order_scan(ref: str) -> str:
    """The SHA-256 of the scan of the order served for this request (the same scan with
    another transcription on another request is refused)."""
    return hashlib.sha256(f"court order served for {ref}".encode()).hexdigest()


def record_emergency(led: Ledger, ref: str, now: datetime, **reps: bool) -> None:
    led.clock.set(max(now, led.clock()))
    led.record_emergency(
        ref, officer_name="Lee Officer", officer_rank="Sergeant", badge_number="4471",
        agency="Mahomet PD", agency_phone="217-555-0100", id_examined=True,
        role_sought="suspect", emergency_description="a threat at the desk",
        signed_form_sha256=signed_form(ref), signed_form_name="appendix9-signed.pdf",
        actor=STAFF, **{**REPS, **reps},
    )  # fmt: skip


def record_order(led: Ledger, ref: str, now: datetime, *, kind: str = "order",
                 signed: bool = True, scope: OrderScope | None = None, **kw: object) -> None:  # fmt: skip
    led.clock.set(max(now, led.clock()))
    led.record_court_order(
        ref, kind=kind, signed_by_judge=signed, court="Circuit Court", judge="Hon. J",
        case="2026-CF-9", issued=now - timedelta(days=1), served_at=now,
        served_by="Det. Ray #42",
        scope=scope or OrderScope(patron_cards=[CARD], records=["registration"]),
        document_name="o.pdf", document_sha256=order_scan(ref), actor=STAFF, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def refused(led: Ledger) -> list[tuple[str, str, str]]:
    views = open_views(led)
    try:
        with views.connect() as conn:
            return [(r.action, r.subject, r.rule_id) for r in refused_attempts(conn)]
    finally:
        views.close()


def register(led: Ledger) -> dict[str, object]:
    views = open_views(led)
    try:
        with views.connect() as conn:
            return {r.ref: r for r in disclosures(conn)}
    finally:
        views.close()


def test_the_emergency_path_refuses_each_skipped_step_and_records_it(
    ledger: Ledger, now: datetime
) -> None:
    ref = open_request(
        ledger, now, "law_enforcement", ["registration", "circulation"],
        patron_card=CARD, patron_name="Jane Patron",
    )  # fmt: skip
    view = ledger.request_view(ref)
    assert (view["received_by"], view["routed_to"]) == (STAFF, DIRECTOR)
    with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-REPRESENTATIONS .*imminent danger"):
        record_emergency(ledger, ref, now, imminent_danger=False)
    record_emergency(ledger, ref, now)
    with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES .*before the Director"):
        ledger.clock.set(now)
        ledger.release(ref, fields=["name"], to="Lee", method="in person", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^POLICY-DIRECTOR-DECIDES .*not the staff"):
        ledger.decide(ref, approve=True, reason="ok", actor=STAFF)
    later = now + timedelta(minutes=30)
    ledger.clock.set(later)
    decided = ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    assert decided["allowed_fields"] == ["address", "card_number", "name", "phone"]
    with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-SCOPE .*titles was refused when"):
        ledger.release(ref, fields=["name", "titles"], to="Lee", badge="4471",
                       method="in person", actor=STAFF)  # fmt: skip
    released = ledger.release(
        ref, fields=["name", "card_number"], to="Lee Officer", badge="4471",
        method="in person", actor=STAFF,
    )  # fmt: skip
    assert released["fields"] == ["card_number", "name"]
    ledger.acknowledge(ref, signed_receipt_sha256="b" * 64, actor=STAFF)
    assert refused(ledger) == [
        ("request emergency", ref, "LRCA-EMERGENCY-REPRESENTATIONS"),
        ("request release", ref, "POLICY-DIRECTOR-DECIDES"),
        ("request decide", ref, "POLICY-DIRECTOR-DECIDES"),
        ("request release", ref, "LRCA-EMERGENCY-SCOPE"),
    ]
    row = register(ledger)[ref]
    assert row.basis == "emergency" and row.decision == "approved"  # type: ignore[attr-defined]
    assert row.time_to_decision_s == 1800  # type: ignore[attr-defined]
    assert row.released_fields == ["card_number", "name"]  # type: ignore[attr-defined]
    assert row.follow_up == "open" and row.refusals == 4  # type: ignore[attr-defined]
    assert row.acknowledgement.startswith("signed receipt")  # type: ignore[attr-defined]
    assert row.signed_form == f"signed Appendix 9 sha256:{signed_form(ref)[:16]}"  # type: ignore[attr-defined]
    assert {x["field"] for x in row.refused_at_intake} == {  # type: ignore[attr-defined]
        "titles", "holds", "circulation_history", "registration_record",
    }  # fmt: skip

    # R11: the follow-up stays open until a later court order is linked.
    with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-FOLLOWUP"):
        ledger.resolve_follow_up(ref, judicial_review_sought=True, actor=STAFF)
    other = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    with pytest.raises(InvalidInput, match="has no court order"):
        ledger.resolve_follow_up(ref, court_order_request=other, actor=DIRECTOR)
    record_order(ledger, other, now)
    ledger.resolve_follow_up(ref, court_order_request=other, actor=DIRECTOR)
    assert register(ledger)[ref].follow_up == f"resolved: court order {other}"  # type: ignore[attr-defined]
    # Both requests are about the same patron: same pseudonym.
    assert register(ledger)[other].patron == row.patron  # type: ignore[attr-defined]


def test_each_emergency_release_has_its_own_signed_receipt(ledger: Ledger, now: datetime) -> None:
    """R10: the officer's receipt is recorded after each release. Red team, session 21:
    a second release to the officer could not be acknowledged ("recorded already")."""
    from projections.history import read_history
    from projections.request_record import request_sections

    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    with pytest.raises(InvalidInput, match="nothing has been released"):
        ledger.acknowledge(ref, signed_receipt_sha256="a" * 64, actor=STAFF)
    for fields in (["name"], ["phone"]):
        ledger.release(ref, fields=fields, to="Lee Officer", badge="4471",
                       method="in person", actor=STAFF)  # fmt: skip
    ledger.acknowledge(ref, signed_receipt_sha256="a" * 64, actor=STAFF)
    with pytest.raises(InvalidInput, match="every release of .* has its signed receipt already"):
        ledger.acknowledge(ref, signed_receipt_sha256="b" * 64, actor=STAFF)
    ledger.release(ref, fields=["address"], to="Lee Officer", badge="4471",
                   method="in person", actor=STAFF)  # fmt: skip
    assert register(ledger)[ref].acknowledgement == "a later release (receipt pending)"  # type: ignore[attr-defined]
    view = ledger.request_view(ref)
    assert view["unacknowledged"] == [3]
    _, sections = request_sections(view, ledger.site().zone)
    after = dict(sections)["After release"]
    assert after[0][1].startswith("releases 1 and 2: signed receipt sha256 " + "a" * 64)
    assert ("No receipt yet", "release 3") in after
    ledger.acknowledge(ref, signed_receipt_sha256="c" * 64, actor=STAFF)
    assert [a["releases"] for a in ledger.request_view(ref)["acknowledgements"]] == [[1, 2], [3]]
    assert register(ledger)[ref].acknowledgement == (  # type: ignore[attr-defined]
        "signed receipts, the last sha256:" + "c" * 16
    )
    said = [e.summary for e in read_history(ledger, ref, actor=DIRECTOR)[1]]
    assert any(x.endswith("of releases 1 and 2") for x in said)
    assert any(x.endswith("of release 3") for x in said)


def test_a_receipt_is_of_one_recipients_releases(ledger: Ledger, now: datetime) -> None:
    """Red team, session 22: with releases to two recipients waiting, the first receipt
    covered both, and the second recipient's own receipt could never be recorded. A
    receipt is of the waiting releases to the first one's recipient, or of those named."""
    ref = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    record_order(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="a valid order", actor=DIRECTOR)
    for fields, to in ((["name"], "Circuit Court clerk"), (["phone"], "Det. Ray"),
                       (["address"], "Circuit Court clerk")):  # fmt: skip
        ledger.release(ref, fields=fields, to=to, method="in person", actor=STAFF)
    assert ledger.request_view(ref)["receipt_due"] == [1, 3]
    with pytest.raises(InvalidInput, match="release 4 of .* is not waiting"):
        ledger.acknowledge(ref, signed_receipt_sha256="a" * 64, actor=STAFF, releases=[4])
    assert ledger.acknowledge(ref, signed_receipt_sha256="a" * 64, actor=STAFF) == [1, 3]
    assert ledger.request_view(ref)["receipt_due"] == [2]
    assert ledger.acknowledge(ref, signed_receipt_sha256="b" * 64, actor=STAFF, releases=[2]) == [2]
    assert ledger.request_view(ref)["unacknowledged"] == []


def test_a_court_order_releases_its_structured_scope_and_counsel_review_is_recorded_not_a_gate(
    ledger: Ledger, now: datetime
) -> None:
    ref = open_request(ledger, now, "court", ["registration", "circulation"], patron_card=CARD)
    record_order(ledger, ref, now, kind="subpoena", signed=False)
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER .*not signed by a judge"):
        ledger.decide(ref, approve=True, reason="x", actor=DIRECTOR)
    # Red team (session 17): a subpoena a judge signed released records as a court order.
    record_order(ledger, ref, now, kind="subpoena", signed=True)
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER .*even one signed by a judge"):
        ledger.decide(ref, approve=True, reason="x", actor=DIRECTOR)
    record_order(ledger, ref, now)
    with pytest.raises(NotPermitted, match="^LRCA-COUNSEL-REVIEW .*only counsel"):
        ledger.record_counsel_review(ref, result="sufficient", notes="", actor=STAFF)
    decided = ledger.decide(ref, approve=True, reason="valid order", actor=DIRECTOR)
    assert "titles" not in decided["allowed_fields"] and "name" in decided["allowed_fields"]
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER-SCOPE"):
        ledger.release(ref, fields=["titles"], to="Clerk", method="mail", actor=DIRECTOR)
    ledger.release(ref, fields=["registration_record"], to="Clerk", method="mail", actor=DIRECTOR)
    row = register(ledger)[ref]
    # Released without counsel's review: allowed by this policy, and shown in the register.
    assert row.counsel_review == "pending" and row.follow_up == "none"  # type: ignore[attr-defined]
    assert row.scope.startswith("patrons p-") and "records registration" in row.scope  # type: ignore[attr-defined]


def test_a_guardian_hears_a_minors_fines_and_fees_amounts_only(
    ledger: Ledger, now: datetime
) -> None:
    ref = open_request(
        ledger, now, "parent_guardian", ["fines_fees", "circulation"], patron_card=CARD,
        minor=True, guardianship="birth certificate shown",
    )  # fmt: skip
    # Authorized staff answer at once, without a decision (Policy V-A, R4).
    told = ledger.release(ref, fields=["itemized_fines", "fines_total"], to="Someone", method="desk",
                          actor=STAFF)  # fmt: skip
    assert told["basis"] == "guardian"
    with pytest.raises(InvalidInput, match="a guardian was told the minor's fines and fees"):
        ledger.decide(ref, approve=True, reason="more", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^POLICY-MINOR-FINES .*titles"):
        ledger.release(ref, fields=["titles"], to="Someone", method="desk", actor=STAFF)


@pytest.mark.parametrize(
    "badge,says",
    [
        ("4471", "leave it out"),  # a badge off the emergency path
        ("2100 0123 4567", "leave it out"),
        ("\x1b[2J4471", "control character"),
        ("4471" * 40, "characters long"),
    ],
)
def test_a_badge_is_for_an_emergency_release_and_is_checked_like_any_free_text(
    ledger: Ledger, now: datetime, badge: str, says: str
) -> None:
    """Red team, session 21: --badge was recorded as typed on any release, in clear (a
    card number, a date of birth, an escape sequence, 50,000 characters)."""
    ref = open_request(
        ledger, now, "parent_guardian", ["fines_fees"], patron_card=CARD, minor=True,
        guardianship="birth certificate shown",
    )  # fmt: skip
    before = ledger.request_view(ref)["releases"]
    with pytest.raises(InvalidInput, match=says):
        ledger.release(ref, fields=["fines_total"], to="Someone", method="desk", badge=badge,
                       actor=STAFF)  # fmt: skip
    assert ledger.request_view(ref)["releases"] == before == []


@pytest.mark.parametrize(
    "kind,records,extra",
    [
        ("public", ["registration"], {}),  # a FOIA request
        (
            "parent_guardian",
            ["fines_fees"],
            {"minor": True, "guardianship": "birth certificate shown"},
        ),
        ("patron", ["registration"], {}),
    ],
)
def test_a_court_order_is_recorded_only_on_a_request_of_its_own(
    ledger: Ledger, now: datetime, kind: str, records: list[str], extra: dict[str, object]
) -> None:
    """Red team, session 21: an order recorded on a newspaper's FOIA request made its
    release a court order's, and staff emailed the patron's records to the newspaper. An
    order is served by a court, law enforcement or a party's lawyer, on a request of its
    own; anywhere else it is refused and recorded, and the request is as it was."""
    ref = open_request(ledger, now, kind, records, patron_card=CARD, **extra)
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER .*a court order is recorded on a"):
        record_order(ledger, ref, now)
    view = ledger.request_view(ref)
    assert view["court_order"] is None and view["takes_court_order"] is False
    assert refused(ledger) == [("request court-order", ref, "LRCA-COURT-ORDER")]
    for served_by in ("court", "law_enforcement", "other"):
        other = open_request(ledger, now, served_by, ["registration"], patron_card=CARD)
        assert ledger.request_view(other)["takes_court_order"] is True
        record_order(ledger, other, now)
        assert ledger.request_view(other)["plan"]["basis"] == "court_order"


def test_a_foia_request_starts_the_clock_and_holds_the_responsive_footage(
    ledger: Ledger, now: datetime
) -> None:
    media = MediaFacts("mp4", "mp4v", 300, 10.0, 30.0, 320, 240)
    seg = ledger.record_capture(
        CaptureItem("e" * 64, 1000, "lobby-1", now - timedelta(hours=2), media, "a.mp4"),
        actor=STAFF,
    )
    with pytest.raises(NotFound):
        open_request(ledger, now, "public", ["footage"], footage=["f" * 12])
    ref = open_request(ledger, now, "public", ["footage", "circulation"], footage=[seg.segment_id])
    view = ledger.request_view(ref)
    # Received Monday 2026-11-02 09:00 Chicago: due Monday 11-09, extended to Monday 11-16.
    chicago = ZoneInfo("America/Chicago")
    assert view["foia"]["due_at"] == datetime(2026, 11, 9, 23, 59, 59, 999999, tzinfo=chicago)
    assert view["foia"]["extended_due_at"].astimezone(chicago).date().isoformat() == "2026-11-16"
    assert view["foia"]["due_at"].tzinfo == UTC
    assert view["hold_id"] in ledger.segment_info(seg.segment_id).holds
    # Red-team M1: the hold the request placed is not released while the request pends.
    with pytest.raises(NotPermitted, match="^FOIA-PRESERVE .*still pending"):
        ledger.release_hold(view["hold_id"], reason="tidy up", actor=DIRECTOR)
    assert refused(ledger)[-1] == ("footage hold release", view["hold_id"], "FOIA-PRESERVE")
    decided = ledger.decide(ref, approve=True, reason="footage, blurred", actor=DIRECTOR)
    assert decided["allowed_fields"] == ["footage"]
    with pytest.raises(NotPermitted, match="^FOIA-PRESERVE"):  # approved is not answered
        ledger.release_hold(view["hold_id"], reason="tidy up", actor=DIRECTOR)
    assert {d["rule_id"] for d in decided["decisions"] if not d["allowed"]} == {"FOIA-7.5B"}
    with pytest.raises(NotPermitted, match="^FOIA-7-1C .*redacted"):
        ledger.release(ref, fields=[], footage=[seg.segment_id], to="J. Public",
                       method="download", actor=DIRECTOR)  # fmt: skip
    released = ledger.release(
        ref, fields=[], footage=[seg.segment_id], to="J. Public", method="download",
        actor=DIRECTOR, redaction={"faces": True},  # what footage export passes
    )  # fmt: skip
    assert released["footage"] == [{"segment_id": seg.segment_id, "sha256": "e" * 64}]
    row = register(ledger)[ref]
    assert row.basis == "foia" and row.hold_id == view["hold_id"]  # type: ignore[attr-defined]
    assert row.released_footage == [seg.segment_id]  # type: ignore[attr-defined]
    assert row.footage_redaction == "faces blurred"  # type: ignore[attr-defined]
    ledger.release_hold(view["hold_id"], reason="request answered", actor=DIRECTOR)
    assert view["hold_id"] not in ledger.segment_info(seg.segment_id).holds


def test_the_foia_clock_runs_from_receipt_not_from_entry(ledger: Ledger, now: datetime) -> None:
    """Red-team: a letter received on Thursday and entered the next Monday had its five
    business days counted from Monday. When it reached the Director is still Monday."""
    chicago = ZoneInfo("America/Chicago")
    thursday = datetime(2026, 10, 29, 16, 0, tzinfo=chicago)
    ref = open_request(ledger, now, "public", ["circulation"], received_at=thursday)
    view = ledger.request_view(ref)
    assert view["received_at"] == thursday and view["foia"]["received_at"] == thursday
    # Thursday 10-29 is day 0: Fri, Mon, Tue, Wed, Thu -> due Thursday 11-05.
    assert view["foia"]["due_at"] == datetime(2026, 11, 5, 23, 59, 59, 999999, tzinfo=chicago)
    assert view["routed_at"] == now
    with pytest.raises(NotPermitted, match="^CLAIMED-TIMES .*received time is in the future"):
        open_request(ledger, now, "public", ["circulation"], received_at=now + timedelta(days=1))
    assert refused(ledger)[-1][::2] == ("request open", "CLAIMED-TIMES")
    with pytest.raises(InvalidInput, match="before this ledger began"):
        open_request(ledger, now, "public", ["circulation"],
                     received_at=datetime(2020, 1, 1, tzinfo=UTC))  # fmt: skip
    assert len(register(ledger)) == 1  # nothing else recorded


def test_forgetting_a_patron_erases_the_details_and_the_chain_still_verifies(
    ledger: Ledger, now: datetime, data_dir: Path
) -> None:
    ref = open_request(
        ledger, now, "law_enforcement", ["registration"], patron_card=CARD,
        patron_name="Jane Patron", patron_address="1 Main St",
    )  # fmt: skip
    assert ledger.request_view(ref)["patron"]["details"]["name"] == "Jane Patron"
    with pytest.raises(NotPermitted, match="^PATRON-ERASURE"):
        ledger.clock.set(now)
        ledger.forget_patron(CARD, reason="asked", actor=STAFF)
    with pytest.raises(NotFound):
        ledger.forget_patron("9999", reason="", actor=DIRECTOR)
    ledger.clock.set(now)
    pseudo = ledger.forget_patron(CARD, reason="patron asked", actor=DIRECTOR)
    assert ledger.request_view(ref)["patron"] == {"pseudonym": pseudo, "details": "erased"}
    assert register(ledger)[ref].patron_erased  # type: ignore[attr-defined]
    assert verify_chain(open_chain(DataDir.open(data_dir))).ok
    # Seen again later: a new key; the old details stay erased.
    again = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    assert ledger.request_view(again)["patron"]["details"]["name"] == ""


def test_the_register_rebuilt_from_the_log_equals_the_one_kept_incrementally(
    ledger: Ledger, now: datetime
) -> None:
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    before = register(ledger)
    ledger.clock.set(now)
    ledger.decide(ref, approve=False, reason="no emergency", actor=DIRECTOR)
    incremental = register(ledger)
    views = open_views(ledger)
    views.rebuild()
    views.close()
    assert register(ledger) == incremental != before


def test_the_one_foia_extension_moves_the_deadline_and_only_before_it_passes(
    ledger: Ledger, now: datetime
) -> None:
    ref = open_request(ledger, now, "public", ["circulation"])
    chicago = ZoneInfo("America/Chicago")
    with pytest.raises(NotPermitted, match="FOIA-CLOCK .*only director may"):
        ledger.clock.set(now)
        ledger.extend_foia(ref, reason="review needed", actor=STAFF)
    ledger.clock.set(now)
    due = ledger.extend_foia(ref, reason="records must be reviewed", actor=DIRECTOR)
    assert due.astimezone(chicago).date().isoformat() == "2026-11-16"
    row = register(ledger)[ref]
    assert row.foia_due == due  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="extended already"):
        ledger.clock.set(now)
        ledger.extend_foia(ref, reason="again", actor=DIRECTOR)
    late = open_request(ledger, now, "public", ["circulation"])
    with pytest.raises(NotPermitted, match="before the first deadline"):
        ledger.clock.set(now + timedelta(days=10))
        ledger.extend_foia(late, reason="too late", actor=DIRECTOR)
    assert ("request foia-extend", late, "FOIA-CLOCK") in refused(ledger)


def test_a_nondisclosure_order_is_recorded_with_the_court_order(
    ledger: Ledger, now: datetime
) -> None:
    ref = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    ledger.clock.set(now)
    record_order(ledger, ref, now, nondisclosure="do not notify the patron for 90 days")
    order = ledger.request_view(ref)["court_order"]
    assert order["nondisclosure"] == "do not notify the patron for 90 days"


def test_footage_past_its_deadline_is_not_released_unless_a_hold_covers_it(
    ledger: Ledger, now: datetime
) -> None:
    """Red-team (redteam9): `footage export` refused footage past its retention deadline,
    but `request release --footage` recorded it as handed to the officer, even a segment
    purged weeks before (FOOTAGE-PAST-DEADLINE: not viewed, copied or exported)."""
    media = MediaFacts("mp4", "mp4v", 300, 10.0, 30.0, 320, 240)
    seg = ledger.record_capture(
        CaptureItem("e" * 64, 1000, "lobby-1", now - timedelta(hours=2), media, "a.mp4"),
        actor=STAFF,
    ).segment_id
    ref = open_request(
        ledger, now, "law_enforcement", ["footage"], footage=[seg], case_number="2026-CF-77"
    )
    ledger.decide(ref, approve=True, reason="active investigation", actor=DIRECTOR)
    ledger.clock.set(now + timedelta(days=31))  # its 30 days are over, nothing holds it
    with pytest.raises(NotPermitted, match=f"^FOOTAGE-PAST-DEADLINE .*segment {seg}.*due for"):
        ledger.release(ref, fields=[], footage=[seg], to="Det. Ray", method="USB drive",
                       actor=DIRECTOR)  # fmt: skip
    assert refused(ledger)[-1] == ("request release", ref, "FOOTAGE-PAST-DEADLINE")
    assert ledger.request_view(ref)["releases"] == []
    ledger.place_hold([seg], kind="investigation", reason="the officer's case",
                      reference="2026-CF-77", actor=DIRECTOR)  # fmt: skip
    released = ledger.release(
        ref, fields=[], footage=[seg], to="Det. Ray", method="USB drive", actor=DIRECTOR
    )
    assert [f["segment_id"] for f in released["footage"]] == [seg]


def test_a_hold_labelled_foia_for_a_request_that_is_not_one_does_not_bind_the_director(
    ledger: Ledger, now: datetime
) -> None:
    """Red-team (redteam9): a staff member placed a hold of kind foia naming a pending
    law-enforcement request, and the Director's release was refused under FOIA-PRESERVE
    ("keeps the footage that answers FOIA request ..."): only a FOIA request's pendency
    keeps a hold (R14, R20)."""
    media = MediaFacts("mp4", "mp4v", 300, 10.0, 30.0, 320, 240)
    seg = ledger.record_capture(
        CaptureItem("e" * 64, 1000, "lobby-1", now - timedelta(hours=2), media, "a.mp4"),
        actor=STAFF,
    ).segment_id
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    hold = ledger.place_hold([seg], kind="foia", reason="keep it for the request",
                             reference=ref, actor=STAFF)  # fmt: skip
    ledger.release_hold(hold, reason="no FOIA request is pending", actor=DIRECTOR)
    assert hold not in ledger.segment_info(seg).holds
