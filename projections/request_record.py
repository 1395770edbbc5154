"""One request as a record a person reads top to bottom (``custodes request show``, the
web dashboard's request page).

Sections in the order things happen (intake, FOIA clock, legal basis, what the policy
allows, the Director's decision, releases, acknowledgement, follow-up); times in site
time with their zone label (R24); empty fields are left out. ``--json`` keeps every
field, in UTC, for machines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledger import sitetime
from ledger.disclosure import REPRESENTATIONS
from ledger.release_rules import EMERGENCY_HOURS, release_numbers
from projections.disclosures import date_scope_words

Section = tuple[str, list[tuple[str, str]]]


def request_sections(view: dict[str, Any], zone: ZoneInfo) -> tuple[str, list[Section]]:
    """The record's title and its non-empty sections of (label, value) rows; ``view`` is
    ``Ledger.request_view``. The command line and the web dashboard both show these."""

    def when(moment: datetime | None) -> str:
        return sitetime.show(moment, zone)

    sections = [
        _intake(view, when),
        _foia(view, when),
        _court_order(view, when),
        _emergency(view, when),
        _plan(view),
        _decision(view, when),
        _releases(view, when),
        _aftermath(view, when),
    ]
    kind = view["requester_kind"].replace("_", " ")
    kept = [(title, [(k, v) for k, v in rows if v]) for title, rows in sections]
    return f"{view['ref']}: {kind} request", [(t, rows) for t, rows in kept if rows]


def _intake(v: dict[str, Any], when: Any) -> Section:
    patron = v.get("patron") or {}
    details = patron.get("details")
    if isinstance(details, dict):
        known = [str(details[k]) for k in ("name", "address", "phone") if details.get(k)]
        card = details.get("card_number")
        who = ", ".join([*known, *([f"card {card}"] if card else [])])
    else:
        who = str(details or "")  # erased (crypto-shredded, R22)
    entered = v["entered_by"] if v["entered_by"] != v["received_by"] else ""
    return (
        "Request",
        [
            ("Requester", v["requester"]),
            ("Asks for", v["description"]),
            ("Records", ", ".join(r.replace("_", " ") for r in v["records"])),
            # a time stated at intake, before it was entered, is a claim (as an order's dates)
            (
                "Received" if v["received_at"] == v["routed_at"] else "Received (claimed)",
                f"{when(v['received_at'])} by {v['received_by']}",
            ),
            ("Entered by", entered),
            ("Routed to", f"{v['routed_to']}, {when(v['routed_at'])}" if v["routed_to"] else ""),
            ("Patron", f"{patron['pseudonym']}: {who}" if patron else ""),
            (
                "Minor",
                f"yes; guardianship: {v['guardianship'] or 'not recorded'}" if v["minor"] else "",
            ),
            ("Footage", ", ".join(v["footage"])),
            ("Case number", v["case_number"] or ""),
        ],
    )


def _foia(v: dict[str, Any], when: Any) -> Section:
    foia = v.get("foia") or {}
    if not foia:
        return ("", [])
    extended = foia.get("extended")
    return (
        "FOIA clock (5 ILCS 140/3)",
        [
            ("Respond by", when(foia["extended_due_at"] if extended else foia["due_at"])),
            ("Extended", f"yes: {foia.get('extension_reason', '')}" if extended else ""),
            ("Extension to", "" if extended else when(foia["extended_due_at"])),
            ("Preservation hold", v.get("hold_id") or ""),
        ],
    )


def _court_order(v: dict[str, Any], when: Any) -> Section:
    order = v.get("court_order") or {}
    if not order:
        return ("", [])
    review = v.get("counsel_review") or {}
    signed = "signed by a judge" if order["signed_by_judge"] else "NOT signed by a judge"
    return (
        "Court order (75 ILCS 70/1(a)(1))",
        [
            ("Document", f"{order['kind']}, {signed}"),
            ("Court", f"{order['court']}; {order['judge']}"),
            ("Case", order["case"]),
            ("Issued (claimed)", when(order["issued"])),
            ("Served (claimed)", f"{when(order['served_at'])} by {order['served_by']}"),
            ("Scope: patrons", ", ".join(order.get("scope_patrons") or []) or "none named"),
            (
                "Scope: records",
                _fields([*(order.get("scope_records") or []), *(order.get("scope_fields") or [])]),
            ),
            ("Scope: dates", date_scope_words(order.get("scope_from"), order.get("scope_to"))),
            (
                "Scope: excluded",
                _fields(
                    [*(order.get("exclude_records") or []), *(order.get("exclude_fields") or [])]
                ),
            ),
            ("Scope note", order.get("scope") or ""),
            ("Nondisclosure", order.get("nondisclosure") or ""),
            ("Scan", f"{order['document_name']}, sha256 {order['document_sha256']}"),
            (
                "Counsel review",
                f"{review['result']} ({review['by']}, {when(review['at'])})"
                + (f": {review['notes']}" if review.get("notes") else "")
                if review
                else "not yet",
            ),
        ],
    )


def _emergency(v: dict[str, Any], when: Any) -> Section:
    e = v.get("emergency") or {}
    if not e:
        return ("", [])
    officer = " ".join(x for x in (e.get("officer_rank"), e.get("officer_name")) if x)
    attested = [k.replace("_", " ") for k in REPRESENTATIONS if e.get(k)]
    missing = [k.replace("_", " ") for k in REPRESENTATIONS if not e.get(k)]
    return (
        "Emergency request (Appendix 9; 75 ILCS 70/1(a)(2))",
        [
            (
                "Signed form",
                f"{e.get('signed_form_name', '')}, sha256 {e.get('signed_form_sha256', '')}",
            ),
            ("Officer", f"{officer}, badge {e['badge_number']}, {e['agency']}"),
            ("Agency phone", e.get("agency_phone") or ""),
            ("ID examined", "yes" if e.get("id_examined") else "no"),
            ("Attested", ", ".join(attested)),
            ("NOT attested", ", ".join(missing)),
            ("Person sought", e.get("role_sought") or ""),
            (
                "Released until",
                f"{when(v['emergency_until'])}, {EMERGENCY_HOURS} hours from the request"
                + (" (passed: nothing more is released on it)" if v.get("emergency_closed") else "")
                if v.get("emergency_until")
                else "",
            ),
            ("Emergency", e.get("emergency_description") or ""),
            (
                "Refused at intake",
                "; ".join(
                    f"{x['field'].replace('_', ' ')} ({x['rule_id']})"
                    for x in e.get("refused_at_intake") or []
                ),
            ),
        ],
    )


def _plan(v: dict[str, Any]) -> Section:
    plan = v["plan"]
    return (
        f"What the policy allows (basis: {plan['basis'].replace('_', ' ')})",
        [
            ("May be released", _fields(plan["allowed_fields"]) or "nothing"),
            ("Refused", plan.get("refused_summary", "")),
        ],
    )


def _decision(v: dict[str, Any], when: Any) -> Section:
    d = v.get("decision") or {}
    if not d and (v.get("plan") or {}).get("basis") == "guardian" and v.get("releases"):
        # R4: authorized staff told the guardian the fines and fees; no decision is needed
        return (
            "The Director's decision",
            [
                (
                    "Decision",
                    "not needed: a guardian was told a minor's fines and fees (POLICY-MINOR-FINES)",
                )
            ],
        )
    if not d and (v.get("plan") or {}).get("basis") == "guardian":
        return (
            "The Director's decision",
            [
                (
                    "Decision",
                    "not needed for the fines and fees "
                    "(staff tell them); pending for anything else",
                )
            ],
        )
    if not d:
        return ("The Director's decision", [("Decision", "pending")])
    verdict = "approved" if d["approved"] else "denied"
    before = [
        (
            "Decided before",
            f"{'approved' if e['approved'] else 'denied'} by {e['by']}, {when(e['at'])}: "
            f"{e['reason']}",
        )
        for e in v.get("earlier_decisions") or []
    ]
    return (
        "The Director's decision",
        [
            ("Decision", f"{verdict} by {d['by']}, {when(d['at'])}"),
            ("Reason", d["reason"]),
            ("Releasable", _fields(d["allowed_fields"]) if d["approved"] else ""),
            ("Footage approved", ", ".join(d.get("approved_footage", []))),
            *before,
        ],
    )


def _releases(v: dict[str, Any], when: Any) -> Section:
    rows = []
    for r in v.get("releases") or []:
        what = _fields(r["fields"]) + "".join(f", footage {s['segment_id']}" for s in r["footage"])
        badge = f" (badge {r['recipient_badge']})" if r.get("recipient_badge") else ""
        period = f"; records {date_scope_words(*r['period'])}" if r.get("period") else ""
        redacted = {True: "; footage redacted", False: "; footage NOT redacted"}.get(
            r.get("redacted"), ""
        )
        rows.append(
            (
                "Released",
                f"{when(r['at'])}: {what.lstrip(', ')} to {r['to']}{badge} ({r['method']}; "
                f"basis {r.get('basis', '').replace('_', ' ')}{period}{redacted}; by "
                f"{r['by']}; inventory sha256 {r['inventory_sha256']})",
            )
        )
    return ("Releases", rows)


def _aftermath(v: dict[str, Any], when: Any) -> Section:
    follow = v.get("follow_up") or {}
    receipts = [
        (
            "Receipt",
            f"{release_numbers(ack['releases'])}: signed receipt sha256 "
            f"{ack['signed_receipt_sha256']} ({ack['by']}, {when(ack['at'])})",
        )
        for ack in v.get("acknowledgements") or []
    ]
    waiting = v.get("unacknowledged") or []
    if receipts and waiting:  # a later release since the last receipt (R10)
        receipts.append(("No receipt yet", release_numbers(waiting)))
    if follow.get("state") == "resolved":
        how = follow["resolution"].replace("_", " ")
        if follow.get("court_order_request"):
            how += f" {follow['court_order_request']}"
        follow_up = f"resolved: {how} ({follow['resolved_by']}, {when(follow['resolved_at'])})"
        if follow.get("reason"):
            follow_up += f": {follow['reason']}"
    elif follow:
        follow_up = (
            f"OPEN since {when(follow['opened_at'])}: seek judicial review or link a court order"
        )
    else:
        follow_up = ""
    return ("After release", [*receipts, ("Follow-up", follow_up)])


def _fields(fields: Iterable[str]) -> str:
    return ", ".join(f.replace("_", " ") for f in fields)
