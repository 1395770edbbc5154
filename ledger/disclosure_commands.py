"""Disclosure decisions: only the Director decides, and nothing leaves the library beyond
what the policy engine allows (R2, R7-R11, R22). Intake is ``ledger.disclosure_intake``.

Each refused step is recorded (``refuse``) and raises ``NotPermitted`` naming its rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ledger import policy, sitetime
from ledger import rules as r
from ledger.disclosure_intake import DisclosureIntake, OrderScope, nonblank, optional
from ledger.errors import InvalidInput, StaleForm
from ledger.release_rules import (
    decision_refusal,
    emergency_window_refusal,
    field_checks,
    footage_refusal,
    inventory_digest,
    order_refusal,
    recipient_refusal,
    release_numbers,
)
from ledger.text import NAME, REASON, REFERENCE

if TYPE_CHECKING:
    from ledger.disclosure import Request

FOLLOW_UP_RESOLUTIONS = ("court_order", "judicial_review_sought", "closed")

__all__ = ["DisclosureCommands", "OrderScope", "inventory_digest"]

# ledger.disclosure (and ledger.patrons) are imported where they are used: a command
# that touches no request (a footage act) does not build their event classes (issue 16).


def _fresh(request: Request, opened_at: int | None) -> None:
    """A form's act goes ahead only on the version of the request it was opened on
    (None: not a form, e.g. the command line). A form that does not say (0: no request is
    at version 0) is stale too: an honest browser always sends it."""
    if opened_at is not None and opened_at != request.version:
        raise StaleForm(
            f"{request.ref} changed since the form was opened; nothing was recorded",
            version=int(request.version),
        )


class DisclosureCommands(DisclosureIntake):
    # ---- decision (R2, R3, R4, R7, R9, R20) -----------------------------------------------

    def decide(
        self,
        ref: str,
        *,
        approve: bool,
        reason: str,
        actor: str,
        opened_at: int | None = None,
    ) -> dict[str, Any]:
        """The Director's decision. ``opened_at`` (a form: the request's version when it
        was opened; 0 when the form did not say) is checked once the member is
        authorized: a stale form raises ``StaleForm`` and records nothing."""
        from ledger.disclosure import Request

        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request decide", (), r.POLICY_DIRECTOR_DECIDES, subject=request.ref
        )
        decider = policy.check_decider(who.role)
        if not decider.allowed:
            self.refuse(who, "request decide", decider.rule, decider.reason, subject=request.ref)  # fmt: skip
        _fresh(request, opened_at)
        if approve and (conflict := self.order_scan_conflict(request)) is not None:
            self.refuse(who, "request decide", r.LRCA_COURT_ORDER, conflict, subject=request.ref)
        reason = nonblank(reason, "the reason (--reason)", REASON, no_card_numbers=True)
        if request.releases and approve:
            # red team, session 21: after a guardian was told a minor's fines, with no
            # decision, this said "approved again" of a request never approved
            what = (
                "it cannot be approved again"
                if request.decision is not None
                else "a guardian was told the minor's fines and fees, which needs no "
                "decision, and it cannot be approved now"
            )
            raise InvalidInput(
                f"{request.ref} has been released already: {what} (a new request asks for "
                f"more); nothing was recorded. To stop any further release on it: custodes "
                f"request decide {request.ref} --deny --reason ..."
            )
        plan = policy.releasable_fields(self.facts_of(request))
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
            facts_sha256=request.facts_digest(),
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
        badge: str = "",
        period: tuple[date, date] | None = None,
        redaction: dict[str, Any] | None = None,
        opened_at: int | None = None,
    ) -> dict[str, Any]:
        """Record what leaves the library, checked against the Director's decision and the
        policy (R7, R9, R10, R16, R20): under a court order field by field, patron by
        patron and within its dates (``period``: the dates of the records released); on
        the emergency path only to the officer of the signed form (``badge``), in person;
        footage only by the Director or the Business Manager, and under FOIA only
        redacted (``redaction``, given by the evidence export). A parent or guardian may
        be told a minor's fines and fees by authorized staff without a decision (R4).
        ``opened_at`` as for ``decide``: checked once the member is authorized, before
        the release is checked against the decision."""
        from ledger.disclosure import Request

        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request release", (), r.POLICY_DENY_BY_DEFAULT, subject=request.ref
        )
        fields, segments = sorted(set(fields)), sorted(set(footage))
        if not fields and not segments:
            raise InvalidInput("name what is released: --fields and/or --footage")
        if period is not None and period[0] > period[1]:
            raise InvalidInput(
                f"the records' dates end ({period[1]}) before they begin ({period[0]}); check "
                "--records-from and --records-to; nothing was recorded"
            )
        if "footage" in fields and not segments:
            # red team (session 13): "footage" released with no segment named recorded
            # footage as released on a request whose only segment was purged
            raise InvalidInput(
                "footage is released segment by segment: name each with --footage SEGMENT "
                "(custodes footage export SEGMENT --request REF makes the copies); nothing "
                "was recorded"
            )
        to = nonblank(to, "the recipient (--to)")
        method = nonblank(method, "the method (--method)", REFERENCE, no_card_numbers=True)
        # the badge is kept in clear (red team, session 21: a card number, a date of birth
        # and an escape sequence were recorded as a badge): off the emergency path it is
        # refused below, and on it, it must be the badge of the officer's form, so only
        # its form is checked here (session 22: an officer whose form has an 8-digit badge,
        # read as a card number, could never be released to)
        badge = optional(badge, "the officer's badge (--badge)", NAME, no_card_numbers=False)
        facts = self.facts_of(request)
        plan = policy.releasable_fields(facts)
        if badge and plan.basis != "emergency":
            raise InvalidInput(
                f"--badge is the badge of the officer of an emergency request's signed form; "
                f"{request.ref} is released on the basis {plan.basis.replace('_', ' ')}, so "
                "leave it out (the recipient goes in --to); nothing was recorded"
            )
        refuse = lambda rule, why: self.refuse(  # noqa: E731
            who, "request release", rule, f"{why}; nothing was released", subject=request.ref
        )
        params = self.policy_params()  # R28
        # the checks a recorded release must pass are ledger.release_rules', so that
        # `verify --deep` judges every recorded release by the same rules
        if segments and (no := footage_refusal(who.name, who.role, params)) is not None:
            refuse(*no)
        _fresh(request, opened_at)  # the member may release: is the form still current?
        if (no := decision_refusal(request, plan.basis)) is not None:
            refuse(*no)
        if (no := emergency_window_refusal(request, plan.basis, now)) is not None:
            refuse(*no)
        if (no := order_refusal(request, plan.basis)) is not None:
            refuse(*no)
        if plan.basis == "court_order" and (conflict := self.order_scan_conflict(request)):
            refuse(r.LRCA_COURT_ORDER, conflict)
        order = facts.court_order if plan.basis == "court_order" else None
        if order is not None and period is None and (order.scope_from or order.scope_to):
            period = (order.scope_from or date.min, order.scope_to or now.date())
        checks = field_checks(
            request, plan, facts, fields, segments, period,
            footage_dates={s: self._site_days(s) for s in segments},
        )  # fmt: skip
        # R13: footage due for destruction (or destroyed) leaves by no command, not only
        # by `footage export`: a hold keeps what an investigation still needs.
        checks += [self._footage().check_kept(s, now) for s in segments]
        refused = [d for d in checks if not d.allowed]
        if refused:
            refuse(*policy.explain_refusals(refused))
        no = recipient_refusal(
            request, plan.basis, role=who.role, to=to, method=method, badge=badge,
            segments=segments, redacted=bool((redaction or {}).get("faces")),
        )  # fmt: skip
        if no is not None:
            refuse(*no)
        inventory = []
        for seg in segments:
            info = self._footage().segment_info(seg)
            inventory.append({"segment_id": seg, "sha256": info.sha256})
        redacted = bool((redaction or {}).get("faces")) if segments else None
        dates = [period[0].isoformat(), period[1].isoformat()] if period else None
        common = self._common(who, now)
        request.trigger_event(
            Request.DisclosureReleased,
            fields=fields,
            footage=inventory,
            to=to,
            recipient_badge=" ".join(badge.split()),
            method=method,
            period=dates,
            basis=plan.basis,
            redacted=redacted,
            inventory_sha256=inventory_digest(
                request.ref, fields, inventory, to, method, redacted=redacted, period=dates
            ),
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

    def _site_days(self, segment_id: str) -> tuple[date, date]:
        """The first and last days a segment covers, in site time (a court order's dates
        are the library's days): a clip from 23:50 to 00:10 is of two days."""
        info = self._footage().segment_info(segment_id)
        zone = self.site().zone
        last = max(info.recorded_start, info.recorded_end - timedelta(microseconds=1))
        return sitetime.local_day(info.recorded_start, zone), sitetime.local_day(last, zone)

    def acknowledge(
        self, ref: str, *, actor: str, signed_receipt_sha256: str, releases: Sequence[int] = ()
    ) -> list[int]:
        """Record the recipient's signed receipt of what was released (R10), so that each
        release of a request has its own: of ``releases`` (numbers, each waiting for one),
        else of those waiting that went to the first waiting release's recipient
        (``Request.receipt_due``). Returns the release numbers it covers."""
        from ledger.disclosure import Request

        now = self.clock()
        request = self._request(ref)
        who = self.authorize(
            actor, "request acknowledge", (), r.LRCA_EMERGENCY_ACK, subject=request.ref
        )
        if len(signed_receipt_sha256) != 64:
            raise InvalidInput("give the signed receipt's scan: --signed-receipt FILE")
        if not request.releases:
            raise InvalidInput(f"nothing has been released on {request.ref} to acknowledge")
        waiting = request.unacknowledged()
        if not waiting:
            raise InvalidInput(
                f"every release of {request.ref} has its signed receipt already; nothing was "
                "recorded"
            )
        chosen = sorted(set(releases)) or request.receipt_due()
        if other := [n for n in chosen if n not in waiting]:
            raise InvalidInput(
                f"{release_numbers(other)} of {request.ref} "
                f"{'is' if len(other) == 1 else 'are'} not waiting for a receipt (waiting: "
                f"{', '.join(map(str, waiting))}); nothing was recorded"
            )
        request.trigger_event(
            Request.AcknowledgementRecorded,
            signed_receipt_sha256=signed_receipt_sha256,
            releases=chosen,
            **self._common(who, now),
        )
        self.save(request)
        return chosen

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
        from ledger.disclosure import Request

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
        reason = optional(reason, "the reason (--reason)", REASON, no_card_numbers=True)
        if closed and not reason:
            raise InvalidInput("closing a follow-up needs --reason")
        if request.follow_up is None or request.follow_up["state"] != "open":
            raise InvalidInput(f"{request.ref} has no open follow-up")
        linked = None
        if court_order_request:
            other = self._request(court_order_request)
            if other.court_order is None:
                raise InvalidInput(f"{other.ref} has no court order recorded")
            order = other.court_order
            why = policy.not_a_court_order(order["kind"], order["signed_by_judge"])
            if why is not None:
                self.refuse(
                    who, "request follow-up", r.LRCA_COURT_ORDER,
                    f"{other.ref}'s document cannot close the follow-up: {why}",
                    subject=request.ref,
                )  # fmt: skip
            if request.patron is not None and request.patron not in order["scope_patrons"]:
                self.refuse(
                    who, "request follow-up", r.LRCA_COURT_ORDER_SCOPE,
                    f"the order on {other.ref} does not name this request's patron",
                    subject=request.ref,
                )  # fmt: skip
            linked = other.ref
        resolution = FOLLOW_UP_RESOLUTIONS[chosen.index(True)]
        request.trigger_event(
            Request.FollowUpResolved,
            resolution=resolution,
            court_order_request=linked,
            reason=reason,
            **self._common(who, now),
        )
        self.save(request)
