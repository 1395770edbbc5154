"""A disclosure request: intake, legal basis, the Director's decision, releases,
acknowledgement and follow-up (Policy V-A; 75 ILCS 70/1; 5 ILCS 140; R2-R11, R20).

The aggregate only records facts; what may be released is decided by the pure policy
engine (``ledger.policy``) from :meth:`Request.facts`, and the command methods in
``ledger.disclosure_commands`` check its decisions before any event is triggered.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from ledger.domain import LedgerAggregate, stable_id
from ledger.policy import (
    FIELD_CLASS,
    CourtOrderFacts,
    EmergencyRepresentations,
    RequestFacts,
)

REQUESTER_KINDS = ("law_enforcement", "court", "parent_guardian", "patron", "public", "other")
# Who serves a court order: a court, law enforcement, or another (a party's lawyer). A
# FOIA request, a guardian's or a patron's own is not one a court order is recorded on
# (red team, session 21: an order recorded on a FOIA request made it a court order's
# release, and staff emailed the patron's records to the newspaper that asked).
ORDER_REQUESTERS = ("law_enforcement", "court", "other")
RECORD_CLASSES = ("registration", "circulation", "fines_fees", "footage", "other_patron")
ORDER_KINDS = ("order", "warrant", "subpoena")
ROLES_SOUGHT = ("suspect", "witness", "victim")
REPRESENTATIONS = (
    "sworn_officer",
    "court_order_impractical",
    "imminent_danger",
    "identification_purpose",
)


def request_id(ref: str) -> Any:
    return stable_id("request", ref.strip().upper())


def fields_for(records: list[str]) -> frozenset[str]:
    """Every field the policy knows in the requested record classes (R1)."""
    return frozenset(f for f, cls in FIELD_CLASS.items() if cls in records)


class Request(LedgerAggregate):
    class RequestOpened(LedgerAggregate.Created):
        ref: str
        requester_kind: str
        requester: str
        received_by: str
        records: list[str]
        patron: str | None
        minor: bool
        guardianship: str | None
        footage: list[str]
        case_number: str | None
        description: str

    class RequestRoutedToDirector(LedgerAggregate.Event):
        # R3: who had the request, and when it reached the Director.
        director: str

        def apply(self, aggregate: Request) -> None:
            aggregate.routed_to = self.director
            aggregate.routed_at = self.timestamp

    class FoiaClockStarted(LedgerAggregate.Event):
        received_at: datetime
        due_at: datetime
        extended_due_at: datetime

        def apply(self, aggregate: Request) -> None:
            aggregate.foia = {
                "received_at": self.received_at,
                "due_at": self.due_at,
                "extended_due_at": self.extended_due_at,
            }

    class FoiaExtensionTaken(LedgerAggregate.Event):
        """The one 5-business-day extension (5 ILCS 140/3(e)), with the reason given to
        the requester."""

        reason: str

        def apply(self, aggregate: Request) -> None:
            aggregate.foia = {
                **(aggregate.foia or {}),
                "extended": True,
                "extension_reason": self.reason,
            }

    class PreservationHoldLinked(LedgerAggregate.Event):
        hold_id: str
        segments: list[str]

        def apply(self, aggregate: Request) -> None:
            aggregate.hold_id = self.hold_id

    class CourtOrderRecorded(LedgerAggregate.Event):
        kind: str
        signed_by_judge: bool
        court: str
        judge: str
        case: str
        issued: datetime
        served_at: datetime
        served_by: str
        scope: str  # the order's own words about its scope: a note only (R7)
        scope_records: list[str]
        scope_fields: list[str]
        scope_patrons: list[str]  # pseudonyms of the card numbers the order names
        scope_from: str | None  # ISO dates of the records it covers, inclusive
        scope_to: str | None
        exclude_records: list[str]
        exclude_fields: list[str]
        document_name: str
        document_sha256: str
        nondisclosure: str

        def apply(self, aggregate: Request) -> None:
            aggregate.court_order = {
                k: getattr(self, k)
                for k in [
                    "kind",
                    "signed_by_judge",
                    "court",
                    "judge",
                    "case",
                    "issued",
                    "served_at",
                    "served_by",
                    "scope",
                    "scope_records",
                    "scope_fields",
                    "scope_patrons",
                    "scope_from",
                    "scope_to",
                    "exclude_records",
                    "exclude_fields",
                    "document_name",
                    "document_sha256",
                    "nondisclosure",
                ]
            }
            aggregate.counsel_review = None  # a new (or cured) order is reviewed afresh

    class CounselReviewRecorded(LedgerAggregate.Event):
        result: str
        notes: str
        document_sha256: str

        def apply(self, aggregate: Request) -> None:
            aggregate.counsel_review = {
                "result": self.result,
                "notes": self.notes,
                "by": self.actor,
                "at": self.timestamp,
            }

    class EmergencyRequestRecorded(LedgerAggregate.Event):
        """The officer's signed Appendix 9 form, as transcribed from its scan (R10): the
        identity and the representations are the officer's, on the form."""

        signed_form_sha256: str
        signed_form_name: str
        refused_at_intake: list[dict[str, str]]  # field, rule_id, reason
        officer_name: str
        officer_rank: str
        badge_number: str
        agency: str
        agency_phone: str
        id_examined: bool
        sworn_officer: bool
        court_order_impractical: bool
        imminent_danger: bool
        identification_purpose: bool
        role_sought: str
        emergency_description: str

        def apply(self, aggregate: Request) -> None:
            aggregate.emergency = {
                k: v
                for k, v in self.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "policy_version")
            }

    class DisclosureDecided(LedgerAggregate.Event):
        # v2 (red-team H2): the digest of the facts decided on (``Request.facts_digest``);
        # a release goes ahead only while they are unchanged. A v1 decision has none.
        class_version = 2

        approved: bool
        reason: str
        basis: str
        allowed_fields: list[str]
        approved_footage: list[str]
        decisions: list[dict[str, Any]]
        facts_sha256: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["facts_sha256"] = None

        def apply(self, aggregate: Request) -> None:
            if aggregate.decision is not None:
                aggregate.earlier_decisions.append(aggregate.decision)
            aggregate.decision = {
                "approved": self.approved,
                "reason": self.reason,
                "basis": self.basis,
                "allowed_fields": list(self.allowed_fields),
                "approved_footage": list(self.approved_footage),
                "decisions": list(self.decisions),
                "facts_sha256": self.facts_sha256,
                "by": self.actor,
                "at": self.timestamp,
            }

    class DisclosureReleased(LedgerAggregate.Event):
        fields: list[str]
        footage: list[dict[str, str]]
        to: str
        recipient_badge: str  # the officer's badge, on the emergency path
        method: str
        period: list[str] | None  # [from, to]: the dates of the records released
        basis: str
        redacted: bool | None  # footage: every clip's faces blurred (None: no footage)
        inventory_sha256: str

        def apply(self, aggregate: Request) -> None:
            aggregate.releases.append(
                {
                    "fields": list(self.fields),
                    "footage": list(self.footage),
                    "to": self.to,
                    "recipient_badge": self.recipient_badge,
                    "method": self.method,
                    "period": self.period,
                    "basis": self.basis,
                    "redacted": self.redacted,
                    "inventory_sha256": self.inventory_sha256,
                    "by": self.actor,
                    "at": self.timestamp,
                }
            )

    class AcknowledgementRecorded(LedgerAggregate.Event):
        """The recipient's signed receipt (its scan's SHA-256) of the releases it names,
        by number. One recorded before session 22 names none: it acknowledges every
        release before it (a request then had one receipt, and a second emergency
        release could not be acknowledged: red team, session 21)."""

        signed_receipt_sha256: str
        releases: list[int] | None = None

        def apply(self, aggregate: Request) -> None:
            numbers = self.releases if self.releases is not None else aggregate.unacknowledged()
            receipt = {
                "signed_receipt_sha256": self.signed_receipt_sha256,
                "releases": list(numbers),
                "by": self.actor,
                "at": self.timestamp,
            }
            aggregate.acknowledgement = receipt
            aggregate.acknowledgements.append(receipt)

    class FollowUpOpened(LedgerAggregate.Event):
        # R11: after an emergency release the Director seeks judicial review or links a
        # later court order.
        reason: str

        def apply(self, aggregate: Request) -> None:
            aggregate.follow_up = {"state": "open", "opened_at": self.timestamp}

    class FollowUpResolved(LedgerAggregate.Event):
        resolution: str  # court_order | judicial_review_sought | closed
        court_order_request: str | None
        reason: str

        def apply(self, aggregate: Request) -> None:
            assert aggregate.follow_up is not None
            aggregate.follow_up = {
                **aggregate.follow_up,
                "state": "resolved",
                "resolution": self.resolution,
                "court_order_request": self.court_order_request,
                "reason": self.reason,
                "resolved_at": self.timestamp,
                "resolved_by": self.actor,
            }

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        ref: str,
        requester_kind: str,
        requester: str,
        received_by: str,
        records: list[str],
        patron: str | None,
        minor: bool,
        guardianship: str | None,
        footage: list[str],
        case_number: str | None,
        description: str,
    ) -> None:
        self.ref = ref
        self._received = occurred_at  # None: received when it was entered
        self.requester_kind = requester_kind
        self.requester = requester
        self.received_by = received_by
        self.entered_by = actor
        self.records = list(records)
        self.patron = patron
        self.minor = minor
        self.guardianship = guardianship
        self.footage = list(footage)
        self.case_number = case_number
        self.description = description
        self.routed_to: str | None = None
        self.routed_at: datetime | None = None
        self.foia: dict[str, Any] | None = None
        self.hold_id: str | None = None
        self.court_order: dict[str, Any] | None = None
        self.counsel_review: dict[str, Any] | None = None
        self.emergency: dict[str, Any] | None = None
        self.decision: dict[str, Any] | None = None
        # the decisions this one replaced, oldest first (red team, session 17: a denial
        # followed by an approval read as one approval everywhere but the history)
        self.earlier_decisions: list[dict[str, Any]] = []
        self.releases: list[dict[str, Any]] = []
        self.acknowledgement: dict[str, Any] | None = None  # the latest receipt
        self.acknowledgements: list[dict[str, Any]] = []  # every receipt, oldest first
        self.follow_up: dict[str, Any] | None = None

    @property
    def received_at(self) -> datetime:
        """When the library received it: as stated at intake, else when it was entered."""
        return self._received or self.created_on

    def facts_digest(self) -> str:
        """SHA-256 of the documents a decision rests on: the court order as recorded (its
        scan's hash and its scope), the officer's signed form, counsel's review. A decision
        keeps it; one of them recorded afterwards changes it, and nothing is released
        until the Director decides again on what is now before her (R3)."""
        documents = {
            "court_order": self.court_order,
            "emergency": self.emergency,
            "counsel_review": self.counsel_review,
        }
        text = json.dumps(documents, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def decision_state(self) -> str:
        """The register's word for the Director's decision: approved, denied, "released,
        denied" (a denial that stopped further releases: what was released went out on an
        earlier approval, or to a guardian), pending, or "not needed" when staff
        told a guardian a minor's fines and fees with no decision (R4: none is needed)."""
        if self.decision is not None:
            if self.decision["approved"]:
                return "approved"
            return "released, denied" if self.releases else "denied"
        if any(r.get("basis") == "guardian" for r in self.releases):
            return "not needed"
        return "pending"

    def decision_current(self) -> bool:
        """Whether the decision, if any, was made on the documents now recorded."""
        recorded = (self.decision or {}).get("facts_sha256")
        return recorded is None or recorded == self.facts_digest()

    def facts(self) -> RequestFacts:
        """What the policy engine needs to know, and nothing it does not."""
        order = None
        if self.court_order is not None:
            review = self.counsel_review["result"] if self.counsel_review else "pending"
            o = self.court_order
            order = CourtOrderFacts(
                kind=o["kind"],
                signed_by_judge=o["signed_by_judge"],
                counsel_review="sufficient"
                if review == "sufficient"
                else ("pending" if review == "pending" else "insufficient"),
                scope_record_classes=frozenset(o["scope_records"]),
                scope_fields=frozenset(o["scope_fields"]),
                scope_patrons=frozenset(o["scope_patrons"]),
                scope_from=date.fromisoformat(o["scope_from"]) if o["scope_from"] else None,
                scope_to=date.fromisoformat(o["scope_to"]) if o["scope_to"] else None,
                exclude_record_classes=frozenset(o["exclude_records"]),
                exclude_fields=frozenset(o["exclude_fields"]),
            )
        emergency = None
        if self.emergency is not None:
            e = self.emergency
            emergency = EmergencyRepresentations(
                sworn_officer=e["sworn_officer"],
                court_order_impractical=e["court_order_impractical"],
                imminent_danger=e["imminent_danger"],
                identification_purpose=e["identification_purpose"],
                role_sought=e["role_sought"] or None,
            )
        case = self.case_number or (self.court_order or {}).get("case") or None
        return RequestFacts(
            requester_kind=self.requester_kind,  # type: ignore[arg-type]
            fields=fields_for(self.records),
            minor=self.minor,
            court_order=order,
            emergency=emergency,
            guardianship_confirmation=self.guardianship,
            foia=self.foia is not None,
            investigation_case_number=case,
            patron=self.patron,
            refused_at_intake=frozenset(
                r["field"] for r in (self.emergency or {}).get("refused_at_intake", [])
            ),
        )

    @property
    def takes_court_order(self) -> bool:
        """Whether a court order is recorded, and released on, on this request: one
        opened for whoever served it (``ORDER_REQUESTERS``), never a FOIA request."""
        return self.requester_kind in ORDER_REQUESTERS and self.foia is None

    def unacknowledged(self) -> list[int]:
        """The releases (1-based) no signed receipt names yet (R10)."""
        done = {n for receipt in self.acknowledgements for n in receipt["releases"]}
        return [n for n in range(1, len(self.releases) + 1) if n not in done]

    def receipt_due(self) -> list[int]:
        """The releases a receipt covers unless told which: those waiting that went to the
        recipient of the first waiting (red team, session 22: one receipt covered every
        waiting release, a court clerk's the officer's too, and the officer's own could
        then never be recorded)."""
        waiting = self.unacknowledged()
        if not waiting:
            return []
        to = self.releases[waiting[0] - 1]["to"]
        return [n for n in waiting if self.releases[n - 1]["to"] == to]

    @property
    def released_fields(self) -> list[str]:
        return sorted({f for r in self.releases for f in r["fields"]})

    @property
    def released_footage(self) -> list[str]:
        return sorted({s["segment_id"] for r in self.releases for s in r["footage"]})

    @property
    def released_to(self) -> str | None:
        """Each recipient once, in the order released to, as the register lists them."""
        return "; ".join(dict.fromkeys(r["to"] for r in self.releases)) or None
