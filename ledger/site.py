"""The site: the library this ledger belongs to, its retention settings (R13, R16, R24),
its sign-in settings (R25: lockout after failed passphrases, how long an unlock lasts) and
the policy versions it adopted (R28)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledger import sitetime
from ledger.domain import LedgerAggregate, stable_id
from ledger.policy_versions import Adoptions, adoption_of, version_of

SITE_ID = stable_id("site", "site")
DEFAULT_RETENTION_DAYS = 30
DEFAULT_LIVE_WINDOW_HOURS = 24
DEFAULT_MAX_FAILURES = 5
DEFAULT_FAILURE_WINDOW_MINUTES = 15
DEFAULT_UNLOCK_MINUTES = 10


class Site(LedgerAggregate):
    class SiteInitialised(LedgerAggregate.Created):
        library: str
        timezone: str
        retention_days: int
        live_window_hours: int
        log_origin: str
        policy: dict | None = None  # policy version 1, adopted in the same act (R28)

        def apply(self, aggregate: Site) -> None:
            record = adoption_of(self)
            if record is not None:
                aggregate.policies.add(version_of(record, self.timestamp, self.actor))

    class PolicyAdopted(LedgerAggregate.Event):
        """A new version of the library's policy (R28): ``ledger.policy_commands``."""

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

        def apply(self, aggregate: Site) -> None:
            record = adoption_of(self)
            assert record is not None
            aggregate.policies.add(version_of(record, self.timestamp, self.actor))

    class SiteSettingsChanged(LedgerAggregate.Event):
        retention_days: int
        live_window_hours: int
        schedule_authority: dict | None
        reason: str

        def apply(self, aggregate: Site) -> None:
            aggregate.retention_days = self.retention_days
            aggregate.live_window_hours = self.live_window_hours
            aggregate.schedule_authority = self.schedule_authority

    class SecuritySettingsChanged(LedgerAggregate.Event):
        max_failures: int
        failure_window_minutes: int
        unlock_minutes: int

        def apply(self, aggregate: Site) -> None:
            aggregate.max_failures = self.max_failures
            aggregate.failure_window_minutes = self.failure_window_minutes
            aggregate.unlock_minutes = self.unlock_minutes

    class WitnessPolicySet(LedgerAggregate.Event):
        """The witness policy in force (C2SP tlog-policy text), and why it changed."""

        policy: str
        sha256: str
        reason: str

        def apply(self, aggregate: Site) -> None:
            aggregate.witness_policy = self.policy

    class ClockCorrected(LedgerAggregate.Event):
        """The Director sets aside the recorded time of acts a clock set ahead recorded
        (R26): the ledger's last recorded time was ``set_aside``, later than any clock
        that should record, and every later act would be refused. The acts from
        ``from_position`` on keep their entries and their (wrong) times; later acts are
        timed from this one. Stored in clear (``ledger.staff.CLEAR_TOPICS``), so that
        ``verify`` lists it without the events key: the reason holds no patron details."""

        set_aside: str  # RFC 3339 UTC: the ledger's last recorded time, set aside
        from_position: int  # the first entry of the first act recorded ahead
        acts: int  # how many acts were recorded ahead
        reason: str
        # RFC 3339 UTC: the latest time among those acts (since session 19; an act may be
        # timed up to the clocks' tolerance before the act preceding it, so the last act's
        # time, ``set_aside``, need not be the latest). Empty in earlier corrections.
        latest: str = ""

        def apply(self, aggregate: Site) -> None:
            aggregate.clock_corrections.append(self)

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        library: str,
        timezone: str,
        retention_days: int,
        live_window_hours: int,
        log_origin: str,
    ) -> None:
        self.library = library
        self.timezone = timezone
        self.retention_days = retention_days
        self.live_window_hours = live_window_hours
        self.log_origin = log_origin
        self.schedule_authority: dict | None = None
        self.max_failures = DEFAULT_MAX_FAILURES
        self.failure_window_minutes = DEFAULT_FAILURE_WINDOW_MINUTES
        self.unlock_minutes = DEFAULT_UNLOCK_MINUTES
        self.policies = Adoptions()
        self.witness_policy: str | None = None  # tlog-policy text, once the Director sets one
        self.clock_corrections: list[Site.ClockCorrected] = []  # oldest first (R26)

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone: every time is shown in it, with its label (R24)."""
        return sitetime.site_zone(self.timezone)


def clock_correction_subject(moment: datetime) -> str:
    """What a report names the Director's clock correction recorded at ``moment`` by (an
    attention item's subject, checked by ``verify-report`` against the site's events)."""
    return f"clock correction {sitetime.iso_utc(moment)}"


def set_aside_subject(segment_id: str, correction: datetime) -> str:
    """What a report names a purge set aside by the correction recorded at ``correction``
    by (an attention item's subject; ``set_aside_of`` reads it back)."""
    return f"{segment_id} {clock_correction_subject(correction)}"


_SET_ASIDE = re.compile(r"^([0-9a-f]{12}) (clock correction \S+)$")


def set_aside_of(subject: str) -> tuple[str, str] | None:
    """The segment and the correction's subject a ``set_aside_subject`` names, or None."""
    match = _SET_ASIDE.match(subject)
    return (match[1], match[2]) if match else None
