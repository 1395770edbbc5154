"""The policy engine: pure functions from plain facts to decisions.

No I/O, no clock (``now`` is passed in), standard library only. Each function returns a
:class:`Decision` naming the rule (id and source) that allowed or refused the act;
aggregates check a decision before triggering an event and record refusals too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, TypeVar

from ledger import rules as r
from ledger.rules import Rule

RequesterKind = Literal["law_enforcement", "court", "parent_guardian", "patron", "public", "other"]
RecordClass = Literal[
    "registration", "circulation", "fines_fees", "footage", "other_patron", "non_patron"
]
Role = Literal["director", "business_manager", "staff", "counsel"]
ROLES: frozenset[str] = frozenset({"director", "business_manager", "staff", "counsel"})

# Identifying fields are the only ones an emergency request may obtain (R9).
IDENTIFYING_FIELDS: frozenset[str] = frozenset({"name", "address", "phone", "card_number"})
FIELD_CLASS: Mapping[str, RecordClass] = {
    "name": "registration",
    "address": "registration",
    "phone": "registration",
    "card_number": "registration",
    "registration_record": "registration",
    "titles": "circulation",
    "holds": "circulation",
    "circulation_history": "circulation",
    "itemized_fines": "fines_fees",
    "fines_total": "fines_fees",
    "fees_total": "fines_fees",
    "computer_sessions": "other_patron",
    "program_signups": "other_patron",
    "reference_questions": "other_patron",
    "footage": "footage",
    "non_patron_record": "non_patron",
}
PATRON_CLASSES: frozenset[str] = frozenset(
    {"registration", "circulation", "fines_fees", "other_patron"}
)
# Amounts only: Policy V-A lets a guardian hear a minor's fines and fees, never titles.
GUARDIAN_FIELDS: frozenset[str] = frozenset({"fines_total", "fees_total"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: Rule
    reason: str

    def message(self) -> str:
        return f"{self.rule.cite()}: {self.reason}"


def _allow(rule: Rule, reason: str) -> Decision:
    return Decision(True, rule, reason)


def _refuse(rule: Rule, reason: str) -> Decision:
    return Decision(False, rule, reason)


# --- Facts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CourtOrderFacts:
    kind: Literal["order", "warrant", "subpoena"]
    signed_by_judge: bool
    counsel_review: Literal["pending", "sufficient", "insufficient"] = "pending"
    scope_record_classes: frozenset[str] = frozenset()
    scope_fields: frozenset[str] = frozenset()

    def covers(self, field: str) -> bool:
        return field in self.scope_fields or FIELD_CLASS.get(field) in self.scope_record_classes


@dataclass(frozen=True)
class EmergencyRepresentations:
    """The four Appendix 9 representations, each attested on its own (R8)."""

    sworn_officer: bool
    court_order_impractical: bool
    imminent_danger: bool
    identification_purpose: bool
    role_sought: Literal["suspect", "witness", "victim"] | None = None


REPRESENTATION_WORDING: Mapping[str, str] = {
    "sworn_officer": "the requester is a sworn law enforcement officer",
    "court_order_impractical": "it is impractical to secure a court order because of an emergency",
    "imminent_danger": "probable cause to believe there is an imminent danger of physical harm",
    "identification_purpose": "the information is requested only to identify a suspect, "
    "witness or victim",
}


@dataclass(frozen=True)
class RequestFacts:
    requester_kind: RequesterKind
    fields: frozenset[str]
    minor: bool = False
    court_order: CourtOrderFacts | None = None
    emergency: EmergencyRepresentations | None = None
    guardianship_confirmation: str | None = None  # how it was confirmed, e.g. "birth certificate"
    foia: bool = False
    investigation_case_number: str | None = None  # for footage to law enforcement (R17)


@dataclass(frozen=True)
class ReleasePlan:
    """Per requested field, the decision; ``scope_rule`` refuses anything beyond it."""

    basis: Literal["court_order", "emergency", "guardian", "foia", "investigation", "none"]
    scope_rule: Rule
    decisions: tuple[tuple[str, Decision], ...]

    def decision(self, field: str) -> Decision | None:
        return dict(self.decisions).get(field)

    @property
    def allowed_fields(self) -> frozenset[str]:
        return frozenset(f for f, d in self.decisions if d.allowed)

    @property
    def refused(self) -> dict[str, Decision]:
        return {f: d for f, d in self.decisions if not d.allowed}


# --- Emergency requests (R8, R9) ---------------------------------------------------------
def check_emergency_representations(rep: EmergencyRepresentations) -> Decision:
    missing = [w for k, w in REPRESENTATION_WORDING.items() if not getattr(rep, k)]
    if missing:
        return _refuse(
            r.LRCA_EMERGENCY_REPRESENTATIONS,
            "missing officer representation(s): " + "; ".join(missing),
        )
    if rep.role_sought is None:
        return _refuse(
            r.LRCA_EMERGENCY_REPRESENTATIONS,
            "the officer did not state whether a suspect, witness or victim is sought",
        )
    return _allow(r.LRCA_EMERGENCY_REPRESENTATIONS, "all four representations attested")


def _label(field: str) -> str:
    if FIELD_CLASS.get(field) == "circulation":
        return "circulation records"
    return field.replace("_", " ")


def _footage_for_law_enforcement(facts: RequestFacts) -> Decision:
    if (
        facts.requester_kind == "law_enforcement"
        and (facts.investigation_case_number or "").strip()
    ):
        return _allow(
            r.FOOTAGE_LE_ACTIVE_INVESTIGATION,
            f"footage may be shared for active investigation {facts.investigation_case_number}",
        )
    return _refuse(
        r.FOOTAGE_LE_ACTIVE_INVESTIGATION,
        "footage is shared with law enforcement only for an active investigation with a "
        "case number",
    )


def _court_order_field(order: CourtOrderFacts, field: str) -> Decision:
    # The LRCA's path (a)(1) is a court order. A subpoena (or anything else) not signed
    # by a judge is not one, whatever counsel thinks of it: refused outright.
    if not order.signed_by_judge:
        return _refuse(
            r.LRCA_COURT_ORDER,
            f"a {order.kind} not signed by a judge is not a court order; nothing is released",
        )
    if order.counsel_review != "sufficient":
        state = (
            "has not yet reviewed" if order.counsel_review == "pending" else "found insufficient"
        )
        return _refuse(r.LRCA_COUNSEL_REVIEW, f"counsel {state} the {order.kind}")
    if order.covers(field):
        return _allow(r.LRCA_COURT_ORDER_SCOPE, f"{field} is within the {order.kind}'s scope")
    return _refuse(r.LRCA_COURT_ORDER_SCOPE, f"{field} is outside the {order.kind}'s scope")


def _emergency_field(facts: RequestFacts, rep: EmergencyRepresentations, field: str) -> Decision:
    if facts.requester_kind != "law_enforcement":
        return _refuse(
            r.LRCA_EMERGENCY_REPRESENTATIONS,
            "only a sworn law enforcement officer may make an emergency request",
        )
    reps = check_emergency_representations(rep)
    if not reps.allowed:
        return reps
    if field in IDENTIFYING_FIELDS:
        return _allow(r.LRCA_EMERGENCY_SCOPE, f"{field} is an identifying field")
    if field == "footage":
        return _footage_for_law_enforcement(facts)
    return _refuse(
        r.LRCA_EMERGENCY_SCOPE, f"{_label(field)} may not be released on an emergency request"
    )


def _guardian_field(facts: RequestFacts, field: str) -> Decision:
    if not facts.minor:
        return _refuse(
            r.POLICY_MINOR_FINES, "a parent or guardian may be told only a minor's fines and fees"
        )
    if not (facts.guardianship_confirmation or "").strip():
        return _refuse(r.POLICY_MINOR_FINES, "how guardianship was confirmed is not recorded")
    if field in GUARDIAN_FIELDS:
        return _allow(r.POLICY_MINOR_FINES, f"{field} is a fines/fees amount")
    if FIELD_CLASS.get(field) in {"circulation", "fines_fees"}:
        return _refuse(
            r.POLICY_MINOR_FINES,
            f"{field.replace('_', ' ')} may not be given to a parent or guardian; "
            "fines and fees amounts only, no titles or circulation information",
        )
    return _refuse(
        r.POLICY_MINOR_FINES, f"{_label(field)} may not be given to a parent or guardian"
    )


def _foia_field(field: str) -> Decision:
    cls = FIELD_CLASS.get(field)
    if cls == "circulation":
        return _refuse(r.FOIA_7_5B, "circulation records are exempt from FOIA disclosure")
    if cls in PATRON_CLASSES:
        # Registration and other patron records: confidential under the LRCA and Policy
        # V-A, hence exempt as "prohibited from disclosure by State law".
        return _refuse(r.FOIA_7_1A, f"{_label(field)} is a confidential patron record")
    if cls == "footage":
        # The Director still chooses: release with identifiable people blurred (R19), or
        # withhold under 7(1)(c). Either way the response goes through FOIA-CLOCK.
        return _allow(
            r.FOIA_7_1C, "footage may be released with identifiable people redacted, or withheld"
        )
    if cls == "non_patron":
        return _allow(r.FOIA_PUBLIC_RECORD, "a non-patron record is a public record")
    return _refuse(r.POLICY_DENY_BY_DEFAULT, f"unknown field {field!r}")


def _no_basis(field: str) -> Decision:
    return _refuse(
        r.POLICY_DENY_BY_DEFAULT,
        f"no court order or emergency request covers {field.replace('_', ' ')}",
    )


def releasable_fields(facts: RequestFacts) -> ReleasePlan:
    """Decide, per requested field, what may be released and under which rule (R2, R4,
    R6-R9, R17, R20). Deny by default: a request with no recognised basis releases nothing."""
    fields = sorted(facts.fields)
    basis: Literal["court_order", "emergency", "guardian", "foia", "investigation", "none"]
    if facts.court_order is not None:
        order = facts.court_order
        basis, scope = "court_order", r.LRCA_COURT_ORDER_SCOPE
        decided = [(f, _court_order_field(order, f)) for f in fields]
    elif facts.emergency is not None:
        rep = facts.emergency
        basis, scope = "emergency", r.LRCA_EMERGENCY_SCOPE
        decided = [(f, _emergency_field(facts, rep, f)) for f in fields]
    elif facts.requester_kind == "parent_guardian":
        basis, scope = "guardian", r.POLICY_MINOR_FINES
        decided = [(f, _guardian_field(facts, f)) for f in fields]
    elif facts.requester_kind == "public" or facts.foia:
        basis, scope = "foia", r.FOIA_7_5B
        decided = [(f, _foia_field(f)) for f in fields]
    elif (
        facts.requester_kind == "law_enforcement"
        and "footage" in facts.fields
        and (facts.investigation_case_number or "").strip()
    ):
        # Policy V-B: recordings are shared with law enforcement for an active
        # investigation; patron records still need a court order or an emergency request.
        basis, scope = "investigation", r.FOOTAGE_LE_ACTIVE_INVESTIGATION
        decided = [
            (f, _footage_for_law_enforcement(facts) if f == "footage" else _no_basis(f))
            for f in fields
        ]
    else:
        basis, scope = "none", r.POLICY_DENY_BY_DEFAULT
        decided = [
            (
                f,
                _footage_for_law_enforcement(facts)
                if f == "footage" and facts.requester_kind == "law_enforcement"
                else _no_basis(f),
            )
            for f in fields
        ]
    unknown = {f for f in fields if f not in FIELD_CLASS}
    decided = [
        (f, _refuse(r.POLICY_DENY_BY_DEFAULT, f"unknown field {f!r}")) if f in unknown else (f, d)
        for f, d in decided
    ]
    return ReleasePlan(basis, scope, tuple(decided))


def check_release(
    plan: ReleasePlan,
    fields_to_release: Iterable[str],
    footage_ids: Iterable[str] = (),
    approved_footage: Iterable[str] = (),
) -> list[Decision]:
    """One decision per field and footage segment actually about to be released (R7, R9):
    anything the plan did not allow is refused under the plan's scope rule."""
    out: list[Decision] = []
    for field in sorted(set(fields_to_release)):
        planned = plan.decision(field)
        if planned is None:
            out.append(_refuse(plan.scope_rule, f"{field} was not requested or decided"))
        else:
            out.append(planned)
    # Footage segments are judged under the rule that decided footage in the plan.
    footage = plan.decision("footage")
    rule = footage.rule if footage is not None else plan.scope_rule
    approved = frozenset(approved_footage)
    for seg in sorted(set(footage_ids)):
        if footage is None or not footage.allowed:
            out.append(_refuse(rule, f"footage segment {seg} is not releasable"))
        elif seg not in approved:
            out.append(_refuse(rule, f"footage segment {seg} is not approved"))
        else:
            out.append(_allow(rule, f"footage segment {seg} is approved"))
    return out


