"""The site: the library this ledger belongs to and its retention settings (R13, R16, R24)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ledger import sitetime
from ledger.domain import LedgerAggregate, stable_id

SITE_ID = stable_id("site", "site")
DEFAULT_RETENTION_DAYS = 30
DEFAULT_LIVE_WINDOW_HOURS = 24


class Site(LedgerAggregate):
    class SiteInitialised(LedgerAggregate.Created):
        library: str
        timezone: str
        retention_days: int
        live_window_hours: int
        log_origin: str

    class SiteSettingsChanged(LedgerAggregate.Event):
        retention_days: int
        live_window_hours: int
        schedule_authority: dict | None
        reason: str

        def apply(self, aggregate: Site) -> None:
            aggregate.retention_days = self.retention_days
            aggregate.live_window_hours = self.live_window_hours
            aggregate.schedule_authority = self.schedule_authority

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

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone: every time is shown in it, with its label (R24)."""
        return sitetime.site_zone(self.timezone)
