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

from datetime import UTC, datetime
from typing import Any

from ledger.domain import LedgerAggregate
from ledger.evidence import RECORD_FORMAT, record_digest, record_id


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


def build_record(
    view: dict[str, Any], number: int, *, library: str, log_origin: str, time_zone: str,
    issued_by: dict[str, str], issued_at: datetime, nonce: str,
) -> dict[str, Any]:  # fmt: skip
    """The record of release ``number`` (1-based) of the request ``view``
    (``Ledger.request_view``): plain JSON values, times in UTC."""
    release = view["releases"][number - 1]
    order, emergency = view.get("court_order"), view.get("emergency")
    basis: dict[str, Any] = {"basis": release["basis"]}
    if order is not None and release["basis"] == "court_order":
        review = view.get("counsel_review") or {}
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
    decision = view.get("decision")
    return {
        "format": RECORD_FORMAT,
        "library": library,
        "log_origin": log_origin,
        "time_zone": time_zone,  # the site's, in which record.txt shows the times
        "request": {
            "ref": view["ref"],
            "requester_kind": view["requester_kind"],
            "requester": view["requester"],
            "received_at": _utc(view["received_at"]),
            "records_asked": list(view["records"]),
            "case_number": view.get("case_number"),
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
            "period": release["period"],
            "redacted": release["redacted"],
            "by": release["by"],
            "at": _utc(release["at"]),
            "inventory_sha256": release["inventory_sha256"],
        },
        "issued": {**issued_by, "at": _utc(issued_at)},
        "nonce": nonce,
    }


def record_problem(event: Any, released: list[str]) -> str | None:
    """What is wrong with a recorded disclosure record (``custodes verify --deep``), or
    None: the record it keeps must be the one its id and digest commit to, and describe
    release ``number`` of its request as the ledger recorded it before (``released``: the
    inventory digests of that request's releases so far, in order)."""
    from ledger.disclosure_commands import inventory_digest

    record = getattr(event, "record", None)
    if not isinstance(record, dict):
        return "it keeps no disclosure record to check"
    digest = record_digest(record)
    if digest != event.record_digest or record_id(digest) != event.originator_id:
        return "the disclosure record it keeps is not the one its id commits to"
    release, ref = record["release"], record["request"]["ref"]
    number = release["number"]
    if not 1 <= number <= len(released):
        return f"it is the record of release {number} of {ref}, which the ledger does not hold"
    computed = inventory_digest(
        ref, release["fields"], release["footage"], release["to"], release["method"],
        redacted=release["redacted"], period=release["period"],
    )  # fmt: skip
    if computed != release["inventory_sha256"] or computed != released[number - 1]:
        return f"its record does not describe release {number} of {ref} as the ledger recorded it"
    return None


__all__ = [
    "RECORD_FORMAT",
    "DisclosureRecord",
    "build_record",
    "record_digest",
    "record_id",
    "record_problem",
]