# --- Staff (R3, R23) ---------------------------------------------------------------------
def check_actor(role: str, active: bool) -> Decision:
    if not active:
        return _refuse(r.STAFF_ACTIVE, "the staff member is not active")
    if role not in ROLES:
        return _refuse(r.STAFF_ROLE, f"unknown role {role!r}")
    return _allow(r.STAFF_ACTIVE, f"active {role}")


def check_decider(role: str) -> Decision:
    if role not in ROLES:
        return _refuse(r.STAFF_ROLE, f"unknown role {role!r}")
    if role != "director":
        return _refuse(
            r.POLICY_DIRECTOR_DECIDES,
            f"only the Director decides a disclosure request, not the {role.replace('_', ' ')}",
        )
    return _allow(r.POLICY_DIRECTOR_DECIDES, "the Director decides")


# --- FOIA clock (R20) --------------------------------------------------------------------
def _add_business_days(start: date, n: int, holidays: frozenset[date]) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            n -= 1
    return d


def foia_deadline(
    received: datetime, extended: bool, holidays: frozenset[date] = frozenset()
) -> datetime:
    """The last instant to respond to a FOIA request (5 ILCS 140/3(d), (e)).

    Convention: 3(d) gives "5 business days after [the request's] receipt", so the day of
    receipt is day 0 whatever the hour, and the count starts the next business day; a
    business day is Monday-Friday, not in ``holidays``. A request received on a weekend or
    holiday therefore counts from the next business day too. A 3(e) extension adds 5
    business days to the original due date. The deadline is the end of that day
    (23:59:59.999999) in ``received``'s time zone, which must be the site's zone.
    """
    if received.tzinfo is None:
        raise ValueError("received must be timezone-aware (site time zone)")
    due = _add_business_days(received.date(), 10 if extended else 5, holidays)
    return datetime.combine(due, time.max, tzinfo=received.tzinfo)


