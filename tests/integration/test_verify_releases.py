"""`custodes verify --deep` judges every recorded release by the rules `custodes request
release` applies (ledger.release_rules), from the request as its events made it before
the release, on SQLite and PostgreSQL. Red team, session 21: a release recorded through
the Python API, around the command, passed `verify --deep`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from ledger import rules
from ledger.app import Ledger
from ledger.integrity import deep_checker, open_chain, verify_chain
from ledger.release_rules import inventory_digest
from tests.integration.test_disclosure_ledger import (
    CARD,
    DIRECTOR,
    STAFF,
    open_request,
    record_emergency,
)
from tests.integration.test_disclosure_ledger import ledger as ledger  # noqa: F401 (fixture)


@pytest.fixture
def approved(ledger: Ledger, now: datetime) -> Iterator[tuple[Ledger, str]]:  # noqa: F811
    """An emergency request for a patron's registration, approved by the Director."""
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    ledger.clock.set(now + timedelta(minutes=30))
    yield ledger, ref


def _around_the_command(ledger: Ledger, ref: str, actor: str, **kw: Any) -> None:
    """Record a release as code that skips `release`'s checks would: the member signs it
    with their own key, so the chain and the act are in order."""
    from ledger.disclosure import Request

    request = ledger._request(ref)
    who = ledger.authorize(actor, "request release", (), rules.POLICY_DENY_BY_DEFAULT)
    release: dict[str, Any] = dict(
        fields=["name"], footage=[], to="Lee Officer", recipient_badge="4471",
        method="in person", period=None, basis="emergency", redacted=None,
    )  # fmt: skip
    release.update(kw)
    release.setdefault(
        "inventory_sha256",
        inventory_digest(ref, release["fields"], release["footage"], release["to"],
                         release["method"], redacted=release["redacted"],
                         period=release["period"]),
    )  # fmt: skip
    request.trigger_event(
        Request.DisclosureReleased, **release, **ledger._common(who, ledger.clock())
    )
    ledger.save(request)


def _deep(ledger: Ledger) -> Any:
    assert ledger.datadir is not None
    plain = verify_chain(open_chain(ledger.datadir))
    assert plain.damage is None  # the chain and the signed acts are in order
    return verify_chain(open_chain(ledger.datadir), acts=deep_checker(ledger.mapper)).damage


def test_a_release_the_command_recorded_passes(approved: tuple[Ledger, str]) -> None:
    ledger, ref = approved
    ledger.release(
        ref, fields=["name", "phone"], to="Sgt. Lee Officer", badge="4471",
        method="in person", actor=STAFF,
    )  # fmt: skip
    assert _deep(ledger) is None


@pytest.mark.parametrize(
    "change,says",
    [
        ({}, ""),  # the same release as the command would record: no damage
        ({"to": "Bob Smith, News Gazette", "method": "email"}, "LRCA-EMERGENCY-RECIPIENT"),
        ({"recipient_badge": "9999"}, "badge 4471"),
        ({"method": "email"}, "in person"),
        ({"fields": ["circulation_history"]}, "circulation_history was not requested"),
        ({"basis": "guardian"}, "basis 'guardian'"),
        ({"inventory_sha256": "0" * 64}, "inventory digest does not match"),
        (
            {"footage": [{"segment_id": "lobby-1-x", "sha256": "0" * 64}]},
            "may not release footage",
        ),
        # red team, session 22: what the command's input checks refuse
        ({"fields": []}, "a release of nothing"),
        ({"method": "in person " * 30}, "its method is 299 characters long"),
        ({"to": "Lee Officer\x1b[2J"}, "its recipient holds a control character"),
        ({"to": "Lee Officer 2100 0123 4567"}, "looks like a library card number"),
    ],
)
def test_a_release_recorded_around_the_command_is_damage(
    approved: tuple[Ledger, str], change: dict[str, Any], says: str
) -> None:
    ledger, ref = approved
    _around_the_command(ledger, ref, STAFF, **change)
    damage = _deep(ledger)
    if not says:
        assert damage is None
        return
    assert damage is not None and damage.kind == "not permitted"
    assert says in damage.detail


@pytest.mark.parametrize("decided", ["no", "denied"])
def test_a_release_with_no_decision_or_after_a_denial_is_damage(
    ledger: Ledger,  # noqa: F811
    now: datetime,
    decided: str,
) -> None:
    """The red team's case: staff released an emergency request's records with no
    decision recorded; and a release after the Director denied."""
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=10))
    if decided == "denied":
        ledger.decide(ref, approve=False, reason="not an emergency", actor=DIRECTOR)
    _around_the_command(ledger, ref, STAFF)
    damage = _deep(ledger)
    assert damage is not None and damage.kind == "not permitted"
    says = "before the Director decides" if decided == "no" else f"the Director denied {ref}"
    assert says in damage.detail


