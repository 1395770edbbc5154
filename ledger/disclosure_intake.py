"""Disclosure intake: a request is opened and routed to the Director at once, and what
comes with it is recorded — a court order, counsel's review, an officer's emergency
representations, a FOIA extension (R3-R6, R20, R22). Deciding and releasing are in
``ledger.disclosure_commands``.

Each refused step is recorded (``refuse``) and raises ``NotPermitted`` naming its rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from ledger import foia, policy, sitetime
from ledger import rules as r
from ledger.disclosure_queries import DisclosureQueries
from ledger.domain import Actor
from ledger.errors import InvalidInput, NotFound
from ledger.footage_policy import CLAIM_TOLERANCE
from ledger.staff import StaffMember, staff_id
from ledger.suggestions import did_you_mean
from ledger.text import DESCRIPTION, NAME, REASON, REFERENCE, card_number_in, clean_text

# What a court order's scan says, as transcribed (``record_court_order``): the same scan
# recorded on two requests must say the same (``order_scan_conflict``).
ORDER_TRANSCRIPTION = ("kind", "signed_by_judge", "court", "judge", "case", "issued",
                       "scope_records", "scope_fields", "scope_patrons", "scope_from",
                       "scope_to", "exclude_records", "exclude_fields")  # fmt: skip

# How long before it is recorded an order may say it was issued: ten years (leap days
# included). A search warrant is executed within 96 hours of its issue (725 ILCS
# 5/108-6) and a subpoena names the day to answer it; an order brought to the library
# months or a few years after it was issued is possible (a long case), a decade after is
# not. An issued date further back is a slip ("1850-01-01", "2006" for "2026"), refused
# as bad input: the order's date is what the register and a court read of it. (The tests
# and the demo issue orders the day before they are served.)
ORDER_ISSUED_WITHIN = timedelta(days=3653)

# ledger.disclosure (and ledger.patrons) are imported where they are used: a command
# that touches no request (a footage act) does not build their event classes (issue 16).


class _Footage(Protocol):
    """What disclosures use of the footage feature (``ledger.footage_commands``, ``_queries``)."""

    def prepare_hold(
        self,
        segments: Sequence[str],
        *,
        kind: str,
        reason: str,
        reference: str,
        who: Actor,
        now: datetime,
        review_by: datetime | None = None,
    ) -> tuple[str, list[Any]]: ...

    def segment_info(self, segment_id: str) -> Any: ...

    def check_kept(self, segment_id: str, now: datetime) -> policy.Decision: ...


@dataclass(frozen=True)
class OrderScope:
    """A court order's scope as entered from the document (R7): every release is checked
    against these items, never against the order's free text."""

    patron_cards: Sequence[str] = ()
    records: Sequence[str] = ()
    fields: Sequence[str] = ()
    date_from: date | None = None
    date_to: date | None = None
    exclude_records: Sequence[str] = ()
    exclude_fields: Sequence[str] = ()


def _check_scope(scope: OrderScope) -> None:
    from ledger.disclosure import RECORD_CLASSES

    classes = set(RECORD_CLASSES) | {"non_patron"}
    bad = [c for c in [*scope.records, *scope.exclude_records] if c not in classes]
    bad += [f for f in [*scope.fields, *scope.exclude_fields] if f not in policy.FIELD_CLASS]
    if bad:
        raise InvalidInput(f"unknown record class or field in the scope: {', '.join(bad)}")
    if not scope.records and not scope.fields:
        raise InvalidInput(
            "the scope names no record class or field; enter what the order names, e.g. "
            "--scope-records registration --scope-fields titles"
        )
    covered = set(scope.records) | {policy.FIELD_CLASS[f] for f in scope.fields}
    if covered & policy.PATRON_CLASSES and not scope.patron_cards:
        raise InvalidInput(
            "the scope orders patron records but names no patron: enter each card number "
            "the order names with --scope-patron CARD"
        )
    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        raise InvalidInput("the scope's dates end before they begin")