# --- Cameras and footage (R12-R17) ------------------------------------------------------
PRIVACY_ZONES: frozenset[str] = frozenset(
    {"restroom", "locker_room", "changing_room", "private_office"}
)
ARCHIVE_ROLES: frozenset[str] = frozenset({"director", "business_manager"})
Purpose = Literal[
    "incident_investigation",
    "safety",
    "law_enforcement_request",
    "legal_hold_review",
    "foia_review",
    "other",
]
PURPOSES: frozenset[str] = frozenset(
    {
        "incident_investigation",
        "safety",
        "law_enforcement_request",
        "legal_hold_review",
        "foia_review",
        "other",
    }
)
_STAFF = r"(?:staff|employees?|workers?|personnel|clerks?|co-?workers?|librarians?|shelvers?|pages)"
_EVAL = (
    r"(?:monitor\w*|watch\w*|evaluat\w*|apprais\w*|performance|productiv\w*|attendance"
    r"|punctual\w*|timekeeping|tardiness|late(?:ness)?|breaks?|disciplin\w*|conduct review"
    r"|doing (?:their|his|her) jobs?)"
)
_STAFF_MONITORING = re.compile(
    rf"\b{_STAFF}\b(?:\W+\w+){{0,5}}?\W+{_EVAL}|\b{_EVAL}(?:\W+\w+){{0,5}}?\W+{_STAFF}\b",
    re.IGNORECASE,
)


