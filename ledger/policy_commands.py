"""Adopting a policy version (R28): the Director records the board-approved text and
parameters; the rules read the parameters of the version in force (``policy_params``).

A new version takes effect at the start of its effective date (site time), never before it
is recorded: a date of today (or yesterday, ``PAST_TOLERANCE``: the board met last night)
takes effect at the adoption itself. Versions take effect in the order they are numbered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger import rules, sitetime
from ledger.application import LedgerBase
from ledger.domain import Actor
from ledger.errors import InvalidInput, NotFound
from ledger.policy_params import (
    PolicyFileError,
    PolicyParams,
    legal_refusals,
    parse_params,
    profile_files,
    profiles,
    text_sha256,
)
from ledger.policy_text import check_text
from ledger.policy_versions import AdoptedVersion
from ledger.site import Site
from ledger.text import REFERENCE, clean_text

PAST_TOLERANCE = timedelta(days=1)
MAX_AHEAD = timedelta(days=366)
_HEX64 = re.compile(r"[0-9a-f]{64}")
# A refusal's message quotes the file's mistake; a pasted essay is cut to this.
_MESSAGE_MAX = 600


def _bounded(message: str) -> str:
    if len(message) <= _MESSAGE_MAX:
        return message
    return message[: _MESSAGE_MAX - 1] + "\u2026"


@dataclass(frozen=True)
class PolicyDiff:
    old: AdoptedVersion
    new: AdoptedVersion
    params: list[tuple[str, object, object]]
    text_changed: bool


class PolicyCommands(LedgerBase):
    def adopt_policy(
        self,
        *,
        text: str,
        params_toml: str,
        approved_by: str,
        approval_ref: str,
        effective: date,
        actor: str,
        profile: str = "",
        expect_text_sha256: str | None = None,
        supersedes: Sequence[int] = (),
    ) -> AdoptedVersion:
        """Director only. A parameters file that does not fit the schema (unknown key,
        wrong type, value out of bounds, not TOML), a text that does not match the stated
        SHA-256, and what the law or the ledger's rules do not allow are each refused
        and the refusal recorded (R23), naming the key or rule; nothing is adopted. A
        version taking effect before one still pending supersedes it (it never takes
        effect): ``supersedes`` must name each such version, so none is cancelled by a
        mistyped date."""
        now = self.clock()
        who = self.authorize(
            actor, "adopt a policy version", ("director",), rules.POLICY_ADOPTION, subject="policy"
        )
        action = "adopt a policy version"
        self._not_over_the_director(who, action, "policy")
        try:
            params = parse_params(params_toml)
        except PolicyFileError as e:
            # Bad input in the file is a refused attempt (R28, issue 15): recorded, naming
            # the key, and nothing adopted.
            self.refuse(who, action, rules.POLICY_PARAMETERS, _bounded(str(e)), subject="policy")
        if expect_text_sha256 is not None:
            stated = expect_text_sha256.strip().lower()
            if not _HEX64.fullmatch(stated):
                raise InvalidInput(f"--text-sha256 {expect_text_sha256!r} is not a SHA-256")
            if stated != text_sha256(text):
                self.refuse(
                    who,
                    action,
                    rules.POLICY_ADOPTION,
                    f"the policy text's SHA-256 is {text_sha256(text)}, not the stated "
                    f"{stated}: this is not the approved text (nothing was adopted)",
                    subject="policy",
                )
        disagreements = check_text(text, params).disagreements
        if disagreements:
            # Only the text carries the board's approval: numbers that contradict it
            # would decide every deadline against the words approved (outside review).
            self.refuse(
                who, action, rules.POLICY_ADOPTION,
                _bounded("; ".join(disagreements) + " (nothing was adopted)"), subject="policy",
            )  # fmt: skip
        site = self.site()
        record = self._adoption(
            site.policies.adopted[-1] if site.policies.adopted else None,
            who,
            now,
            site.zone,
            text=text,
            params=params,
            approved_by=approved_by,
            approval_ref=approval_ref,
            effective=effective,
            profile=profile,
        )
        cancelled = sorted(v.version for v in site.policies.pending(record["effective_at"]))
        if cancelled != sorted(set(supersedes)):
            if cancelled:
                self.refuse(
                    who, action, rules.POLICY_ADOPTION,
                    f"version {', '.join(map(str, cancelled))} is to take effect after "
                    f"{effective}; this version would supersede it, so that it never takes "
                    f"effect: say so with --supersedes {' --supersedes '.join(map(str, cancelled))}",
                    subject="policy",
                )  # fmt: skip
            raise InvalidInput(
                f"--supersedes {', '.join(map(str, sorted(set(supersedes))))}: no such version "
                "is pending after this one's effective date"
            )
        site.trigger_event(
            Site.PolicyAdopted,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            **record,
        )
        self.save(site)
        return site.policies.adopted[-1]

    def _adoption(
        self,
        last: AdoptedVersion | None,
        who: Actor,
        now: datetime,
        zone: ZoneInfo,
        *,
        text: str,
        params: PolicyParams,
        approved_by: str,
        approval_ref: str,
        effective: date,
        profile: str,
    ) -> dict[str, Any]:
        """Check an adoption after ``last`` (None: version 1); its record, to be saved."""
        approved_by = clean_text(approved_by, kind=REFERENCE, what="--approved-by")
        approval_ref = clean_text(approval_ref, kind=REFERENCE, what="--approval-ref")
        if not approved_by or not approval_ref:
            raise InvalidInput(
                "name who approved the policy (--approved-by) and where "
                "(--approval-ref, e.g. the board minutes' date and item)"
            )
        action = "adopt a policy version"
        if profile in profiles():
            # A shipped profile's name is a claim about the text and the parameters: both
            # must be that profile's, or the record would say more than was adopted.
            shipped_text, shipped_params = profile_files(profile)
            if text_sha256(text) != text_sha256(shipped_text) or (
                params.sha256() != parse_params(shipped_params).sha256()
            ):
                self.refuse(
                    who, action, rules.POLICY_ADOPTION,
                    f"the text or the parameters are not those of the shipped profile "
                    f"{profile}; adopt a library's own version without --profile",
                    subject="policy",
                )  # fmt: skip
        for rule, message in legal_refusals(params):
            self.refuse(who, action, rule, message, subject="policy")
        today = sitetime.local_day(now, zone)
        if effective < today - PAST_TOLERANCE:
            self.refuse(
                who,
                action,
                rules.POLICY_ADOPTION,
                f"the effective date {effective} is in the past (today is {today}); a policy "
                "is never adopted retroactively",
                subject="policy",
            )
        if effective > today + MAX_AHEAD:
            raise InvalidInput(f"the effective date {effective} is more than a year ahead")
        effective_at = max(sitetime.day_start(effective, zone), now)
        return {
            "version": last.version + 1 if last is not None else 1,
            "profile": clean_text(profile, kind=REFERENCE, what="the profile") if profile else "",
            "text_sha256": text_sha256(text),
            "params_sha256": params.sha256(),
            "text": text,
            "params": params.to_json(),
            "approved_by": approved_by,
            "approval_ref": approval_ref,
            "effective_date": effective.isoformat(),
            "effective_at": effective_at,
        }

    # ---- queries --------------------------------------------------------------------------

    def policy_history(self) -> list[AdoptedVersion]:
        return list(self.policies().adopted)

    def policy_version(self, version: int) -> AdoptedVersion:
        found = self.policies().get(version)
        if found is None:
            raise NotFound(f"no policy version {version} (see: custodes policy history)")
        return found

    def policy_diff(self, old: int, new: int) -> PolicyDiff:
        a, b = self.policy_version(old), self.policy_version(new)
        return PolicyDiff(a, b, a.params.changes(b.params), a.text_sha256 != b.text_sha256)

    def _not_over_the_director(self, who: Actor, action: str, subject: str) -> None:
        """An acting Director acts for the Director while she is away, never over her:
        who is on the staff and with which key (an enrolment, a reset, the service key),
        the sign-in settings, the witness policy and the directorship itself change only by
        the Director's own act or the board's, so nothing done under a delegation outlives
        it as a power (red team: an acting Director reset the Business Manager's key to a
        passphrase she knew and enrolled a counsel for herself, both kept after the
        delegation ended; session 14: she adopted a policy version, and lifted the
        Director's lockout). Deactivating a member other than the Director, which takes a
        power away, stays hers."""
        if who.delegation is not None:
            self.refuse(
                who, action, rules.ONE_DIRECTOR,
                f"an acting Director (delegation {who.delegation}) acts for the Director, not "
                "over her: who is on the staff and with which key, the sign-in settings, the "
                "witness policy, the policy in force, the Director's lockout and who is "
                "Director change only by the Director's own act "
                "(custodes staff hand-over to change Directors), so nothing done under a "
                "delegation outlives it",
                subject=subject,
            )  # fmt: skip
