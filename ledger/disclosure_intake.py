"""Disclosure intake: a request is opened and routed to the Director at once, and what
comes with it is recorded — a court order, counsel's review, an officer's emergency
representations, a FOIA extension (R3-R6, R20, R22). Deciding and releasing are in
``ledger.disclosure_commands``.

Each refused step is recorded (``refuse``) and raises ``NotPermitted`` naming its rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from ledger import foia, policy, sitetime
from ledger import rules as r
from ledger.disclosure import (
    ORDER_KINDS,
    RECORD_CLASSES,
    REQUESTER_KINDS,
    ROLES_SOUGHT,
    Request,
    request_id,
)
from ledger.disclosure_queries import DisclosureQueries
from ledger.domain import Actor
from ledger.errors import InvalidInput, NotFound
from ledger.footage_policy import CLAIM_TOLERANCE
from ledger.patrons import PatronDetails
from ledger.staff import StaffMember, staff_id
from ledger.suggestions import did_you_mean

_WORD = re.compile(r"[a-z_]+")


class _Footage(Protocol):
    """What disclosures use of the footage feature (``ledger.footage_commands``, ``_queries``)."""

    def place_hold(
        self,
        segments: Sequence[str],
        *,
        kind: str,
        reason: str,
        reference: str,
        actor: str,
        review_by: datetime | None = None,
    ) -> str: ...

    def segment_info(self, segment_id: str) -> Any: ...


def parse_scope(text: str) -> tuple[list[str], list[str]]:
    """The record classes and field names a court order's scope text names (R6, R7):
    ``"registration, circulation for card 1234, Oct 2026"`` -> registration, circulation."""
    words = set(_WORD.findall(text.casefold().replace("-", "_")))
    classes = sorted(words & (set(RECORD_CLASSES) | {"non_patron"}))
    fields = sorted(words & set(policy.FIELD_CLASS))
    return classes, fields


def nonblank(value: str | None, what: str) -> str:
    """The text with its whitespace collapsed; InvalidInput (naming it) if nothing is left."""
    value = " ".join((value or "").split())
    if not value:
        raise InvalidInput(f"{what} is empty")
    return value


class DisclosureIntake(DisclosureQueries):
    # ---- intake (R3, R20, R22) -------------------------------------------------------------

    def open_request(
        self,
        *,
        requester_kind: str,
        requester: str,
        received_by: str,
        records: Sequence[str],
        description: str,
        actor: str,
        patron_card: str | None = None,
        patron_name: str = "",
        patron_address: str = "",
        patron_phone: str = "",
        minor: bool = False,
        guardianship: str | None = None,
        footage: Sequence[str] = (),
        case_number: str | None = None,
    ) -> str:
        """Record a request, route it to the Director; on the FOIA path start the clock and
        hold the responsive footage. Returns the request reference (``R-2026-0001``)."""
        now = self.clock()
        who = self.authorize(actor, "request open", (), r.POLICY_DIRECTOR_DECIDES)
        if requester_kind not in REQUESTER_KINDS:
            raise InvalidInput(f"unknown requester kind {requester_kind!r}")
        records = sorted(set(records))
        bad = [c for c in records if c not in RECORD_CLASSES]
        if not records or bad:
            raise InvalidInput(
                f"unknown record class(es) {', '.join(bad) or '(none given)'}; "
                f"choose from {', '.join(RECORD_CLASSES)}"
            )
        if footage and "footage" not in records:
            raise InvalidInput("--footage names segments but --records does not include footage")
        if (minor or patron_name or patron_address or patron_phone) and not patron_card:
            raise InvalidInput("--minor and patron details need the patron's card (--patron)")
        if guardianship and requester_kind != "parent_guardian":
            raise InvalidInput("--guardianship applies only to a parent_guardian request")
        receiver = self._get(StaffMember, staff_id(received_by))
        if receiver is None or not receiver.active:
            hint = (
                ""
                if receiver
                else did_you_mean(received_by, (m.name for m in self.staff() if m.active))
            )
            raise NotFound(
                f"--received-by {received_by!r} is not an active staff member. "
                + (hint or "See who is with: custodes staff list")
            )
        director = self._director(who)
        segments = sorted(set(footage))
        for seg in segments:
            self._footage().segment_info(seg)  # NotFound for an unknown segment
        ref = self._next_ref(now)
        common = dict(actor=who.name, actor_role=who.role, occurred_at=None, timestamp=now)
        pseudo = None
        to_save: list[Any] = []
        if patron_card:
            patron = self._patron_for(
                patron_card, PatronDetails("", patron_name, patron_address, patron_phone), who, now
            )
            pseudo = patron.pseudonym
            to_save.append(patron)
        request = Request._create(
            Request.RequestOpened,
            id=request_id(ref),
            ref=ref,
            requester_kind=requester_kind,
            requester=nonblank(requester, "the requester"),
            received_by=receiver.name,
            records=records,
            patron=pseudo,
            minor=minor,
            guardianship=(guardianship or "").strip() or None,
            footage=segments,
            case_number=(case_number or "").strip() or None,
            description=nonblank(description, "the description"),
            **common,
        )
        request.trigger_event(Request.RequestRoutedToDirector, director=director, **common)
        if requester_kind == "public":
            zone = self.site().zone
            request.trigger_event(
                Request.FoiaClockStarted,
                received_at=now,
                due_at=foia.foia_deadline(now, zone, extended=False),
                extended_due_at=foia.foia_deadline(now, zone, extended=True),
                **common,
            )
        self.save(*to_save, request)
        if request.foia is not None and segments:
            # R14/R20: responsive footage is held from purge while the request is pending.
            hold = self._footage().place_hold(
                segments,
                kind="foia",
                reason=f"FOIA request {ref} pending ({r.FOIA_PRESERVE.cite()})",
                reference=ref,
                actor=who.name,
            )
            request.trigger_event(
                Request.PreservationHoldLinked, hold_id=hold, segments=segments, **common
            )
            self.save(request)
        return ref

    # ---- legal basis (R6, R8) -------------------------------------------------------------

    def record_court_order(
        self,
        ref: str,
        *,
        kind: str,
        signed_by_judge: bool,
        court: str,
        judge: str,
        case: str,
        issued: datetime,
        served_at: datetime,
        served_by: str,
        scope: str,
        document_name: str,
        document_sha256: str,
        actor: str,
        nondisclosure: str = "",
    ) -> None:
        """``nondisclosure``: any nondisclosure order served with it (R6), as its terms."""
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request court-order", (), r.LRCA_COURT_ORDER, subject=request.ref
        )
        if kind not in ORDER_KINDS:
            raise InvalidInput(f"unknown document kind {kind!r}; choose {', '.join(ORDER_KINDS)}")
        if served_at < issued:
            raise InvalidInput("the order was served before it was issued; check --served-at")
        if max(issued, served_at) > now + CLAIM_TOLERANCE:
            self.refuse(
                who,
                "request court-order",
                r.CLAIMED_TIMES,
                "the order's issued or served time is in the future; check --issued and "
                "--served-at",
                subject=request.ref,
            )
        classes, fields = parse_scope(scope)
        if not classes and not fields:
            raise InvalidInput(
                "the scope names no record class or field; name them, e.g. "
                "--scope 'registration, circulation for card 1234, October 2026'"
            )
        if request.decision is not None and request.releases:
            raise InvalidInput(f"{request.ref} has releases already; open a new request")
        request.trigger_event(
            Request.CourtOrderRecorded,
            kind=kind,
            signed_by_judge=signed_by_judge,
            court=nonblank(court, "the court"),
            judge=nonblank(judge, "the judge"),
            case=nonblank(case, "the case number"),
            issued=issued,
            served_at=served_at,
            served_by=nonblank(served_by, "who served the order"),
            scope=nonblank(scope, "the scope"),
            scope_records=classes,
            scope_fields=fields,
            document_name=document_name,
            document_sha256=document_sha256,
            nondisclosure=" ".join(nondisclosure.split()),
            **self._common(who, now),
        )
        self.save(request)

    def extend_foia(self, ref: str, *, reason: str, actor: str) -> datetime:
        """Take the one FOIA extension (5 ILCS 140/3(e)): Director only, before the first
        deadline, with the reason the requester is told. Returns the new deadline."""
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request foia-extend", ("director",), r.FOIA_CLOCK, subject=request.ref
        )
        foia = request.foia
        if not foia:
            raise InvalidInput(f"{request.ref} is not a FOIA request: it has no clock to extend")
        if foia.get("extended"):
            raise InvalidInput(f"{request.ref}'s FOIA clock was extended already (once only)")
        if now > foia["due_at"]:
            self.refuse(
                who, "request foia-extend", r.FOIA_CLOCK,
                f"the extension must be taken before the first deadline "
                f"({sitetime.show(foia['due_at'], self.site().zone)}), which has passed",
                subject=request.ref,
            )  # fmt: skip
        request.trigger_event(
            Request.FoiaExtensionTaken,
            reason=nonblank(reason, "the reason given to the requester (--reason)"),
            **self._common(who, now),
        )
        self.save(request)
        return foia["extended_due_at"]

    def record_counsel_review(self, ref: str, *, result: str, notes: str, actor: str) -> None:
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request counsel-review", ("counsel",), r.LRCA_COUNSEL_REVIEW, subject=request.ref,
        )  # fmt: skip
        if request.court_order is None:
            raise InvalidInput(
                f"{request.ref} has no court order to review; record it first with: "
                f"custodes request court-order {request.ref} ..."
            )
        if result not in ("sufficient", "defective"):
            raise InvalidInput("the result is sufficient or defective")
        if result == "defective" and not notes.strip():
            raise InvalidInput("say what is defective (--notes): R6 records defects")
        request.trigger_event(
            Request.CounselReviewRecorded,
            result=result,
            notes=notes.strip(),
            document_sha256=request.court_order["document_sha256"],
            **self._common(who, now),
        )
        self.save(request)

    def record_emergency(
        self,
        ref: str,
        *,
        officer_name: str,
        officer_rank: str,
        badge_number: str,
        agency: str,
        agency_phone: str,
        id_examined: bool,
        sworn_officer: bool,
        court_order_impractical: bool,
        imminent_danger: bool,
        identification_purpose: bool,
        role_sought: str | None,
        emergency_description: str,
        actor: str,
    ) -> None:
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request emergency", (), r.LRCA_EMERGENCY_REPRESENTATIONS, subject=request.ref,
        )  # fmt: skip
        if role_sought is not None and role_sought not in ROLES_SOUGHT:
            raise InvalidInput(f"the person sought is one of {', '.join(ROLES_SOUGHT)}")
        if request.requester_kind != "law_enforcement":
            self.refuse(
                who, "request emergency", r.LRCA_EMERGENCY_REPRESENTATIONS,
                f"{request.ref} is a {request.requester_kind.replace('_', ' ')} request; only "
                "a sworn law enforcement officer may make an emergency request",
                subject=request.ref,
            )  # fmt: skip
        reps = policy.EmergencyRepresentations(
            sworn_officer=sworn_officer,
            court_order_impractical=court_order_impractical,
            imminent_danger=imminent_danger,
            identification_purpose=identification_purpose,
            role_sought=role_sought,  # type: ignore[arg-type]
        )
        check = policy.check_emergency_representations(reps)
        if not check.allowed:
            self.refuse(who, "request emergency", check.rule, check.reason, subject=request.ref)
        request.trigger_event(
            Request.EmergencyRequestRecorded,
            officer_name=nonblank(officer_name, "the officer's name"),
            officer_rank=officer_rank.strip(),
            badge_number=nonblank(badge_number, "the badge number"),
            agency=nonblank(agency, "the agency"),
            agency_phone=agency_phone.strip(),
            id_examined=id_examined,
            sworn_officer=sworn_officer,
            court_order_impractical=court_order_impractical,
            imminent_danger=imminent_danger,
            identification_purpose=identification_purpose,
            role_sought=role_sought or "",
            emergency_description=nonblank(emergency_description, "the emergency's description"),
            **self._common(who, now),
        )
        self.save(request)

    # ---- helpers --------------------------------------------------------------------------

    def _footage(self) -> _Footage:
        return cast(_Footage, self)

    def _next_ref(self, now: datetime) -> str:
        prefix = f"R-{now.year}-"
        taken = sum(1 for ref in self.request_refs() if ref.startswith(prefix))
        return f"{prefix}{taken + 1:04d}"

    def _director(self, who: Actor) -> str:
        """R3: the request reaches the Director at once (the opener, if a Director)."""
        if who.role == "director":
            return who.name
        directors = [s.name for s in self.staff() if s.role == "director" and s.active]
        if not directors:
            raise InvalidInput("there is no active Director to route the request to")
        return directors[0]
