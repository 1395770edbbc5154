"""The staff directory: who may act, in which role, with which key (R3, R23, R25).

A member's signing key is enrolled by an event countersigned by the Director (the act
that records it is hers), revoked when the Director resets or deactivates the member,
and checked by ``verify`` at every log position. The key events are stored in clear
(``CLEAR_TOPICS``, see ledger/mapper.py): an auditor needs the public keys, and who held
them when, without the events key. They hold staff names, roles and public keys only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ledger.domain import LedgerAggregate, stable_id
from ledger.names import normalize_name

ROLES = ("director", "business_manager", "staff", "counsel")
SERVICE_ROLE = "service"
SERVICE_NAME = "Custodes service"


def staff_id(name: str) -> UUID:
    return stable_id("staff", normalize_name(name).casefold())


# What counts towards the lockout: a wrong guess at either factor (a locked-out member's
# attempts and unusable key files are recorded but are not guesses).
COUNTED_FAILURES = frozenset({"wrong passphrase", "wrong one-time code"})


class StaffMember(LedgerAggregate):
    class StaffMemberAdded(LedgerAggregate.Created):
        name: str
        role: str

    class StaffMemberDeactivated(LedgerAggregate.Event):
        reason: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.active = False

    # ---- keys (stored in clear) -------------------------------------------------------

    class KeyEnrolled(LedgerAggregate.Event):
        """The member's public key, with their proof of holding the private half
        (``ledger.acts.enrolment_message`` signed by the new key)."""

        name: str
        role: str
        key_id: str
        public_key: str  # base64 of the 32-byte Ed25519 public key
        proof: str  # base64 of the 64-byte signature
        cause: str  # "enrolment", "reset", "succession", "service key"

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.key_id = self.key_id
            aggregate.public_key = self.public_key
            aggregate.role = self.role

    class KeyRevoked(LedgerAggregate.Event):
        key_id: str
        cause: str  # "reset", "deactivated", "succession", "service key"

        def apply(self, aggregate: StaffMember) -> None:
            if aggregate.key_id == self.key_id:
                aggregate.key_id = None
                aggregate.public_key = None
            aggregate.revoked.append(self.key_id)

    class SessionKeyVouched(LedgerAggregate.Event):
        """``custodes login``: the member's own key vouches for a fresh session key until
        ``expires`` (RFC 3339 UTC, as an act's time); the terminal keeps only that key, and
        ``verify`` holds an act it signs after then, or after the member's key is revoked,
        damage. ``proof``: the session key's signature of ``acts.session_message``."""

        key_id: str
        public_key: str  # base64 of the 32-byte Ed25519 public key
        proof: str
        parent_key_id: str
        expires: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.sessions[self.key_id] = {
                "parent": self.parent_key_id,
                "expires": self.expires,
                "at": self.timestamp.isoformat(),
                "version": self.originator_version,  # judged by order, not by time
            }

    class PassphraseChanged(LedgerAggregate.Event):
        key_id: str

        def apply(self, aggregate: StaffMember) -> None:
            # a browser session begun before it ends (web.app; red team, session 13)
            aggregate.passphrase_changed_at = self.timestamp
            aggregate.passphrase_changed_version = self.originator_version

    class SessionsEnded(LedgerAggregate.Event):
        """Every session key vouched for this member so far ends here, in the ledger's
        order (stored in clear, so ``verify`` holds an act such a key signs after it
        *revoked key*). Recorded with a passphrase change, in the same act: the old
        passphrase may be known, and so may the sessions it opened (session 16; before,
        only the commands ended them, from the encrypted ``PassphraseChanged``)."""

        cause: str  # "passphrase changed"

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.sessions.clear()

    # ---- authentication failures and lockout (encrypted) ----------------------------

    class AuthenticationFailed(LedgerAggregate.Event):
        cause: str  # "wrong passphrase", "locked out", "key file unusable"
        os_user: str

        def apply(self, aggregate: StaffMember) -> None:
            if self.cause in COUNTED_FAILURES:
                aggregate.failures.append(self.timestamp)

    class LockedOut(LedgerAggregate.Event):
        failures: int
        window_minutes: int

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.locked_out = True
            aggregate.locked_out_until = self.timestamp + timedelta(minutes=self.window_minutes)

    class LockoutCleared(LedgerAggregate.Event):
        reason: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.locked_out = False
            aggregate.failures = []

    # ---- acting Director (R3; stored in clear) ----------------------------------------

    class DirectorDelegated(LedgerAggregate.Event):
        """The Director names this member acting Director from ``start`` until ``until``
        (RFC 3339 UTC), on ``authority`` (e.g. board minutes)."""

        delegation_id: str
        start: str
        until: str
        authority: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.delegations[self.delegation_id] = {
                "start": self.start,
                "until": self.until,
                "authority": self.authority,
                "ended": None,
            }

    class DelegationEnded(LedgerAggregate.Event):
        delegation_id: str
        reason: str

        def apply(self, aggregate: StaffMember) -> None:
            if self.delegation_id in aggregate.delegations:
                aggregate.delegations[self.delegation_id]["ended"] = self.timestamp.isoformat()

    def __init__(
        self, name: str, role: str, actor: str, actor_role: str, occurred_at: datetime | None
    ) -> None:
        self.name = name
        self.role = role
        self.active = True
        self.added_by = actor
        self.key_id: str | None = None
        self.public_key: str | None = None
        self.revoked: list[str] = []
        self.failures: list[datetime] = []
        self.locked_out = False
        self.locked_out_until: datetime | None = None  # a Director's lockout lapses then
        self.delegations: dict[str, dict[str, Any]] = {}
        self.passphrase_changed_at: datetime | None = None
        self.passphrase_changed_version: int | None = None
        self.sessions: dict[str, dict[str, Any]] = {}  # key id -> parent, expires, at, version

    def locked(self, now: datetime) -> bool:
        """Locked out at ``now``: until the Director unlocks the member, but the Director's
        own lockout lapses after the failure window (nobody else may lift it, and anyone at
        the sign-in page could otherwise stop every decision for good)."""
        if not self.locked_out:
            return False
        until = self.locked_out_until if self.role == "director" else None
        return until is None or now < until

    def recent_failures(self, now: datetime, window: timedelta) -> int:
        return sum(1 for t in self.failures if now - t < window)

    def delegation_at(self, moment: datetime, last: datetime | None = None) -> str | None:
        """The delegation under which this member is acting Director at ``moment``, after
        acts recorded up to ``last`` (the ledger's latest recorded time, if known). As
        ``verify`` judges it (``ledger.act_check.Delegation.covers``): within its dates,
        never before what is already recorded, and not once its end is recorded,
        whatever time a clock reads (session 14: an acting Director's clock set back
        got past this check, and only the recorder stopped her, unrecorded)."""
        for delegation_id, d in self.delegations.items():
            start, until = datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["until"])
            if d["ended"] is not None or (last is not None and moment < last):
                continue
            if start <= moment < until:
                return delegation_id
        return None


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


KEY_ENROLLED = _topic(StaffMember.KeyEnrolled)
KEY_REVOKED = _topic(StaffMember.KeyRevoked)
DIRECTOR_DELEGATED = _topic(StaffMember.DirectorDelegated)
DELEGATION_ENDED = _topic(StaffMember.DelegationEnded)
# ``ledger.site.Site.ClockCorrected`` (this module does not import the site's):
# tests/unit/test_clock_correction.py checks the two agree.
CLOCK_CORRECTED = "ledger.site:Site.ClockCorrected"
SESSION_VOUCHED = _topic(StaffMember.SessionKeyVouched)
SESSIONS_ENDED = _topic(StaffMember.SessionsEnded)
CLEAR_TOPICS = frozenset(
    {
        KEY_ENROLLED,
        KEY_REVOKED,
        DIRECTOR_DELEGATED,
        DELEGATION_ENDED,
        CLOCK_CORRECTED,
        SESSION_VOUCHED,
        SESSIONS_ENDED,
    }
)
