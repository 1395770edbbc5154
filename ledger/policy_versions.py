"""Adopted policy versions (R28): the register of what was adopted, when it took effect.

One aggregate, ``PolicyRegister``, holds every adoption as a ``PolicyAdopted`` event:
version number, the SHA-256 of both files' canonical bytes, the text and the parameters
themselves, who approved it (the board) with their reference, the effective date, and the
instant it took effect. Versions are numbered 1, 2, ... and take effect in that order: the
version in force at an instant is the highest one whose effective instant is at or before
it. ``Timeline`` is that rule as plain data, used by the ledger and by ``verify`` alike.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.domain import LedgerAggregate, stable_id
from ledger.policy_params import PolicyParams

POLICY_REGISTER_ID = stable_id("policy", "register")
REGISTER_TOPIC = "ledger.policy_versions:PolicyRegister."
ADOPTED_TOPICS = frozenset(
    {REGISTER_TOPIC + "PolicyAdopted", REGISTER_TOPIC + "FirstPolicyAdopted"}
)


@dataclass(frozen=True)
class AdoptedVersion:
    version: int
    text_sha256: str
    params_sha256: str
    params: PolicyParams
    text: str
    profile: str
    approved_by: str
    approval_ref: str
    effective_date: date
    effective_at: datetime
    adopted_at: datetime
    adopted_by: str

    def summary(self) -> str:
        return (
            f"version {self.version} ({self.profile}), approved by {self.approved_by}, "
            f"{self.approval_ref}"
        )


@dataclass
class Timeline:
    """Versions by effective instant (non-decreasing with the version number)."""

    starts: list[datetime] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)

    def add(self, version: int, effective_at: datetime) -> None:
        self.starts.append(effective_at)
        self.versions.append(version)

    def in_force(self, at: datetime) -> int | None:
        i = bisect.bisect_right(self.starts, at)
        return self.versions[i - 1] if i else None

    @property
    def latest(self) -> int:
        return self.versions[-1] if self.versions else 0

    @property
    def latest_start(self) -> datetime | None:
        return self.starts[-1] if self.starts else None


class PolicyRegister(LedgerAggregate):
    class PolicyAdopted(LedgerAggregate.Event):
        version: int
        profile: str
        text_sha256: str
        params_sha256: str
        text: str
        params: dict[str, Any]
        approved_by: str
        approval_ref: str
        effective_date: str  # ISO date, a site day
        effective_at: datetime  # the instant it took effect (never before its adoption)

        def apply(self, aggregate: PolicyRegister) -> None:
            aggregate.adopted.append(_version_of(self))
            aggregate.timeline.add(self.version, self.effective_at)

    class FirstPolicyAdopted(PolicyAdopted, LedgerAggregate.Created):
        """Version 1, which opens the register (in ``init``'s act)."""

    def __init__(self, actor: str, actor_role: str, occurred_at: datetime | None) -> None:
        self.adopted: list[AdoptedVersion] = []
        self.timeline = Timeline()

    def in_force(self, at: datetime) -> AdoptedVersion | None:
        number = self.timeline.in_force(at)
        return None if number is None else self.adopted[number - 1]

    def get(self, version: int) -> AdoptedVersion | None:
        return self.adopted[version - 1] if 1 <= version <= len(self.adopted) else None


def _version_of(e: PolicyRegister.PolicyAdopted) -> AdoptedVersion:
    return AdoptedVersion(
        version=e.version,
        text_sha256=e.text_sha256,
        params_sha256=e.params_sha256,
        params=PolicyParams.from_json(e.params),
        text=e.text,
        profile=e.profile,
        approved_by=e.approved_by,
        approval_ref=e.approval_ref,
        effective_date=date.fromisoformat(e.effective_date),
        effective_at=e.effective_at,
        adopted_at=e.timestamp,
        adopted_by=e.actor,
    )