def mentions_staff_monitoring(text: str) -> bool:
    """True when a stated purpose reads as watching or evaluating staff (R16a). Errs on the
    side of refusing: a refusal is recorded and the viewer can restate a real purpose."""
    normal = text.replace("_", " ")
    return bool(_STAFF_MONITORING.search(normal))


def check_camera_zone(zone: str) -> Decision:
    if zone in PRIVACY_ZONES:
        return _refuse(
            r.CAMERA_PRIVACY_ZONE,
            f"no camera may be placed in a {zone.replace('_', ' ')}",
        )
    return _allow(r.CAMERA_PRIVACY_ZONE, f"{zone.replace('_', ' ')} is not a privacy zone")


def check_audio(has_audio: bool) -> Decision:
    if has_audio:
        return _refuse(
            r.CAMERA_NO_AUDIO, "footage carries an audio stream; audio is never recorded"
        )
    return _allow(r.CAMERA_NO_AUDIO, "no audio stream")


def check_signage(attested: bool) -> Decision:
    if not attested:
        return _refuse(r.CAMERA_SIGNAGE, "entrance signage for this camera is not attested")
    return _allow(r.CAMERA_SIGNAGE, "entrance signage attested")


def check_archive_access(
    role: str, recorded_end: datetime, now: datetime, live_window: timedelta = timedelta(hours=24)
) -> Decision:
    if now - recorded_end <= live_window:
        return _allow(r.FOOTAGE_ARCHIVE_ACCESS, "footage is within the live window")
    if role in ARCHIVE_ROLES:
        return _allow(
            r.FOOTAGE_ARCHIVE_ACCESS, f"archived footage, viewed by the {role.replace('_', ' ')}"
        )
    return _refuse(
        r.FOOTAGE_ARCHIVE_ACCESS,
        "archived footage may be viewed only by the Director or the Business Manager",
    )


