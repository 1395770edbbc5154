"""Adopted policy versions (R28): what was adopted, and when it took effect.

The site holds every adoption: version 1 in its ``SiteInitialised`` event (``init``'s act),
later ones as ``PolicyAdopted`` events, each with its version number, the SHA-256 of both
files' canonical bytes, the text and the parameters themselves, who approved it (the board) with their reference, the effective date, and the
instant it took effect. Versions are numbered 1, 2, ... and take effect in that order: the
version in force at an instant is the highest one whose effective instant is at or before
it. A version adopted to take effect before one still pending (adopted for a later date)
supersedes it: the pending one never takes effect. ``Timeline`` is that rule as plain
data, used by the ledger and by ``verify`` alike.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.policy_params import PolicyParams, default_params

# The events that adopt a version: the site's first act carries version 1 (R28).
ADOPTED_TOPICS = frozenset({"ledger.site:Site.SiteInitialised", "ledger.site:Site.PolicyAdopted"})


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
    """Versions by effective instant (increasing with the version number); ``superseded``:
    the versions that never took effect because a later adoption took effect first."""

    starts: list[datetime] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    superseded: dict[int, int] = field(default_factory=dict)  # version -> superseded by

    def add(self, version: int, effective_at: datetime) -> None:
        # A version is never adopted retroactively, so one starting after this one has
        # not taken effect yet: this adoption supersedes it. (One starting at the same
        # instant stays, and is in force at no instant: the later version wins there.)
        while self.starts and self.starts[-1] > effective_at:
            self.starts.pop()
            self.superseded[self.versions.pop()] = version
        self.starts.append(effective_at)
        self.versions.append(version)

    def in_force(self, at: datetime) -> int | None:
        i = bisect.bisect_right(self.starts, at)
        return self.versions[i - 1] if i else None

    def until(self, version: int) -> datetime | None:
        """When ``version`` stops being in force (the next one's start), None: not yet."""
        i = self.versions.index(version)
        return self.starts[i + 1] if i + 1 < len(self.starts) else None

    @property
    def latest(self) -> int:
        return self.versions[-1] if self.versions else 0


class Adoptions:
    """The versions adopted so far, in order, and when each took effect (on the Site)."""

    def __init__(self) -> None:
        self.adopted: list[AdoptedVersion] = []
        self.timeline = Timeline()

    def add(self, version: AdoptedVersion) -> None:
        self.adopted.append(version)
        self.timeline.add(version.version, version.effective_at)

    def in_force(self, at: datetime) -> AdoptedVersion | None:
        number = self.timeline.in_force(at)
        return None if number is None else self.adopted[number - 1]

    def get(self, version: int) -> AdoptedVersion | None:
        return self.adopted[version - 1] if 1 <= version <= len(self.adopted) else None

    def pending(self, at: datetime) -> list[AdoptedVersion]:
        """The versions adopted to take effect after ``at``, not superseded: those a version
        taking effect at ``at`` supersedes (``Timeline.add``)."""
        return [v for n in self.timeline.versions if (v := self.adopted[n - 1]).effective_at > at]

    def retention(self, captured: datetime) -> tuple[int, int | None]:
        """(retention days, the version they come from) for footage captured at
        ``captured``: the version in force then, else the first version (footage older than
        the ledger's first policy), else the default profile's days (R28)."""
        if not self.adopted:
            return default_params().retention_days, None
        version = self.in_force(captured) or self.adopted[0]
        return version.params.retention_days, version.version


def adoption_of(event: Any) -> dict[str, Any] | None:
    """The adoption an event records: ``Site.PolicyAdopted``'s fields, or version 1 in
    ``Site.SiteInitialised``'s ``policy`` (None for a ledger made before R28)."""
    if type(event).__name__ == "SiteInitialised":
        policy: dict[str, Any] | None = getattr(event, "policy", None)
        return policy
    return {k: getattr(event, k) for k in ADOPTION_FIELDS}


def version_of(record: dict[str, Any], adopted_at: datetime, adopted_by: str) -> AdoptedVersion:
    return AdoptedVersion(
        version=record["version"],
        text_sha256=record["text_sha256"],
        params_sha256=record["params_sha256"],
        params=PolicyParams.from_json(record["params"]),
        text=record["text"],
        profile=record["profile"],
        approved_by=record["approved_by"],
        approval_ref=record["approval_ref"],
        effective_date=date.fromisoformat(record["effective_date"]),
        effective_at=as_instant(record["effective_at"]),
        adopted_at=adopted_at,
        adopted_by=adopted_by,
    )


def as_instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


ADOPTION_FIELDS = (
    "version",
    "profile",
    "text_sha256",
    "params_sha256",
    "text",
    "params",
    "approved_by",
    "approval_ref",
    "effective_date",
    "effective_at",
)