@pytest.mark.parametrize("hours,refused", [(95, False), (97, True)])
def test_an_emergency_release_is_made_while_the_emergency_lasts(
    approved: tuple[Ledger, str], now: datetime, hours: int, refused: bool
) -> None:
    """Red team, session 21: an emergency release 75 days after the officer's form was
    recorded. The path holds for 96 hours from the request (release_rules.EMERGENCY_WINDOW);
    the command refuses a later release and records the refusal, and one recorded
    around the command is damage."""
    from ledger.errors import NotPermitted

    ledger, ref = approved
    ledger.clock.set(now + timedelta(hours=hours))
    if not refused:
        ledger.release(ref, fields=["name"], to="Lee Officer", badge="4471",
                       method="in person", actor=STAFF)  # fmt: skip
        assert _deep(ledger) is None
        return
    with pytest.raises(NotPermitted, match="^LRCA-EMERGENCY-REPRESENTATIONS .*received 97 hours"):
        ledger.release(ref, fields=["name"], to="Lee Officer", badge="4471",
                       method="in person", actor=STAFF)  # fmt: skip
    assert ledger.request_view(ref)["releases"] == []
    _around_the_command(ledger, ref, STAFF)
    damage = _deep(ledger)
    assert damage is not None and "holds for 96 hours" in damage.detail


def test_an_acting_directors_release_is_judged_as_the_directors(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team, session 22: a member under a delegation releases as the acting Director
    (the command judges it so), but the act carries the delegation only when the signer's
    own role could not sign it: judged as staff, an honest release of a court order's
    fields to someone the order does not name (the Director's to decide) was damage."""
    from tests.integration.test_disclosure_ledger import record_order

    ledger.delegate_director(
        STAFF, start=now, until=now + timedelta(days=2), authority="board minutes item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    ref = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    record_order(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="a valid order", actor=STAFF)
    ledger.release(ref, fields=["name"], to="Alex Lawyer", method="certified mail", actor=STAFF)
    assert _deep(ledger) is None


def _order_around_the_command(ledger: Ledger, ref: str, now: datetime) -> None:
    """A court order's event recorded by staff with their own key, around `request
    court-order` (which refuses it on this request)."""
    from ledger.disclosure import Request
    from tests.integration.test_disclosure_ledger import order_scan

    request = ledger._request(ref)
    who = ledger.authorize(STAFF, "request court-order", (), rules.LRCA_COURT_ORDER)
    request.trigger_event(
        Request.CourtOrderRecorded, kind="order", signed_by_judge=True, court="Circuit Court",
        judge="Hon. J", case="2026-CF-9", issued=now - timedelta(days=1), served_at=now,
        served_by="Bob Smith", scope="", scope_records=["registration"], scope_fields=[],
        scope_patrons=[ledger._pseudonym(CARD)], scope_from=None, scope_to=None,
        exclude_records=[], exclude_fields=[], document_name="o.pdf",
        document_sha256=order_scan(ref), nondisclosure="", **ledger._common(who, ledger.clock()),
    )  # fmt: skip
    ledger.save(request)


def test_an_order_recorded_around_the_command_on_a_foia_request_releases_nothing(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team, session 22: session 21's fix refused the order at `request court-order`
    only; an order event recorded around it made the ordinary decision and release send a
    newspaper the patron's records. The release refuses it, and verify --deep reports a
    release recorded around that too."""
    from ledger.errors import NotPermitted

    ref = open_request(ledger, now, "public", ["registration"], patron_card=CARD)
    _order_around_the_command(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=10))
    ledger.decide(ref, approve=True, reason="a court order", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^LRCA-COURT-ORDER .*a request of its own"):
        ledger.release(ref, fields=["name"], to="Bob Smith", method="email", actor=STAFF)
    _around_the_command(ledger, ref, STAFF, to="Bob Smith", method="email",
                        basis="court_order", recipient_badge="")  # fmt: skip
    damage = _deep(ledger)
    assert damage is not None and "a request of its own" in damage.detail


def test_the_emergency_window_runs_from_the_request_not_from_the_forms_recording(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team, session 22: the 96 hours ran from the form's recording, which staff may
    do days after the request came in (or again, around the command: the decision's digest
    of its documents leaves their time out, so the window began anew)."""
    from ledger.errors import NotPermitted

    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    later = now + timedelta(hours=100)
    record_emergency(ledger, ref, later)
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match=f"{ref} was received 100 hours ago"):
        ledger.release(ref, fields=["name"], to="Lee Officer", badge="4471",
                       method="in person", actor=STAFF)  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [{"period": ["2026-13-45", "yesterday"]}, {"footage": [{"sha256": "0" * 64}]}],
)
def test_a_release_no_command_could_record_is_damage_not_a_crash(
    approved: tuple[Ledger, str], change: dict[str, Any]
) -> None:
    ledger, ref = approved
    _around_the_command(ledger, ref, STAFF, **change)
    damage = _deep(ledger)
    assert damage is not None and "the release cannot be judged" in damage.detail


def test_an_officer_with_a_long_badge_number_is_released_to(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team, session 22: the form took a badge of eight digits, the release refused it
    as a card number, and that officer could never be released to."""
    ref = open_request(ledger, now, "law_enforcement", ["registration"], patron_card=CARD)
    from tests.integration.test_disclosure_ledger import REPS, signed_form

    ledger.record_emergency(
        ref, officer_name="Lee Officer", officer_rank="Sergeant", badge_number="20261187",
        agency="Mahomet PD", agency_phone="217-555-0100", id_examined=True,
        role_sought="suspect", emergency_description="a threat at the desk",
        signed_form_sha256=signed_form(ref), signed_form_name="appendix9-signed.pdf",
        actor=STAFF, **REPS,
    )  # fmt: skip
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    released = ledger.release(ref, fields=["name"], to="Lee Officer", badge="20261187",
                              method="in person", actor=STAFF)  # fmt: skip
    assert released["recipient_badge"] == "20261187"
    assert _deep(ledger) is None