def check_reason(reason: str | None, rule: Rule = r.FOOTAGE_VIEW_REASON) -> Decision:
    if not (reason or "").strip():
        return _refuse(rule, "a reason is required")
    return _allow(rule, "reason stated")


def check_view_purpose(purpose: str, text: str = "") -> Decision:
    """Purpose chosen from the list plus free text (R16, R16a); applies to viewing,
    exporting and flagging."""
    if mentions_staff_monitoring(f"{purpose} {text}"):
        return _refuse(
            r.FOOTAGE_NO_STAFF_MONITORING,
            "cameras are not used to monitor staff performance or to evaluate staff",
        )
    if purpose not in PURPOSES:
        return _refuse(r.FOOTAGE_VIEW_REASON, f"unknown purpose {purpose!r}")
    if purpose == "other" and not text.strip():
        return _refuse(r.FOOTAGE_VIEW_REASON, "purpose 'other' needs a stated reason")
    return _allow(r.FOOTAGE_VIEW_REASON, f"purpose {purpose.replace('_', ' ')}")


def check_law_enforcement_footage(case_number: str | None) -> Decision:
    return _footage_for_law_enforcement(
        RequestFacts(
            "law_enforcement", frozenset({"footage"}), investigation_case_number=case_number
        )
    )


HoldKind = Literal["legal_hold", "law_enforcement_preservation", "investigation", "foia"]


@dataclass(frozen=True)
class Hold:
    hold_id: str
    kind: HoldKind
    released_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.released_at is None or self.released_at > now


@dataclass(frozen=True)
class Flag:
    """Suspected misbehavior: kept until ``retain_until`` (None: until the flag is cleared)."""

    flag_id: str
    retain_until: datetime | None = None


@dataclass(frozen=True)
class Retention:
    base_deadline: datetime  # recording end + retention days
    keep_until: datetime | None  # None: kept indefinitely by an open-ended flag
    active_holds: tuple[str, ...]
    due: bool  # may (and must) be purged now


def retention_deadline(
    recorded_end: datetime,
    retention_days: int,
    flags: Iterable[Flag],
    holds: Iterable[Hold],
    now: datetime,
) -> Retention:
    """When footage falls due for purge (R13, R14). Flags extend retention; active holds
    block purge without changing the deadline."""
    base = recorded_end + timedelta(days=retention_days)
    keep: datetime | None = base
    for flag in flags:
        if flag.retain_until is None:
            keep = None
            break
        keep = max(keep, flag.retain_until) if keep else flag.retain_until
    active = tuple(sorted(h.hold_id for h in holds if h.active(now)))
    return Retention(base, keep, active, keep is not None and now >= keep and not active)


def check_purge(
    recorded_end: datetime,
    retention_days: int,
    flags: Iterable[Flag],
    holds: Iterable[Hold],
    now: datetime,
) -> Decision:
    ret = retention_deadline(recorded_end, retention_days, flags, holds, now)
    if ret.active_holds:
        return _refuse(
            r.FOOTAGE_HOLD_BLOCKS_PURGE,
            "active hold(s) block purge: " + ", ".join(ret.active_holds),
        )
    if ret.keep_until is None:
        return _refuse(r.FOOTAGE_RETENTION, "flagged footage is kept until the flag is cleared")
    if now < ret.keep_until:
        return _refuse(
            r.FOOTAGE_RETENTION, f"footage is retained until {ret.keep_until.isoformat()}"
        )
    return _allow(r.FOOTAGE_RETENTION, f"retention ended {ret.keep_until.isoformat()}")


def check_hold_release(role: str, reason: str | None) -> Decision:
    if role != "director":
        return _refuse(
            r.FOOTAGE_HOLD_RELEASE_DIRECTOR,
            f"only the Director may release a hold, not the {role.replace('_', ' ')}",
        )
    why = check_reason(reason, r.FOOTAGE_HOLD_RELEASE_DIRECTOR)
    return (
        why
        if not why.allowed
        else _allow(r.FOOTAGE_HOLD_RELEASE_DIRECTOR, "released by the Director")
    )


# --- Statistics (R5) ---------------------------------------------------------------------
K = TypeVar("K")


def suppress_small_cells(counts: Mapping[K, int], threshold: int = 5) -> dict[K, int | None]:
    """Suppress cells that could identify a patron (75 ILCS 70/1(b)): a count in
    1..threshold-1 becomes None. Zero is shown (common practice): a count of nobody
    identifies no one. The price is that a suppressed cell is known to hold at least one
    patron; callers who cannot accept that should suppress the row or coarsen categories."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    return {k: (None if 0 < n < threshold else n) for k, n in counts.items()}
