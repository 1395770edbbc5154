"""Disclosure decisions: only the Director decides, and nothing leaves the library beyond
what the policy engine allows (R2, R7-R11, R22). Intake is ``ledger.disclosure_intake``.

Each refused step is recorded (``refuse``) and raises ``NotPermitted`` naming its rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ledger import policy
from ledger import rules as r
from ledger.disclosure import Request
from ledger.disclosure_intake import DisclosureIntake, nonblank, parse_scope
from ledger.errors import InvalidInput

FOLLOW_UP_RESOLUTIONS = ("court_order", "judicial_review_sought", "closed")

__all__ = ["DisclosureCommands", "inventory_digest", "parse_scope"]


def inventory_digest(ref: str, fields: Sequence[str], footage: Sequence[dict[str, str]], to: str,
                     method: str) -> str:  # fmt: skip
    """SHA-256 of the canonical release inventory, so a copy given out can be matched (R7)."""
    doc = {"request": ref, "fields": sorted(fields), "footage": footage, "to": to, "method": method}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class DisclosureCommands(DisclosureIntake):
    # ---- decision (R2, R3, R4, R7, R9, R20) -----------------------------------------------

    def decide(self, ref: str, *, approve: bool, reason: str, actor: str) -> dict[str, Any]:
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request decide", (), r.POLICY_DIRECTOR_DECIDES, subject=request.ref
        )
        decider = policy.check_decider(who.role)
        if not decider.allowed:
            self.refuse(who, "request decide", decider.rule, decider.reason, subject=request.ref)  # fmt: skip
        reason = nonblank(reason, "the reason (--reason)")
        if request.releases:
            raise InvalidInput(f"{request.ref} has been released already; it cannot be re-decided")
        plan = policy.releasable_fields(request.facts())
        if approve and not plan.allowed_fields:
            refused = [d for _, d in sorted(plan.refused.items())]
            rule, message = policy.explain_refusals(
                refused, "nothing in this request may be released: "
            )
            self.refuse(who, "request decide", rule, message, subject=request.ref)
        allowed = sorted(plan.allowed_fields) if approve else []
        request.trigger_event(
            Request.DisclosureDecided,
            approved=approve,
            reason=reason,
            basis=plan.basis,
            allowed_fields=allowed,
            approved_footage=list(request.footage) if "footage" in allowed else [],
            decisions=[
                {
                    "field": f,
                    "allowed": d.allowed,
                    "rule_id": d.rule.id,
                    "rule_source": d.rule.source,
                    "reason": d.reason,
                }
                for f, d in plan.decisions
            ],
            **self._common(who, now),
        )
        self.save(request)
        assert request.decision is not None
        return dict(request.decision)

    # ---- release, acknowledgement, follow-up (R7, R9, R10, R11) ---------------------------

    def release(
        self,
        ref: str,
        *,
        fields: Sequence[str],
        to: str,
        method: str,
        actor: str,
        footage: Sequence[str] = (),
    ) -> dict[str, Any]:
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request release", (), r.POLICY_DENY_BY_DEFAULT, subject=request.ref
        )
        fields, segments = sorted(set(fields)), sorted(set(footage))
        if not fields and not segments:
            raise InvalidInput("name what is released: --fields and/or --footage")
        to, method = nonblank(to, "the recipient (--to)"), nonblank(method, "the method (--method)")
        decision = request.decision
        if decision is None:
            self.refuse(
                who, "request release", r.POLICY_DIRECTOR_DECIDES,
                f"nothing is released before the Director decides {request.ref} "
                f"(custodes request decide {request.ref} --approve|--deny --reason ...)",
                subject=request.ref,
            )  # fmt: skip
        assert decision is not None
        if not decision["approved"]:
            self.refuse(
                who, "request release", r.POLICY_DENY_BY_DEFAULT,
                f"the Director denied {request.ref}; nothing may be released",
                subject=request.ref,
            )  # fmt: skip
        plan = policy.releasable_fields(request.facts())
        checks = policy.check_release(plan, fields, segments, decision["approved_footage"])
        # Facts may have changed since the decision: release no more than was approved.
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
        refused = [d for d in checks if not d.allowed]
        if refused:
            rule, message = policy.explain_refusals(refused)
            self.refuse(
                who, "request release", rule, f"{message}; nothing was released",
                subject=request.ref,
            )  # fmt: skip
        inventory = []
        for seg in segments:
            info = self._footage().segment_info(seg)
            inventory.append({"segment_id": seg, "sha256": info.sha256})
        common = self._common(who, now)
        request.trigger_event(
            Request.DisclosureReleased,
            fields=fields,
            footage=inventory,
            to=to,
            method=method,
            inventory_sha256=inventory_digest(request.ref, fields, inventory, to, method),
            **common,
        )
        if plan.basis == "emergency" and request.follow_up is None:
            request.trigger_event(
                Request.FollowUpOpened,
                reason="emergency release: seek judicial review or link a later court order "
                f"({r.LRCA_EMERGENCY_FOLLOWUP.cite()})",
                **common,
            )
        self.save(request)
        return dict(request.releases[-1])

    def acknowledge(
        self,
        ref: str,
        *,
        actor: str,
        signed_form_sha256: str | None = None,
        refused_to_sign: bool = False,
    ) -> None:
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request acknowledge", (), r.LRCA_EMERGENCY_ACK, subject=request.ref
        )
        if bool(signed_form_sha256) == refused_to_sign:
            raise InvalidInput("give exactly one of --signed-form FILE or --refused-to-sign")
        if not request.releases:
            raise InvalidInput(f"nothing has been released on {request.ref} to acknowledge")
        if request.acknowledgement is not None:
            raise InvalidInput(f"the acknowledgement of {request.ref} is recorded already")
        request.trigger_event(
            Request.AcknowledgementRecorded,
            signed_form_sha256=signed_form_sha256,
            refused_to_sign=refused_to_sign,
            **self._common(who, now),
        )
        self.save(request)

    def resolve_follow_up(
        self,
        ref: str,
        *,
        actor: str,
        court_order_request: str | None = None,
        judicial_review_sought: bool = False,
        closed: bool = False,
        reason: str = "",
    ) -> None:
        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request follow-up", ("director",), r.LRCA_EMERGENCY_FOLLOWUP, subject=request.ref,
        )  # fmt: skip
        chosen = [bool(court_order_request), judicial_review_sought, closed]
        if sum(chosen) != 1:
            raise InvalidInput(
                "give exactly one of --court-order OTHER_REQ, --judicial-review-sought, --closed"
            )
        if closed and not reason.strip():
            raise InvalidInput("closing a follow-up needs --reason")
        if request.follow_up is None or request.follow_up["state"] != "open":
            raise InvalidInput(f"{request.ref} has no open follow-up")
        linked = None
        if court_order_request:
            other = self._request(court_order_request)
            if other.court_order is None:
                raise InvalidInput(f"{other.ref} has no court order recorded")
            linked = other.ref
        resolution = FOLLOW_UP_RESOLUTIONS[chosen.index(True)]
        request.trigger_event(
            Request.FollowUpResolved,
            resolution=resolution,
            court_order_request=linked,
            reason=reason.strip(),
            **self._common(who, now),
        )
        self.save(request)