def nonblank(
    value: str | None, what: str, kind: str = NAME, *, no_card_numbers: bool | None = None
) -> str:
    """The text with its whitespace collapsed; InvalidInput (naming it) if nothing is left,
    or if it holds control characters, is too long for its ``kind`` or (with
    ``no_card_numbers``) looks like it holds a card number (``ledger.text``)."""
    return clean_text(value, kind=kind, what=what, no_card_numbers=no_card_numbers)


def optional(
    value: str | None, what: str, kind: str, *, no_card_numbers: bool | None = None
) -> str:
    return clean_text(value, kind=kind, what=what, required=False, no_card_numbers=no_card_numbers)


# A date of birth named as such in a file name (session 20: "... DOB 1990-01-02.pdf" was
# refused only for the card number beside it; without one it was recorded).
_BIRTH = re.compile(
    r"(?<![^\W_])(?:d\.?o\.?b\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|born)(?![^\W_])",
    re.IGNORECASE,
)


def scan_name(name: str | None, what: str) -> str:
    """A scan's file name as recorded: kept in clear, in the ledger for good, like any free
    text, so never what looks like a card number (red team, session 18: a court order's
    upload named "Subpoena re Jane Q Patron card 21000123456789 DOB 1990-01-02.pdf" was
    recorded word for word, beyond the reach of ``patron forget``), nor a date of birth
    named as such ("DOB", "date of birth": session 20). Only these can be told from the
    name; a patron's name cannot, as in every free text."""
    text = optional(name, what, REFERENCE, no_card_numbers=False)
    if (card := card_number_in(text)) is not None:
        raise InvalidInput(
            f"{what} holds what looks like a library card number ({card[:2]}…{card[-2:]}, "
            "eight digits or more). The file's name is kept in clear in the ledger, where "
            "`patron forget` cannot erase it: rename the file without patron details (a "
            "date or a time is fine: order-2026-114.pdf, Scan_20261205_143210.pdf) and "
            "choose it again; nothing was recorded"
        )
    if (birth := _BIRTH.search(text)) is not None:
        raise InvalidInput(
            f"{what} names a date of birth ({birth.group()!r}): the file's name is kept in "
            "clear in the ledger, where `patron forget` cannot erase it. Rename the file "
            "without patron details (order-2026-114.pdf) and choose it again; nothing was "
            "recorded"
        )
    return text


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
        received_at: datetime | None = None,
    ) -> str:
        """Record a request, route it to the Director; on the FOIA path start the clock and
        hold the responsive footage. Returns the request reference (``R-2026-0001``).
        ``received_at``: when the library received it, if before it is entered (a letter
        opened yesterday): the FOIA clock runs from receipt (5 ILCS 140/3(d)), and when
        it reached the Director is still when it was entered (R3)."""
        from ledger.disclosure import RECORD_CLASSES, REQUESTER_KINDS, Request, request_id
        from ledger.patrons import PatronDetails

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
        patron_name = optional(
            patron_name, "the patron's name (--patron-name)", NAME, no_card_numbers=False
        )
        patron_address = optional(patron_address, "the patron's address", REFERENCE)
        patron_phone = optional(patron_phone, "the patron's phone", REFERENCE)
        if (minor or patron_name or patron_address or patron_phone) and not patron_card:
            raise InvalidInput("--minor and patron details need the patron's card (--patron)")
        if guardianship and requester_kind != "parent_guardian":
            raise InvalidInput("--guardianship applies only to a parent_guardian request")
        if guardianship and policy.guardianship_document(guardianship) is None:
            raise InvalidInput(
                f"how guardianship was confirmed ({guardianship!r}) must begin with the "
                "document seen, one of: " + "; ".join(policy.GUARDIANSHIP_DOCUMENTS.values())
            )
        # Every text checked before the patron's key is written (red team, session 22: a
        # description refused after it left the key of a patron never recorded).
        requester = nonblank(requester, "the requester")
        confirmed = optional(
            guardianship, "how guardianship was confirmed", REASON, no_card_numbers=True
        )
        case_number = optional(case_number, "the case number", REFERENCE)
        description = nonblank(description, "the description", DESCRIPTION, no_card_numbers=True)
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
        if received_at is not None:
            if received_at > now + CLAIM_TOLERANCE:
                self.refuse(
                    who, "request open", r.CLAIMED_TIMES,
                    "the request's received time is in the future; check --received-at",
                )  # fmt: skip
            if received_at < self.site().created_on:
                raise InvalidInput(
                    "the request's received time is before this ledger began; check --received-at"
                )
        received = min(received_at or now, now)
        segments = sorted(set(footage))
        for seg in segments:
            self._footage().segment_info(seg)  # NotFound for an unknown segment
        ref = self._next_ref(now)
        foia_path = requester_kind == "public"
        hold: tuple[str, list[Any]] | None = None
        if foia_path and segments:
            # R14/R20: the responsive footage is held while the request is pending; checked
            # (a purged segment cannot be held) before anything is recorded.
            hold = self._footage().prepare_hold(
                segments,
                kind="foia",
                reason=f"FOIA request {ref} pending ({r.FOIA_PRESERVE.cite()})",
                reference=ref,
                who=who,
                now=now,
            )
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
            requester=requester,
            received_by=receiver.name,
            records=records,
            patron=pseudo,
            minor=minor,
            guardianship=confirmed or None,
            footage=segments,
            case_number=case_number or None,
            description=description,
            **{**common, "occurred_at": received_at and received},
        )
        request.trigger_event(Request.RequestRoutedToDirector, director=director, **common)
        if foia_path:
            zone = self.site().zone
            params = self.policy_params(now)
            request.trigger_event(
                Request.FoiaClockStarted,
                received_at=received,
                due_at=foia.foia_deadline(received, zone, extended=False, params=params),
                extended_due_at=foia.foia_deadline(received, zone, extended=True, params=params),
                **common,
            )
        if hold is not None:
            hold_id, held = hold
            request.trigger_event(
                Request.PreservationHoldLinked, hold_id=hold_id, segments=segments, **common
            )
            to_save += held
        self.save(*to_save, request)  # one act: the request, its patron, clock and hold
        return ref

    # ---- legal basis (R6, R8) -------------------------------------------------------------

    def _scan_elsewhere(self, request: Any, cls: type, field: str, sha256: str) -> list[Any]:
        """The events of ``cls`` on other requests whose ``field`` is this scan's SHA-256,
        each request's last only (a later one corrects it): a document recorded as the
        basis of another request (``_events_seen``: these events are few and kept between
        calls)."""
        last = {e.originator_id: e for e in self._events_seen(cls)}
        return [
            e
            for e in last.values()
            if getattr(e, field) == sha256 and e.originator_id != request.id
        ]

    def order_scan_conflict(self, request: Any) -> str | None:
        """Why the request's court order cannot be relied on while its scan reads otherwise
        on another request, or None. One scan is one order: where the same scan is
        transcribed differently (its patrons, kind, case, dates or scope), at most one of
        them is right, and nothing is decided or released on either until they agree (red
        team, session 17: one scan was recorded as an order naming patron A, one naming
        patron B and a warrant in a 2019 case, each released). Checked at the decision and
        the release, not when an order is recorded, so a transcription can always be
        corrected (a check there locked two requests with the same typo out for good)."""
        from ledger.disclosure import Request

        order = request.court_order
        if order is None:
            return None
        for other in self._scan_elsewhere(
            request, Request.CourtOrderRecorded, "document_sha256", order["document_sha256"]
        ):
            differs = sorted(k for k in ORDER_TRANSCRIPTION if getattr(other, k) != order[k])
            if differs:
                return (
                    f"its court order's scan (sha256 {order['document_sha256'][:16]}) is "
                    f"recorded on {self._ref_of(other)} with another {', '.join(differs)}: one "
                    "document is one order. Correct the one transcribed wrong (custodes "
                    "request court-order), or record the scan of the order served for this "
                    "request"
                )
        return None

    def _ref_of(self, event: Any) -> str:
        from ledger.disclosure import Request

        other = self._get(Request, event.originator_id)
        return str(other.ref) if other is not None else "another request"

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
        scope: OrderScope,
        document_name: str,
        document_sha256: str,
        actor: str,
        scope_note: str = "",
        nondisclosure: str = "",
    ) -> None:
        """Record the order and its structured scope (R6, R7); ``scope_note`` keeps the
        order's own words, ``nondisclosure`` any nondisclosure order served with it."""
        from ledger.disclosure import ORDER_KINDS, ORDER_REQUESTERS, Request

        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request court-order", (), r.LRCA_COURT_ORDER, subject=request.ref
        )
        document_name = scan_name(document_name, "the scan's file name")
        if kind not in ORDER_KINDS:
            raise InvalidInput(f"unknown document kind {kind!r}; choose {', '.join(ORDER_KINDS)}")
        if issued < now - ORDER_ISSUED_WITHIN:
            # red team, session 22: an order "issued 1850-01-01" was recorded
            raise InvalidInput(
                f"the order's issued date ({sitetime.show_date(issued, self.site().zone)}) is "
                "more than ten years before today: check --issued, the date the order was "
                "signed as the document states it; nothing was recorded"
            )
        if served_at < issued:
            # a claim like any other time a person states (R26): refused and recorded, as
            # IDENTITY.md says (red team, session 13: it was bad input, not recorded)
            self.refuse(
                who,
                "request court-order",
                r.CLAIMED_TIMES,
                "the order was served before it was issued; check --issued and --served-at",
                subject=request.ref,
            )
        if max(issued, served_at) > now + CLAIM_TOLERANCE:
            self.refuse(
                who,
                "request court-order",
                r.CLAIMED_TIMES,
                "the order's issued or served time is in the future; check --issued and "
                "--served-at",
                subject=request.ref,
            )
        _check_scope(scope)
        if request.decision is not None and request.releases:
            raise InvalidInput(f"{request.ref} has releases already; open a new request")
        if not request.takes_court_order:
            kinds = ", ".join(k.replace("_", " ") for k in ORDER_REQUESTERS)
            self.refuse(
                who, "request court-order", r.LRCA_COURT_ORDER,
                f"{request.ref} is a {request.requester_kind.replace('_', ' ')} request"
                f"{' under FOIA' if request.foia is not None else ''}; a court order is "
                f"recorded on a request of its own, opened for whoever served it (custodes "
                f"request open --requester-kind {'|'.join(ORDER_REQUESTERS)} ...: {kinds})",
                subject=request.ref,
            )  # fmt: skip
        request.trigger_event(
            Request.CourtOrderRecorded,
            kind=kind,
            signed_by_judge=signed_by_judge,
            court=nonblank(court, "the court"),
            judge=nonblank(judge, "the judge"),
            case=nonblank(case, "the case number", REFERENCE),
            issued=issued,
            served_at=served_at,
            served_by=nonblank(served_by, "who served the order"),
            scope=optional(scope_note, "the scope note", DESCRIPTION, no_card_numbers=True),
            scope_records=sorted(set(scope.records)),
            scope_fields=sorted(set(scope.fields)),
            scope_patrons=sorted({self._pseudonym(c) for c in scope.patron_cards}),
            scope_from=scope.date_from.isoformat() if scope.date_from else None,
            scope_to=scope.date_to.isoformat() if scope.date_to else None,
            exclude_records=sorted(set(scope.exclude_records)),
            exclude_fields=sorted(set(scope.exclude_fields)),
            document_name=document_name,
            document_sha256=document_sha256,
            nondisclosure=optional(
                nondisclosure, "the nondisclosure terms", DESCRIPTION, no_card_numbers=True
            ),
            **self._common(who, now),
        )
        self.save(request)

    def extend_foia(self, ref: str, *, reason: str, actor: str) -> datetime:
        """Take the one FOIA extension (5 ILCS 140/3(e)): Director only, before the first
        deadline, with the reason the requester is told. Returns the new deadline."""
        from ledger.disclosure import Request

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
            reason=nonblank(
                reason,
                "the reason given to the requester (--reason)",
                REASON,
                no_card_numbers=True,
            ),  # fmt: skip
            **self._common(who, now),
        )
        self.save(request)
        return foia["extended_due_at"]

    def record_counsel_review(self, ref: str, *, result: str, notes: str, actor: str) -> None:
        from ledger.disclosure import Request

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
            notes=optional(notes, "counsel's notes", REASON, no_card_numbers=True),
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
        signed_form_sha256: str,
        signed_form_name: str,
        actor: str,
        printed_form_sha256: str | None = None,
    ) -> dict[str, Any]:
        """Record the officer's signed Appendix 9 form, transcribed from its scan (R8-R10):
        the officer's identity and the four representations are those on the form. The
        fields the request asks for that an emergency request may not obtain are refused
        here, by name (R9). ``printed_form_sha256``: the SHA-256 of the form as Custodes
        prints it now (the same form prints the same bytes); a "signed form" that is
        that very file is the unsigned printout, refused and recorded. Returns the
        request's view."""
        from ledger.disclosure import ROLES_SOUGHT, Request

        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request emergency", (), r.LRCA_EMERGENCY_REPRESENTATIONS, subject=request.ref,
        )  # fmt: skip
        signed_form_name = scan_name(signed_form_name, "the signed form's file name")
        if len(signed_form_sha256) != 64 or not set(signed_form_sha256) <= set("0123456789abcdef"):
            self.refuse(
                who, "request emergency", r.LRCA_EMERGENCY_FORM,
                "the officer's signed Appendix 9 form must be scanned and recorded "
                f"(print it with: custodes request form {request.ref} --out FILE)",
                subject=request.ref,
            )  # fmt: skip
        if printed_form_sha256 is not None and signed_form_sha256 == printed_form_sha256:
            self.refuse(
                who, "request emergency", r.LRCA_EMERGENCY_FORM,
                "the file given as the signed form is the form as Custodes printed it, not "
                "signed: the officer completes and signs the printout, and the scan of that "
                "is recorded",
                subject=request.ref,
            )  # fmt: skip
        if request.emergency is not None:
            raise InvalidInput(f"{request.ref} has its signed Appendix 9 form recorded already")
        for other in self._scan_elsewhere(
            request, Request.EmergencyRequestRecorded, "signed_form_sha256", signed_form_sha256
        ):
            # Red team (session 17): one officer's signed form was the basis of two
            # requests about two patrons.
            self.refuse(
                who, "request emergency", r.LRCA_EMERGENCY_FORM,
                f"this scan is the signed Appendix 9 form of {self._ref_of(other)}: each "
                "request has its own form, printed for it and signed by the officer",
                subject=request.ref,
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
        refused = policy.emergency_intake_refusals(
            request.facts().fields,
            request.case_number,
            frozenset(self.policy_params().emergency_releasable_fields),
        )
        request.trigger_event(
            Request.EmergencyRequestRecorded,
            signed_form_sha256=signed_form_sha256,
            signed_form_name=signed_form_name,
            refused_at_intake=[
                {"field": f, "rule_id": d.rule.id, "reason": d.reason} for f, d in refused
            ],
            officer_name=nonblank(officer_name, "the officer's name"),
            officer_rank=optional(officer_rank, "the officer's rank", NAME),
            badge_number=nonblank(badge_number, "the badge number", REFERENCE),
            agency=nonblank(agency, "the agency"),
            agency_phone=optional(agency_phone, "the agency's phone", REFERENCE),
            id_examined=id_examined,
            sworn_officer=sworn_officer,
            court_order_impractical=court_order_impractical,
            imminent_danger=imminent_danger,
            identification_purpose=identification_purpose,
            role_sought=role_sought or "",
            emergency_description=nonblank(
                emergency_description,
                "the emergency's description",
                DESCRIPTION,
                no_card_numbers=True,
            ),  # fmt: skip
            **self._common(who, now),
        )
        self.save(request)
        return self.request_view(request.ref)

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
