"""Disclosure queries: a request as plain data, its Appendix 9 form, the references taken.

Read-only but for refusals (a member refused is recorded, R23). The commands in
``ledger.disclosure_commands`` build on these (``_request``, ``request_refs``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ledger import policy, rules, sitetime
from ledger.errors import NotFound, NotPermitted
from ledger.patron_commands import PatronCommands
from ledger.reads import LIST_EVERY_REQUEST
from ledger.release_rules import EMERGENCY_WINDOW
from ledger.text import attempted

# ledger.disclosure and ledger.patrons are imported where they are used: a command that
# touches no request (a footage act) does not build their event classes (issue 16).
if TYPE_CHECKING:
    from ledger.disclosure import Request

# What `request show` prints for details whose key is gone with no `patron forget`.
MISSING_KEY = (
    "missing: the patron's key is gone but no `patron forget` is recorded; restore keys/ "
    "from your key backup (custodes verify lists it)"
)


# What a member who only took a request in reads for its patron's details.
SEALED_FOR_READER = (
    "sealed: the patron's details are shown to the Director, the Business Manager and counsel"
)


def _listing_roles() -> str:
    """'the director, the business manager and counsel': who list every request (not who
    read a request's record: ``READERS``)."""
    names = [r.replace("_", " ") for r in LIST_EVERY_REQUEST]
    names = [n if n == "counsel" else f"the {n}" for n in names]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


class DisclosureQueries(PatronCommands):
    def request_list_scope(self, actor: str) -> str | None:
        """Whose requests ``actor`` may list: None for every request (the members who
        read the disclosure register, ``LIST_EVERY_REQUEST``), else the member's own
        name: the requests they took in, by the signed actor who recorded the intake
        (R3, R27). An unknown or deactivated member is refused and recorded."""
        who = self.authorize(actor, "request list", (), rules.STAFF_ACTIVE)
        return None if who.role in LIST_EVERY_REQUEST else who.name

    def request_for(self, ref: str, *, actor: str, action: str) -> str:
        """The recorded reference of a request ``actor`` may know of: any request for the
        members who list them all, else one they took in (the scope of
        ``request_list_scope``, as ``custodes request list``). Any other reference is
        NotFound exactly as one that does not exist, so that trying references teaches a
        member nothing about which exist; when it exists, the refused attempt is
        recorded first (R23, R27)."""
        who = self.authorize(actor, action, (), rules.STAFF_ACTIVE)
        found = self._find_request(ref)
        if found is not None and (who.role in LIST_EVERY_REQUEST or found.entered_by == who.name):
            return str(found.ref)
        if found is not None:
            try:
                self.refuse(
                    who, action, rules.READ_CONFIDENTIAL,
                    f"{who.name} may not {attempted(action)} on {found.ref}: another member took it in, "
                    f"and only {_listing_roles()} list every request",
                    subject=found.ref,
                )  # fmt: skip
            except NotPermitted:
                pass  # recorded; answered as a reference that does not exist
        raise _no_request(ref)

    # ---- queries (plain data) -------------------------------------------------------------

    def request_view(self, ref: str) -> dict[str, Any]:
        from ledger.patrons import ERASED, MISSING

        q = self._request(ref)
        facts = self.facts_of(q)
        plan = policy.releasable_fields(facts)
        patron: dict[str, Any] | None = None
        if q.patron:
            details = self.patron_details(q.patron)
            state = self.patron_state(q.patron) if details is None else "present"
            patron = {
                "pseudonym": q.patron,
                "details": details if details else MISSING_KEY if state == MISSING else ERASED,
            }
        return {
            "ref": q.ref,
            "requester_kind": q.requester_kind,
            "requester": q.requester,
            "received_by": q.received_by,
            "received_at": q.received_at,
            "entered_by": q.entered_by,
            "routed_to": q.routed_to,
            "routed_at": q.routed_at,
            "records": q.records,
            "patron": patron,
            "minor": q.minor,
            "guardianship": q.guardianship,
            "footage": q.footage,
            "case_number": q.case_number,
            "description": q.description,
            "foia": q.foia,
            "hold_id": q.hold_id,
            "court_order": q.court_order,
            "takes_court_order": q.takes_court_order,
            "counsel_review": q.counsel_review,
            "emergency": q.emergency,
            # when an emergency release may no longer be made (``EMERGENCY_WINDOW``), and
            # whether that time has come
            "emergency_until": q.received_at + EMERGENCY_WINDOW if q.emergency else None,
            "emergency_closed": bool(q.emergency)
            and self.clock() > q.received_at + EMERGENCY_WINDOW,
            "plan": {
                "basis": plan.basis,
                "allowed_fields": sorted(plan.allowed_fields),
                "refused": {f: d.message() for f, d in sorted(plan.refused.items())},
                "refused_summary": _refused_summary(plan),
                # every requested field with the rule that allows or refuses it
                "decisions": [
                    {
                        "field": f,
                        "allowed": d.allowed,
                        "rule_id": d.rule.id,
                        "rule_source": d.rule.source,
                        "reason": d.reason,
                    }
                    for f, d in plan.decisions
                ],
            },
            "decision": q.decision,
            "earlier_decisions": q.earlier_decisions,
            "decision_current": q.decision_current(),
            "releases": q.releases,
            "acknowledgement": q.acknowledgement,
            "acknowledgements": q.acknowledgements,
            "unacknowledged": q.unacknowledged(),
            "receipt_due": q.receipt_due(),
            "follow_up": q.follow_up,
        }

    def read_request(self, ref: str, *, actor: str, detail: str = "") -> dict[str, Any]:
        """The request's record for a member who may read it; the read is recorded (R27).
        A member who reads it only because they took it in (not one of those who list
        every request) is not shown the patron's sealed details: they are the patron's,
        kept for every request about that card, and another request may have recorded
        them (red team, session 13: staff typed a card number alone into a new request
        and read the name and address an emergency request had recorded)."""
        q = self._request(ref)
        self.record_read("request", q.ref, actor=actor, detail=detail, may_also=q.entered_by)
        view = self.request_view(q.ref)
        patron = view.get("patron")
        if (
            patron is not None
            and isinstance(patron.get("details"), dict)
            and self.request_list_scope(actor) is not None  # lists only their own
        ):
            patron["details"] = SEALED_FOR_READER
        return view

    def read_appendix9(self, ref: str, *, actor: str) -> dict[str, Any]:
        """The Appendix 9 form filled from the request; the read is recorded (R27)."""
        q = self._request(ref)
        self.record_read("appendix9", q.ref, actor=actor, may_also=q.entered_by)
        return self.appendix9_form(q.ref)

    def appendix9_form(self, ref: str) -> dict[str, Any]:
        """The Appendix 9 form's fields, prefilled from the record (site time zone)."""
        from ledger.disclosure import fields_for

        q = self._request(ref)
        site = self.site()

        def local(t: datetime | None) -> str:
            return sitetime.show(t, site.zone)

        e = q.emergency or {}
        asked = sorted(fields_for(q.records))
        # What an emergency request may not obtain is refused at intake (R9, R10); the form
        # printed for the officer says so before anything is signed.
        refused_at_intake = policy.emergency_intake_refusals(
            asked, q.case_number, frozenset(self.policy_params().emergency_releasable_fields)
        )
        form: dict[str, Any] = {
            "form_id": q.ref,
            "library": site.library,
            "request_at": local(q.received_at),
            "release_at": local(q.releases[0]["at"]) if q.releases else "",
            "officer_name": e.get("officer_name", ""),
            "officer_rank": e.get("officer_rank", ""),
            "badge_number": e.get("badge_number", ""),
            "agency": e.get("agency", ""),
            "agency_phone": e.get("agency_phone", ""),
            "id_examined": e.get("id_examined"),
            "role_sought": e.get("role_sought", ""),
            "emergency_description": e.get("emergency_description", ""),
            "information_requested": f"{', '.join(_labels(asked))}. {q.description}",
            "information_refused": [f"{_label(f)} ({d.rule.id})" for f, d in refused_at_intake],
            "information_released": _labels(q.released_fields) if q.releases else "",
            "director_name": (q.decision or {}).get("by") or q.routed_to or "",
            "director_title": "Director",
        }
        for key in ("sworn_officer", "court_order_impractical", "imminent_danger",
                    "identification_purpose"):  # fmt: skip
            form[key] = bool(e.get(key))
        return form

    def request_refs(self) -> list[str]:
        from ledger.disclosure import Request

        return [e.ref for e in self._events_of(Request.RequestOpened)]  # type: ignore[attr-defined]

    # ---- helpers --------------------------------------------------------------------------

    def _request(self, ref: str) -> Request:
        request = self._find_request(ref)
        if request is None:
            raise _no_request(ref)
        return request

    def _find_request(self, ref: str) -> Request | None:
        from ledger.disclosure import Request, request_id

        return cast("Request | None", self._get(Request, request_id(ref)) if ref.strip() else None)


def _no_request(ref: str) -> NotFound:
    return NotFound(f"request {ref!r} does not exist (see: custodes request list)")


def _label(field: str) -> str:
    return field.replace("_", " ")


def _labels(fields: Any) -> list[str]:
    return [_label(f) for f in fields]


def _refused_summary(plan: policy.ReleasePlan) -> str:
    """What the policy refuses, each rule cited once (for people; ``refused`` is per field)."""
    refused = [d for _, d in sorted(plan.refused.items())]
    if not refused:
        return ""
    rule, text = policy.explain_refusals(refused)
    return f"{rule.cite()}: {text}"
