"""Disclosure records: what an officer or a court receives with released patron fields,
and can check without Custodes (R7, R21).

Footage leaves the library in an evidence package whose export event commits to the clips
(``ledger.evidence``). Patron fields leave in person or by letter, and the release event
that records them is encrypted in the ledger: its chain entry holds only a digest of the
ciphertext, so a recipient holding the fields had nothing to tie them to the signed
ledger. A *disclosure record* closes that gap. It is the release as the ledger holds it
(the request, the legal basis with the hashes of its signed documents, the Director's
decision, what was released, to whom, how and when, and the release's inventory digest),
written out as canonical JSON with a random nonce, and recorded as its own aggregate
whose id is ``uuid5(RECORD_NAMESPACE, record digest)``. The aggregate id is a chain
field, so the inclusion proof ties the record, word for word, to an entry of the signed
tree. The nonce keeps the commitment from confirming a guess: the record names a
recipient and fields, which someone holding only the chain could otherwise try.

The record lists the fields by name, never their values (the patron's name, address):
those the recipient was given, and the ledger never holds circulation data at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from ledger.domain import LedgerAggregate
from ledger.evidence import RECORD_FORMAT, record_digest, record_id

if TYPE_CHECKING:
    from ledger.disclosure import Request


def _utc(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DisclosureRecord(LedgerAggregate):
    class RecordIssued(LedgerAggregate.Created):
        request_ref: str
        release: int  # 1-based: which release of the request
        recipient: str
        record_digest: str
        release_inventory_sha256: str
        # The record itself (encrypted, like every event's state): an auditor with the
        # events key re-digests it and compares it with the release it describes.
        record: dict[str, Any]

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        request_ref: str,
        release: int,
        recipient: str,
        record_digest: str,
        release_inventory_sha256: str,
        record: dict[str, Any],
    ) -> None:
        self.request_ref = request_ref
        self.release = release
        self.recipient = recipient
        self.record_digest = record_digest
        self.release_inventory_sha256 = release_inventory_sha256
        self.record = record


def request_at_release(events: Iterable[Any], number: int) -> Request | None:
    """The request as it stood when its release ``number`` (1-based) was recorded, from
    its events in order, or None (it has no such release). A record describes that
    moment: a decision, a counsel's review or an order recorded afterwards is not what
    the release rested on (red team, session 21: a record issued after a later denial
    said "denied" of a release made on an approval)."""
    from ledger.disclosure import Request

    request: Any = None
    for event in events:
        request = event.mutate(request)
        if isinstance(event, Request.DisclosureReleased) and len(request.releases) == number:
            return cast("Request", request)
    return None


def record_body(request: Request) -> dict[str, Any]:
    """What a record states of ``request``'s last release, from the request as it stood
    then (``request_at_release``): the request, the legal basis with its documents'
    hashes, the Director's decision and the release. Plain JSON values, times in UTC.
    ``custodes verify --deep`` rebuilds it from the events and compares it with every
    record kept, part by part."""
    number = len(request.releases)
    release = request.releases[-1]
    order, emergency = request.court_order, request.emergency
    basis: dict[str, Any] = {"basis": release["basis"]}
    if order is not None and release["basis"] == "court_order":
        review = request.counsel_review or {}
        basis["court_order"] = {
            "kind": order["kind"],
            "signed_by_judge": order["signed_by_judge"],
            "court": order["court"],
            "judge": order["judge"],
            "case": order["case"],
            "issued": _utc(order["issued"]),
            "served_at": _utc(order["served_at"]),
            "document_sha256": order["document_sha256"],
            "scope_records": list(order["scope_records"]),
            "scope_fields": list(order["scope_fields"]),
            "scope_from": order["scope_from"],
            "scope_to": order["scope_to"],
            "counsel_review": review.get("result"),
        }
    if emergency is not None and release["basis"] == "emergency":
        basis["emergency"] = {
            "signed_form_sha256": emergency["signed_form_sha256"],
            "officer_name": emergency["officer_name"],
            "officer_rank": emergency["officer_rank"],
            "badge_number": emergency["badge_number"],
            "agency": emergency["agency"],
            "id_examined": emergency["id_examined"],
            "sworn_officer": emergency["sworn_officer"],
            "court_order_impractical": emergency["court_order_impractical"],
            "imminent_danger": emergency["imminent_danger"],
            "identification_purpose": emergency["identification_purpose"],
        }
    decision = request.decision
    return {
        "request": {
            "ref": request.ref,
            "requester_kind": request.requester_kind,
            "requester": request.requester,
            "received_at": _utc(request.received_at),
            "records_asked": list(request.records),
            "case_number": request.case_number,
        },
        "legal_basis": basis,
        "decision": None
        if decision is None
        else {
            "approved": decision["approved"],
            "by": decision["by"],
            "at": _utc(decision["at"]),
            "allowed_fields": list(decision["allowed_fields"]),
            "approved_footage": list(decision["approved_footage"]),
        },
        "release": {
            "number": number,
            "fields": list(release["fields"]),
            "footage": [dict(f) for f in release["footage"]],
            "to": release["to"],
            "recipient_badge": release["recipient_badge"],
            "method": release["method"],
            "period": None if release["period"] is None else list(release["period"]),
            "redacted": release["redacted"],
            "by": release["by"],
            "at": _utc(release["at"]),
            "inventory_sha256": release["inventory_sha256"],
        },
    }


def build_record(
    request: Request, *, library: str, log_origin: str, time_zone: str,
    issued_by: dict[str, str], issued_at: datetime, nonce: str,
) -> dict[str, Any]:  # fmt: skip
    """The record of ``request``'s last release, ``request`` as it stood when that release
    was recorded (``request_at_release``)."""
    return {
        "format": RECORD_FORMAT,
        "library": library,
        "log_origin": log_origin,
        "time_zone": time_zone,  # the site's, in which record.txt shows the times
        **record_body(request),
        "issued": {**issued_by, "at": _utc(issued_at)},
        "nonce": nonce,
    }


# The parts of a record, as people read them in a message.
_PARTS = {
    "request": "request",
    "legal_basis": "legal basis",
    "decision": "decision",
    "release": "release",
}


def record_problem(event: Any, bodies: list[dict[str, Any]], site: dict[str, str]) -> str | None:
    """What is wrong with a recorded disclosure record (``custodes verify --deep``), or
    None. The record it keeps must be the one its id and digest commit to; it must state,
    part by part, what ``record_body`` rebuilds from the events of its request as they
    stood at that release (``bodies``: one per release of the request so far, in order);
    it must name the library, log and time zone of the site (``site``), and as its issuer
    the member who signed its act, at its recorded time. Red team, session 21: a record
    built by hand, naming another requester, a counsel's review never recorded or a
    release time before the decision, was signed with a member's own key and passed,
    since only the release's inventory digest was compared."""
    record = getattr(event, "record", None)
    if not isinstance(record, dict):
        return "it keeps no disclosure record to check"
    digest = record_digest(record)
    if digest != event.record_digest or record_id(digest) != event.originator_id:
        return "the disclosure record it keeps is not the one its id commits to"
    release, ref = record.get("release") or {}, (record.get("request") or {}).get("ref")
    number = release.get("number")
    if not isinstance(number, int) or not 1 <= number <= len(bodies):
        return f"it is the record of release {number} of {ref}, which the ledger does not hold"
    body = bodies[number - 1]
    issued = {"name": event.actor, "role": event.actor_role, "at": _utc(event.timestamp)}
    expected = {"format": RECORD_FORMAT, **site, **body, "issued": issued}
    if set(record) - {"nonce"} != set(expected):
        extra = sorted(set(record) - set(expected) - {"nonce"})
        missing = sorted(set(expected) - set(record))
        return (
            f"its record of release {number} of {ref} has parts no record has ({extra}) "
            f"or lacks some ({missing})"
        )
    for part, words in _PARTS.items():
        if record[part] != body[part]:
            return (
                f"its record does not describe release {number} of {ref} as the ledger "
                f"recorded it: its {words} differs"
            )
    for part in ("format", *site):
        if record[part] != expected[part]:
            return f"its record names {part.replace('_', ' ')} {record[part]!r}, not the site's"
    said = (event.request_ref, event.release, event.recipient, event.release_inventory_sha256)
    if said != (ref, number, release["to"], release["inventory_sha256"]):
        # red team, session 22: the event's own fields (what `history` shows) named
        # another release and recipient than the record it keeps
        return (
            f"it says it is the record of release {event.release} of {event.request_ref} to "
            f"{event.recipient!r}, but the record it keeps is of release {number} of {ref} "
            f"to {release['to']!r}"
        )
    if record["issued"] != issued:
        return (
            f"its record says it was issued by {record['issued']}, but {event.actor} "
            f"({event.actor_role}) recorded it at {issued['at']}"
        )
    return None


__all__ = [
    "RECORD_FORMAT",
    "DisclosureRecord",
    "build_record",
    "record_digest",
    "record_id",
    "record_body",
    "record_problem",
    "request_at_release",
]
