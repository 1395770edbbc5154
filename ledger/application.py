"""The ledger application's core: site, staff, who may act, the log and integrity.

Feature areas (footage, disclosures) subclass :class:`LedgerBase` with their command
methods; ``ledger.app.Ledger`` combines them, so all aggregates live in ONE application:
one events table, one hash chain (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol

from ledger import rules
from ledger.chain_reader import ChainReader
from ledger.clock import Clock, system_clock
from ledger.datadir import DataDir
from ledger.domain import Actor, LedgerAggregate
from ledger.errors import InvalidInput, NotFound, NotPermitted
from ledger.refusals import Refusal
from ledger.rules import Rule
from ledger.site import DEFAULT_LIVE_WINDOW_HOURS, DEFAULT_RETENTION_DAYS, SITE_ID, Site
from ledger.staff import ROLES, StaffMember, staff_id
from ledger.store import ChainedApplicationRecorder


@dataclass(frozen=True)
class StaffView:
    name: str
    role: str
    active: bool
    added_on: datetime


@dataclass(frozen=True)
class LogEntry:
    notification_id: int
    recorded_at: datetime
    kind: str
    topic: str
    aggregate_id: UUID
    version: int
    actor: str
    actor_role: str
    occurred_at: datetime | None
    details: dict[str, Any]


class LedgerBase(Application):
    name = "Ledger"
    is_snapshotting_enabled = False
    datadir: DataDir | None = None
    # The time of every act (R26): the system clock, or a ManualClock given through the
    # Python API (tests, the demo); never a command-line option.
    clock: Clock = staticmethod(system_clock)

    def secret(self, name: str) -> bytes:
        """A site secret kept in the data directory, outside the database."""
        if self.datadir is None:
            raise InvalidInput("this ledger was opened without a data directory")
        return self.datadir.secret(name)

    @property
    def chained_recorder(self) -> ChainedApplicationRecorder:
        assert isinstance(self.recorder, ChainedApplicationRecorder)
        return self.recorder

    # ---- site and staff -------------------------------------------------------------------

    def initialise(
        self,
        *,
        director: str,
        library: str,
        timezone: str,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        live_window_hours: int = DEFAULT_LIVE_WINDOW_HOURS,
        log_origin: str | None = None,
    ) -> None:
        """Create the site and its first Director, who bootstraps the staff directory."""
        now = self.clock()
        director = _clean_name(director, "director")
        if retention_days < 1 or live_window_hours < 1:
            raise InvalidInput("retention days and live-window hours must be at least 1")
        if self._get(Site, SITE_ID) is not None:
            raise InvalidInput("this ledger is initialised already")
        common = dict(actor=director, actor_role="director", occurred_at=None, timestamp=now)
        site = Site._create(
            Site.SiteInitialised,
            id=SITE_ID,
            library=library,
            timezone=timezone,
            retention_days=retention_days,
            live_window_hours=live_window_hours,
            log_origin=log_origin or f"custodes/{uuid4()}",
            **common,
        )
        member = StaffMember._create(
            StaffMember.StaffMemberAdded,
            id=staff_id(director),
            name=director,
            role="director",
            **common,
        )
        self.save(site, member)

    def site(self) -> Site:
        site = self._get(Site, SITE_ID)
        if site is None:
            raise NotFound("this ledger has no site yet: run custodes init --director NAME")
        return site

    def add_staff(self, name: str, role: str, *, actor: str) -> StaffView:
        now = self.clock()
        who = self.authorize(
            actor, "add staff members", ("director",), rules.STAFF_ROLE, subject=name
        )
        name = _clean_name(name, "staff member")
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        if self._get(StaffMember, staff_id(name)) is not None:
            raise InvalidInput(f"staff member {name!r} exists already")
        member = StaffMember._create(
            StaffMember.StaffMemberAdded,
            id=staff_id(name),
            name=name,
            role=role,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(member)
        return _staff_view(member)

    def deactivate_staff(self, name: str, *, actor: str, reason: str) -> None:
        now = self.clock()
        who = self.authorize(
            actor, "deactivate staff members", ("director",), rules.STAFF_ROLE, subject=name
        )
        member = self._get(StaffMember, staff_id(name))
        if member is None:
            raise NotFound(f"staff member {name!r} is not registered (see: custodes staff list)")
        if not member.active:
            raise InvalidInput(f"staff member {member.name!r} is deactivated already")
        if member.name.casefold() == who.name.casefold():
            raise InvalidInput("a Director cannot deactivate themselves; ask another Director")
        member.trigger_event(
            StaffMember.StaffMemberDeactivated,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            reason=reason,
        )
        self.save(member)

    def staff(self) -> list[StaffView]:
        members: list[StaffMember] = [
            self.repository.get(e.originator_id)
            for e in self._events_of(StaffMember.StaffMemberAdded)
        ]
        return sorted((_staff_view(m) for m in members), key=lambda v: v.name.casefold())

    # ---- who may act ----------------------------------------------------------------------

    def authorize(
        self,
        actor: str,
        action: str,
        roles: Sequence[str],
        rule: Rule,
        *,
        subject: str = "",
    ) -> Actor:
        """The acting staff member, or a recorded refusal (R23) and NotPermitted."""
        member = self._get(StaffMember, staff_id(actor)) if actor.strip() else None
        if member is None or not member.active:
            state = "is not a registered staff member" if member is None else "is deactivated"
            self.refuse(
                Actor(actor or "(none)", member.role if member else "unknown"),
                action,
                rules.STAFF_ACTIVE,
                f"{actor!r} {state}; only active staff may act "
                "(a Director adds staff with: custodes staff add NAME --role ROLE)",
                subject=subject,
            )
        assert member is not None
        who = Actor(member.name, member.role)
        if roles and member.role not in roles:
            self.refuse(
                who,
                action,
                rule,
                f"{member.name} ({member.role}) may not {action}; "
                f"only {' or '.join(r.replace('_', ' ') for r in roles)} may",
                subject=subject,
            )
        return who

    def refuse(
        self, who: Actor, action: str, rule: Rule, message: str, *, subject: str = ""
    ) -> None:
        """Record the refused attempt, then raise: a refusal is audit data (R23)."""
        now = self.clock()
        refusal = Refusal._create(
            Refusal.AccessDenied,
            id=uuid4(),
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            action=action,
            subject=subject,
            rule_id=rule.id,
            rule_source=rule.source,
            message=message,
        )
        self.save(refusal)
        raise NotPermitted(rule, message)

    # ---- reading the log ------------------------------------------------------------------

    def read_log(
        self,
        *,
        start: int = 1,
        limit: int | None = None,
        kinds: Sequence[str] = (),
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[LogEntry]:
        """Events oldest first, decrypted, filtered; streams page by page."""
        produced = 0
        wanted = {k.casefold() for k in kinds}
        for notification in self._notifications(start):
            event = self.mapper.to_domain_event(notification)
            kind = type(event).__name__
            if wanted and kind.casefold() not in wanted:
                continue
            entry = _log_entry(notification.id, notification.topic, event)
            if actor and entry.actor.casefold() != actor.casefold():
                continue
            if since and entry.recorded_at < since:
                continue
            if until and entry.recorded_at >= until:
                continue
            yield entry
            produced += 1
            if limit is not None and produced >= limit:
                return

    def _notifications(self, start: int, page: int = 500) -> Iterator[Any]:
        while True:
            batch = self.recorder.select_notifications(start, page)
            yield from batch
            if len(batch) < page:
                return
            start = batch[-1].id + 1

    def _events_of(self, *classes: type) -> Iterator[DomainEventProtocol[Any]]:
        from eventsourcing.utils import get_topic

        topics = [get_topic(c) for c in classes]
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 500, topics=topics)
            for n in batch:
                yield self.mapper.to_domain_event(n)
            if len(batch) < 500:
                return
            start = batch[-1].id + 1

    # ---- integrity ------------------------------------------------------------------------

    def chain_reader(self) -> ChainReader:
        return ChainReader(self.chained_recorder)

    def chain_head(self) -> tuple[int, bytes]:
        return ChainReader(self.chained_recorder).head()

    def _get(self, cls: type[LedgerAggregate], aggregate_id: UUID) -> Any:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _clean_name(name: str, what: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(f"the {what}'s name is empty")
    if len(name) > 120:
        raise InvalidInput(f"the {what}'s name is longer than 120 characters")
    return name


def _staff_view(member: StaffMember) -> StaffView:
    return StaffView(member.name, member.role, member.active, member.created_on)


_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "actor",
    "actor_role",
    "occurred_at",
}


def _log_entry(notification_id: int, topic: str, event: Any) -> LogEntry:
    fields = dict(event.__dict__)
    return LogEntry(
        notification_id=notification_id,
        recorded_at=event.timestamp,
        kind=type(event).__name__,
        topic=topic,
        aggregate_id=event.originator_id,
        version=event.originator_version,
        actor=fields.get("actor", ""),
        actor_role=fields.get("actor_role", ""),
        occurred_at=fields.get("occurred_at"),
        details={k: v for k, v in fields.items() if k not in _BASE_FIELDS},
    )
