"""What a release of patron records or footage must satisfy, judged from the request alone
(R4, R7, R9, R10, R16, R20): pure, no database.

``custodes request release`` (``ledger.disclosure_commands``) refuses a release that
fails any of these before it records anything; ``custodes verify --deep``
(``ledger.act_check``) judges every recorded release by the same functions, from the
request as its events made it just before the release (``release_problem``). Red team,
session 21: a release recorded through the Python API, around the command (staff
emailing circulation records with no decision, on a basis the request's facts do not
give), passed ``verify --deep`` and looked ordinary in the register.

What only the database knows is left to the command: whether the form was opened on the
request as it is now, whether a court order's scan serves another patron's request,
whether footage is kept (R13) and the days a segment covers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ledger import policy
from ledger import rules as r
from ledger.policy_params import PolicyParams
from ledger.rules import Rule

if TYPE_CHECKING:
    from ledger.disclosure import Request

Refusal = tuple[Rule, str]

# How long after the request was received an emergency release may be made. The policy's
# path is for "an emergency where ... there is an imminent danger of physical harm", when
# "it is impractical to secure a court order": by four days a court could have issued a
# warrant, and one is executed within 96 hours of its issue (725 ILCS 5/108-6). Later,
# the officer brings a court order, or a new signed form on a new request (red team,
# session 21: a release 75 days after the form was recorded passed). Counted from the
# request's receipt, not the form's recording, which staff may do later or again (red
# team, session 22: recording the same form again restarted the window). Our reading of
# the policy's words, not a number it states: docs/DISCLOSURES.md says so.
EMERGENCY_WINDOW = timedelta(hours=96)
EMERGENCY_HOURS = int(EMERGENCY_WINDOW.total_seconds() // 3600)  # as people read it

# Where a recipient check fails: --to names the recipient and nobody and nothing else.
NAME_ONLY = "--to names the recipient only; how it was handed over goes in --method"

# Words that say which office of a court receives a release, not who.
_COURT_ROLES = frozenset({"clerk", "deputy", "bailiff", "office", "of", "the", "for", "county",
                          "circuit", "court", "judge", "hon", "honorable", "attn",
                          "attention"})  # fmt: skip

# Words that say how a guardian is related to the minor, not who they are.
_RELATIONS = frozenset({"parent", "mother", "father", "mom", "dad", "guardian", "legal",
                        "stepmother", "stepfather", "foster", "grandmother", "grandfather",
                        "grandparent"})  # fmt: skip


def release_numbers(numbers: Sequence[int]) -> str:
    """ "release 2", "releases 1 and 2", "releases 1, 2 and 3": a request's releases by
    number, as people read them (a receipt's, R10)."""
    words = [str(n) for n in numbers]
    if len(words) == 1:
        return f"release {words[0]}"
    return f"releases {', '.join(words[:-1])} and {words[-1]}"


def inventory_digest(ref: str, fields: Sequence[str], footage: Sequence[dict[str, str]], to: str,
                     method: str, *, redacted: bool | None = None,
                     period: Sequence[str] | None = None) -> str:  # fmt: skip
    """SHA-256 of the canonical release inventory, so a copy given out can be matched (R7):
    what was released, to whom and how, whether the footage left blurred, and the dates of
    the records (the last two only when the release has them, so a release of fields alone
    digests as before)."""
    doc: dict[str, Any] = {
        "request": ref, "fields": sorted(fields), "footage": footage, "to": to, "method": method,
    }  # fmt: skip
    if redacted is not None:
        doc["redacted"] = redacted
    if period is not None:
        doc["period"] = list(period)
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def name_words(text: str) -> set[str]:
    """The words of a person's name that identify them (two letters or more; a rank or an
    initial does not)."""
    ranks = {"ofc", "officer", "sgt", "sergeant", "det", "detective", "lt", "cpl", "dep",
             "deputy", "trooper", "agent", "capt", "captain", "chief", "mr", "ms", "mrs"}  # fmt: skip
    return {w for w in re.findall(r"[^\W\d_]{2,}", text.casefold()) if w not in ranks}


def names_only(person: str, to: str, *, relations: frozenset[str] = frozenset()) -> bool:
    """``to`` names ``person`` and nobody else: every word of it, a rank, title or
    initial aside (and for a guardian a relation such as "mother"), is a word of
    ``person``'s name, and every word of the name is there. So a shared family name
    ("John Doe" for Jane Doe) does not pass, nor someone else who mentions them ("Bob
    Smith, Jane Doe's neighbour", "Jane Doe's mother", "Bruce Lee" for the officer Lee),
    nor someone named beside them ("Jane Doe, and her neighbour Bob Smith"). Red team
    (session 17): only the name before the first comma was read; the review of that fix
    found any list of words an aside may use either refused what a clerk types or let
    another recipient through ("Jane Doe, copy to father"): every word counts now."""
    if re.search(r"['\u2019]s\b", to):  # a possessive names someone else's person
        return False
    wanted, named = name_words(person), name_words(to)
    return bool(wanted) and (named == wanted or set() != named - relations == wanted - relations)


def footage_refusal(name: str, role: str, params: PolicyParams) -> Refusal | None:
    """Archived footage leaves only by the hands of those who may see it (R16, R28)."""
    viewers = params.archive_viewer_roles
    if role in viewers:
        return None
    return (
        r.FOOTAGE_ARCHIVE_ACCESS,
        f"{name} ({role.replace('_', ' ')}) may not release footage: archived footage is for the "
        + " and the ".join(
            v.replace("_", " ").title() for v in sorted(viewers, key="director".__ne__)
        ),
    )


def decision_refusal(request: Request, basis: str) -> Refusal | None:
    """Nothing leaves before the Director approves, on the documents now recorded, and
    nothing more once a follow-up is resolved; a guardian may be told a minor's fines and
    fees with no decision (R3, R4, R11)."""
    decision = request.decision
    if decision is None and basis != "guardian":
        return (
            r.POLICY_DIRECTOR_DECIDES,
            f"nothing is released before the Director decides {request.ref} "
            f"(custodes request decide {request.ref} --approve|--deny --reason ...)",
        )
    if decision is not None and not decision["approved"]:
        return r.POLICY_DENY_BY_DEFAULT, f"the Director denied {request.ref}"
    follow_up = request.follow_up or {}
    if follow_up.get("state") == "resolved":
        return (
            r.LRCA_EMERGENCY_FOLLOWUP,
            f"the follow-up of {request.ref} was resolved ({follow_up['resolution']}): "
            "nothing more is released on it; a further release is a new request",
        )
    if not request.decision_current():
        return (
            r.POLICY_DIRECTOR_DECIDES,
            f"a court order, the officer's form or counsel's review was recorded on "
            f"{request.ref} after the Director decided; she decides again on what is now "
            f"before her (custodes request decide {request.ref} --approve|--deny --reason ...)",
        )
    return None


def emergency_window_refusal(request: Request, basis: str, at: datetime) -> Refusal | None:
    """An emergency release is made while the emergency lasts (``EMERGENCY_WINDOW``)."""
    if basis != "emergency" or at - request.received_at <= EMERGENCY_WINDOW:
        return None
    hours = int((at - request.received_at).total_seconds() // 3600)
    return (
        r.LRCA_EMERGENCY_REPRESENTATIONS,
        f"{request.ref} was received {hours} hours ago; the emergency path is for an "
        f"imminent danger that makes a court order impractical, and holds for "
        f"{EMERGENCY_HOURS} hours from the request (by then "
        "a warrant could be issued and executed, 725 ILCS 5/108-6): release on a court "
        "order, or on a new signed form on a new request",
    )


def order_refusal(request: Request, basis: str) -> Refusal | None:
    """A court order's release is of a request of its own, opened for whoever served it
    (``ledger.disclosure.ORDER_REQUESTERS``). ``request court-order`` refuses an order on
    any other request; this stops the release too, should one be recorded around the
    command (red team, session 22: an order event recorded on a newspaper's FOIA request
    through the Python API, then the ordinary decision and release)."""
    if basis != "court_order" or request.takes_court_order:
        return None
    under = " under FOIA" if request.foia is not None else ""
    return (
        r.LRCA_COURT_ORDER,
        f"{request.ref} is a {request.requester_kind.replace('_', ' ')} request{under}: a "
        "court order is recorded, and released on, only on a request of its own, opened "
        "for whoever served it",
    )


def field_checks(
    request: Request,
    plan: policy.ReleasePlan,
    facts: policy.RequestFacts,
    fields: Sequence[str],
    segments: Sequence[str],
    period: tuple[date, date] | None,
    footage_dates: Mapping[str, tuple[date, date]] | None = None,
) -> list[policy.Decision]:
    """One decision per field and segment released (R7, R9, R10): what the policy allows
    on the request's facts, no more than the Director approved, nothing refused when an
    emergency request was taken in, within a court order's dates."""
    decision = request.decision
    approved_footage = decision["approved_footage"] if decision else []
    order = facts.court_order if plan.basis == "court_order" else None
    checks = policy.check_release(
        plan, fields, segments, approved_footage, order=order, period=period,
        footage_dates=footage_dates,
    )  # fmt: skip
    if decision is not None:  # facts may have changed: release no more than approved
        checks += [
            policy.refuse(
                plan.scope_rule,
                f"{f} was not approved by the Director",
                shared="not approved by the Director",
                subject=f.replace("_", " "),
            )
            for f in fields
            if f not in decision["allowed_fields"] and f in plan.allowed_fields
        ]
    at_intake = {x["field"]: x for x in (request.emergency or {}).get("refused_at_intake", [])}
    sorted_fields = sorted(set(fields))
    return [
        policy.refuse(
            r.LRCA_EMERGENCY_SCOPE,
            f"{f} was refused when the request was taken in: {at_intake[f]['reason']}",
            shared="refused when the request was taken in",
            subject=f.replace("_", " "),
        )
        if f in at_intake
        else d
        for f, d in zip(sorted_fields, checks[: len(sorted_fields)], strict=True)
    ] + checks[len(sorted_fields) :]


def recipient_refusal(
    request: Request, basis: str, *, role: str, to: str, method: str, badge: str,
    segments: Sequence[str], redacted: bool,
) -> Refusal | None:  # fmt: skip
    """Who may receive it and how (R4, R10, R20): on the emergency path only the officer
    of the signed form, in person; a court order's release by staff only to the court, the
    requester or whoever served it; a minor's fines only to the guardian who asked; FOIA
    footage only blurred."""
    if basis == "emergency":
        form = request.emergency or {}
        if " ".join(badge.split()).casefold() != form.get("badge_number", "").casefold():
            return (
                r.LRCA_EMERGENCY_RECIPIENT,
                f"release only to the officer of the signed form (badge "
                f"{form.get('badge_number')}); the recipient's badge {badge or '(none)'} differs",
            )
        officer = form.get("officer_name", "")
        if not names_only(officer, to):
            return (
                r.LRCA_EMERGENCY_RECIPIENT,
                f"release only to the officer of the signed form ({officer}); the recipient "
                f"{to!r} does not name them and only them, a rank aside ({NAME_ONLY})",
            )
        if method.casefold() != "in person":
            return r.LRCA_EMERGENCY_RECIPIENT, "an emergency release is made in person"
    if basis == "court_order" and role != "director":
        # Red team (session 13, dashboard): staff recorded a court order's release to a
        # newspaper by email. Staff release to the court, its requester or whoever
        # served the order; anyone else is the Director's to decide.
        served = request.court_order or {}
        known = name_words(" ".join([request.requester, str(served.get("court", "")),
                                     str(served.get("served_by", ""))]))  # fmt: skip
        named = name_words(to)
        if not (named & known and named <= known | _COURT_ROLES):
            return (
                r.POLICY_DIRECTOR_DECIDES,
                f"a court order's release goes to the court, the requester "
                f"({request.requester}) or whoever served it "
                f"({served.get('served_by') or 'not recorded'}); {to!r} is someone else, "
                f"and only the Director releases to anyone else ({NAME_ONLY})",
            )
    # R4: the guardian who asked, whose guardianship was confirmed, and nobody else.
    if basis == "guardian" and not names_only(request.requester, to, relations=_RELATIONS):
        return (
            r.POLICY_MINOR_FINES,
            "a minor's fines and fees are told only to the parent or legal guardian who "
            f"asked ({request.requester}); the recipient {to!r} does not name them and only "
            f"them, a title or relation aside ({NAME_ONLY})",
        )
    if segments and basis == "foia" and not redacted:
        return (
            r.FOIA_7_1C,
            "footage released under FOIA is redacted (faces and any regions given): "
            f"release it with: custodes footage export SEGMENT --request {request.ref} ...",
        )
    return None


def release_problem(before: Request, release: Any, role: str, params: PolicyParams) -> str | None:
    """What ``custodes request release`` would have refused of a recorded release
    (``Request.DisclosureReleased``), judged from ``before`` (the request as its events
    made it just before), the signer's ``role`` and the policy's parameters then; or
    None. Footage's dates, whether it was kept, and the form's freshness are not judged
    here (the module's docstring says why)."""
    facts = policy.with_policy(before.facts(), params)
    plan = policy.releasable_fields(facts)
    segments = [s["segment_id"] for s in release.footage]
    if (shape := _shape_problem(release, plan.basis)) is not None:
        return shape
    if release.basis != plan.basis:
        return (
            f"release on basis {release.basis!r}, but the request's facts then gave {plan.basis!r}"
        )
    period = None if release.period is None else tuple(map(date.fromisoformat, release.period))
    refusal = (
        (footage_refusal(release.actor, role, params) if segments else None)
        or decision_refusal(before, plan.basis)
        or emergency_window_refusal(before, plan.basis, release.timestamp)
        or order_refusal(before, plan.basis)
        or _first(field_checks(before, plan, facts, release.fields, segments, period))  # type: ignore[arg-type]
        or recipient_refusal(
            before,
            plan.basis,
            role=role,
            to=release.to,
            method=release.method,
            badge=release.recipient_badge,
            segments=segments,
            redacted=bool(release.redacted),
        )  # fmt: skip
    )
    if refusal is not None:
        rule, why = refusal
        return f"a release the policy refuses: {rule.cite()}: {why}"
    digest = inventory_digest(
        before.ref, release.fields, release.footage, release.to, release.method,
        redacted=release.redacted, period=release.period,
    )  # fmt: skip
    if digest != release.inventory_sha256:
        return "the release's inventory digest does not match what it says was released"
    return None


def _shape_problem(release: Any, basis: str) -> str | None:
    """What the command's input checks would have refused of a recorded release: nothing
    released, a badge off the emergency path, a recipient, method or badge that is not
    text the ledger keeps in clear (a card number, a control character, too long). Red
    team, session 22: each passed `verify --deep` when recorded around the command."""
    from ledger.errors import InvalidInput
    from ledger.text import NAME, REFERENCE, clean_text

    if not release.fields and not release.footage:
        return "a release of nothing: it names no field and no footage"
    if release.recipient_badge and basis != "emergency":
        return f"a badge is recorded on a release on the basis {basis}, not the emergency path"
    try:
        clean_text(release.to, kind=NAME, what="its recipient")
        clean_text(release.method, kind=REFERENCE, what="its method", no_card_numbers=True)
        clean_text(release.recipient_badge, kind=NAME, what="its badge", required=False,
                   no_card_numbers=False)  # fmt: skip
    except InvalidInput as e:  # its first sentence: what is wrong, not what to type
        return f"a release the command would not take: {str(e).split('. ')[0]}".removesuffix(
            "; nothing was recorded"
        )
    return None


def _first(checks: list[policy.Decision]) -> Refusal | None:
    refused = [d for d in checks if not d.allowed]
    return policy.explain_refusals(refused) if refused else None
