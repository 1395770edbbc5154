"""The ledger application's core: who is acting, signed acts, the log and integrity.

Feature areas (staff identity, footage, disclosures) subclass :class:`LedgerBase` with
their command methods; ``ledger.app.Ledger`` combines them, so all aggregates live in ONE
application: one events table, one hash chain (docs/FORMAT.md). Every save is one act,
signed with the key of the member it names (R25), who must have unlocked it in this
process.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import ProgrammingError
from eventsourcing.utils import get_topic

from ledger import rules
from ledger.acts import ActRequest, Signer, act_time, format_time, key_id
from ledger.chain_reader import ChainReader
from ledger.clock import CLOCK_TOLERANCE, Clock, system_clock
from ledger.datadir import DataDir
from ledger.domain import Actor, LedgerAggregate
from ledger.errors import (
    ClockBehind,
    InvalidInput,
    KeyError_,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    unrecorded,
)
from ledger.names import NameRefused
from ledger.permissions import GATE_TOPICS, may_sign
from ledger.policy import RequestFacts, with_policy
from ledger.policy_params import PolicyParams, default_params
from ledger.policy_versions import ADOPTED_TOPICS, AdoptedVersion, Adoptions
from ledger.reads import READERS, Reading
from ledger.refusals import Refusal
from ledger.rules import Rule
from ledger.site import SITE_ID, Site
from ledger.staff import CLEAR_TOPICS, SERVICE_NAME, SERVICE_ROLE, StaffMember, staff_id
from ledger.text import attempted
from ledger.unlock import os_user

if TYPE_CHECKING:  # imported where used: an act on the DB-API path never imports it
    from ledger.store import ChainedApplicationRecorder


@dataclass(frozen=True)
class StaffView:
    name: str
    role: str
    active: bool
    added_on: datetime
    key_id: str | None
    locked_out: bool


def _staff_view(member: StaffMember, now: datetime) -> StaffView:
    return StaffView(
        member.name,
        member.role,
        member.active,
        member.created_on,
        member.key_id,
        member.locked(now),
    )


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

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        # Keys unlocked in this process, by member id (R25): a name alone proves nothing.
        self._keyring: dict[UUID, Signer] = {}
        self._service: Signer | None = None
        # ``_events_seen``: per set of topics, the log position read up to and the events
        # of those topics found before it, with their notification ids (this process only).
        self._seen: dict[
            tuple[str, ...], tuple[int, tuple[tuple[int, DomainEventProtocol[Any]], ...]]
        ] = {}

    def secret(self, name: str) -> bytes:
        """A site secret kept in the data directory, outside the database."""
        return self._datadir().secret(name)

    def _datadir(self) -> DataDir:
        if self.datadir is None:
            raise InvalidInput("this ledger was opened without a data directory")
        return self.datadir

    @property
    def chained_recorder(self) -> ChainedApplicationRecorder:
        """The SQLAlchemy chained recorder: the application's own, or, when the ledger was
        opened on the DB-API path (``ledger.dbapi_store``), one on the same database made
        on first use (the chain reader, read models and backups use its engine)."""
        from ledger.dbapi_store import DbapiFactory
        from ledger.store import ChainedApplicationRecorder

        recorder = self.recorder
        if isinstance(self.factory, DbapiFactory):
            recorder = self.factory.full_recorder()
        assert isinstance(recorder, ChainedApplicationRecorder)
        return recorder

    def site(self) -> Site:
        site = self._get(Site, SITE_ID)
        if site is None:
            raise NotFound("this ledger has no site yet: run custodes init --director NAME")
        return site

    # ---- the policy in force (R28) -------------------------------------------------------

    def policies(self) -> Adoptions:
        """The policy versions the site adopted (none before ``init``)."""
        site = self._get(Site, SITE_ID)
        return site.policies if site is not None else Adoptions()

    def policy_in_force(self, at: datetime | None = None) -> AdoptedVersion | None:
        """The adopted version in force at ``at`` (now by default); None before any."""
        return self.policies().in_force(at or self.clock())

    def policy_params(self, at: datetime | None = None) -> PolicyParams:
        """The one accessor the rules read their parameters through: the version in force
        (a ledger made before policy versions existed reads the default profile's)."""
        version = self.policy_in_force(at)
        return version.params if version is not None else default_params()

    def facts_of(self, request: Any) -> RequestFacts:
        """A request's facts with the parameters of the policy version in force (R28)."""
        return with_policy(request.facts(), self.policy_params())

    def retention_policy(self, captured: datetime) -> tuple[int, int | None]:
        """(retention days, the version they come from) for footage captured at
        ``captured`` (``Adoptions.retention``)."""
        return self.policies().retention(captured)

    def _cite_policy(self, objs: Sequence[Any]) -> None:
        """Stamp each event of this save with the policy version in force at its time and,
        for a decision that does not name its rule, the rule it applied (R28): one place,
        so no decision or refusal can forget its citation. ``verify --deep`` checks them."""
        events = [e for o in objs if o is not None for e in getattr(o, "pending_events", [o])]
        site = next((o for o in objs if isinstance(o, Site)), None)
        policies = site.policies if site is not None else self.policies()
        if not policies.adopted:
            return
        for event in events:
            topic = get_topic(type(event))
            if topic in CLEAR_TOPICS or topic in ADOPTED_TOPICS:
                continue
            version = policies.timeline.in_force(event.timestamp)
            if version is None:
                continue
            object.__setattr__(event, "policy_version", version)
            rule_id = rules.DECISION_RULES.get(topic)
            if rule_id is not None and not hasattr(event, "rule_id"):
                object.__setattr__(event, "rule_id", rule_id)

    # ---- who is acting (R23, R25) -----------------------------------------------------

    def member(self, name: str) -> StaffMember | None:
        """The staff member of this name (normalized), or None."""
        try:
            return self._get(StaffMember, staff_id(name)) if name.strip() else None
        except NameRefused:
            return None

    def unlock_with(self, signer: Signer) -> Signer:
        """Admit a key unlocked elsewhere (an unlock session, the web server's login) for
        acts in this process, once the ledger confirms it is the member's key in force;
        a stale one is refused and the refusal recorded."""
        member = self._get(StaffMember, signer.member_id)
        problem = self._signer_problem(member, signer)
        if problem is not None:
            self.refuse(
                Actor(signer.name, member.role if member else signer.role),
                "use an unlocked key",
                rules.STAFF_AUTHENTICATED,
                f"{signer.name} {problem}",
                authenticated=False,
            )
        assert member is not None
        admitted = Signer(
            member.id, member.name, member.role, signer.key_id, signer.private_key,
            parent=signer.parent, expires=signer.expires,
        )  # fmt: skip
        self._keyring[member.id] = admitted
        return admitted

    def _signer_problem(self, member: StaffMember | None, signer: Signer) -> str | None:
        """Why the ledger no longer holds ``signer`` in force for ``member``, or None."""
        if member is None or not member.active:
            return "is no longer an active staff member"
        if member.locked(self.clock()):
            return "is locked out (the Director unlocks: custodes staff unlock NAME)"
        if member.key_id != signer.main_key_id:
            return "unlocked a key that is no longer in force (it was reset or revoked)"
        if signer.parent is not None and not _session_in_force(member, signer, self.clock()):
            return "signed in with a session key that has ended or was never vouched for"
        return None

    def forget_unlocked(self) -> None:
        """Drop every key admitted in this process (the web server admits one member's
        key per request and forgets it after)."""
        self._keyring.clear()

    def admit(self, name: str, key: Ed25519PrivateKey) -> Signer:
        """Admit a key the caller holds (the Python API: tests, the demo) for acts in this
        process, as ``unlock_with`` does."""
        member = self.member(name)
        if member is None:
            raise NotFound(f"staff member {name!r} is not registered")
        return self.unlock_with(
            Signer(member.id, member.name, member.role, key_id(key.public_key()), key)
        )

    def act_as_service(self) -> str:
        """Admit the service identity's key (keys/service.key) for the sweep; its name."""
        signer = self.service_signer()
        self._keyring[signer.member_id] = signer
        return signer.name

    def service_signer(self) -> Signer:
        if self._service is None:
            key = self._datadir().service_key()
            member = self._get(StaffMember, staff_id(SERVICE_NAME))
            if member is None or member.key_id != key_id(key.public_key()):
                raise KeyError_(
                    "keys/service.key is not the service key enrolled in this ledger: "
                    "restore it from your key backup, or have the Director enrol a new one "
                    "(custodes staff service-key --reset)"
                )
            self._service = Signer(member.id, member.name, member.role, member.key_id, key)
        return self._service

    def authorize(
        self,
        actor: str,
        action: str,
        roles: Sequence[str],
        rule: Rule,
        *,
        subject: str = "",
    ) -> Actor:
        """The acting staff member, authenticated in this process; or a recorded refusal
        (R23, R25) and NotPermitted. ``roles`` empty: any active staff member (never the
        service identity unless named)."""
        member = self.member(actor)
        if member is None or not member.active:
            state = "is not a registered staff member" if member is None else "is deactivated"
            self.refuse(
                Actor(actor.strip() or "(none)", member.role if member else "unknown"),
                action,
                rules.STAFF_ACTIVE,
                f"{actor!r} {state}; only active staff may act "
                "(a Director adds staff with: custodes staff add NAME --role ROLE)",
                subject=subject,
                authenticated=False,
            )
        assert member is not None
        who = Actor(member.name, member.role)
        signer = self._keyring.get(member.id)
        if (
            signer is None
            or signer.main_key_id != member.key_id
            or (signer.expires is not None and self.clock() >= signer.expires)
            or member.locked(self.clock())
        ):
            self.refuse(
                who,
                action,
                rules.STAFF_AUTHENTICATED,
                f"{member.name} has not unlocked their key with their passphrase; a name "
                "alone proves nothing",
                subject=subject,
                authenticated=False,
            )
        if member.role == SERVICE_ROLE and SERVICE_ROLE not in roles:
            self.refuse(
                who,
                action,
                rules.SERVICE_SCOPE,
                "the service identity records the retention sweep and verifications only; "
                f"it may not {attempted(action)}",
                subject=subject,
            )
        if roles and member.role not in roles:
            delegation = self._delegation_now(member) if "director" in roles else None
            if delegation is not None:
                return Actor(member.name, "director", delegation)
            self.refuse(
                who,
                action,
                rule,
                f"{member.name} ({member.role.replace('_', ' ')}) may not {attempted(action)}; "
                f"only {' or '.join(r.replace('_', ' ') for r in roles)} may",
                subject=subject,
            )
        if not roles and member.role != "director":
            # An act any member may do, whose rules look at the role (a decision, a
            # release, a viewing): under a delegation she does it as the acting Director.
            delegation = self._delegation_now(member)
            if delegation is not None:
                return Actor(member.name, "director", delegation)
        return who

    def _delegation_now(self, member: StaffMember) -> str | None:
        """The delegation ``member`` acts under now, judged by the ledger's order too."""
        if not member.delegations:
            return None
        return member.delegation_at(self.clock(), act_time(self.chain_reader().head_act()))

    def refuse(
        self,
        who: Actor,
        action: str,
        rule: Rule,
        message: str,
        *,
        subject: str = "",
        authenticated: bool = True,
        shown: str | None = None,
    ) -> NoReturn:
        """Record the refused attempt, then raise: a refusal is audit data (R23).

        A refusal of someone who did not authenticate is signed by the service identity
        (it attests the attempt, not the claimed name). ``shown``: what the person refused
        is told, when it holds what they typed that is not recorded (default: ``message``)."""
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
            authenticated=authenticated,
        )
        try:
            self.save(refusal)
        except ClockBehind as e:  # a clock set ahead blocks every act, this refusal's too
            raise unrecorded(rule, shown or message, e) from e
        raise NotPermitted(rule, shown or message)

    def staff(self) -> list[StaffView]:
        now = self.clock()
        return sorted(
            (_staff_view(m, now) for m in self._members()), key=lambda v: v.name.casefold()
        )

    def _members(self) -> list[StaffMember]:
        return [
            self.repository.get(e.originator_id)
            for e in self._events_of(StaffMember.StaffMemberAdded)
        ]

    def record_read(
        self,
        record: str,
        subject: str,
        *,
        actor: str,
        detail: str = "",
        may_also: str | None = None,
    ) -> Actor:
        """Authorize and record a read of confidential details (R27); refused and recorded
        otherwise. ``may_also`` names one more member who may read this subject (whoever
        took the request in may see what they entered)."""
        if record not in READERS:
            raise ValueError(f"unknown kind of record {record!r}")
        roles = READERS[record]
        member = self.member(actor)
        if may_also is not None and member is not None and member.name == may_also:
            roles = ()
        who = self.authorize(
            actor, f"read the {record} of {subject}", roles, rules.READ_CONFIDENTIAL,
            subject=subject,
        )  # fmt: skip
        reading = Reading._create(
            Reading.ConfidentialRecordRead,
            id=uuid4(),
            timestamp=self.clock(),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            record=record,
            subject=subject,
            detail=detail,
        )
        self.save(reading)
        return who

    # ---- every save is one signed act (R25, R26) ----------------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        self._cite_policy(objs)
        if "act" not in kwargs:
            kwargs["act"] = self._act_for(objs)
        return super().save(*objs, **kwargs)

    def _act_for(self, objs: Sequence[Any]) -> ActRequest:
        events = [e for o in objs if o is not None for e in getattr(o, "pending_events", [o])]
        names = {getattr(e, "actor", None) for e in events}
        if len(names) != 1 or None in names:
            raise ProgrammingError(
                f"one act is one actor's: this save names {sorted(map(str, names))}"
            )
        [name] = names
        topics = [get_topic(type(e)) for e in events]
        if any(_unauthenticated(e) for e in events):
            # An attempt by someone who did not authenticate is attested by the service
            # identity, never signed with a key held here (it may be the very key refused).
            if not all(t in GATE_TOPICS for t in topics):
                raise ProgrammingError("an unauthenticated attempt is recorded on its own")
            signer: Signer | None = self.service_signer()
        else:
            try:
                signer = self._keyring.get(staff_id(str(name)))
            except NameRefused:
                signer = None
        if signer is None:
            raise NotAuthenticated(f"{name} has not unlocked their key in this process")
        if signer.parent is not None:
            self._session_still_in_force(signer)
        delegation = None
        if any(not may_sign(signer.role, t) for t in topics):
            member = self._get(StaffMember, signer.member_id)
            delegation = self._delegation_now(member) if member is not None else None
        return ActRequest(signer, os_user(), self.clock, delegation)

    def _session_still_in_force(self, signer: Signer) -> None:
        """A session key admitted earlier in this process, checked again as it signs: the
        member may have changed their passphrase (or the Director reset their key) in
        another process since, and ``verify`` would hold the act damage for good (review
        of session 16: a long ingest or a second terminal did so). Refused and recorded,
        the key forgotten. What remains is the moment between this read and the chain's
        lock, which only the recorder could close."""
        member = self._get(StaffMember, signer.member_id)
        if self._signer_problem(member, signer) is None:
            return
        self._keyring.pop(signer.member_id, None)
        self.refuse(
            Actor(signer.name, member.role if member else signer.role),
            "use an unlocked key",
            rules.STAFF_AUTHENTICATED,
            f"{signer.name}'s session ended (a passphrase change, a reset or its end) after "
            "this command began; sign in again",
            authenticated=False,
        )

    # ---- reading the log ------------------------------------------------------------------

    def not_this_ledger(self) -> str | None:
        """Why the ledger in the database is not this data directory's, or None: its first
        entry does not decrypt with the data directory's events key. Red team (session
        17): with another library's ledger in its schema (swapped, or a schema typed
        wrong), ``custodes verify`` said OK, as that chain is intact and signed by that
        library's own members; only two warnings said its keys could not read it."""
        first = self.recorder.select_notifications(1, 1)
        if not first:
            return None
        try:
            self.mapper.to_domain_event(first[0])
        except Exception as e:
            cause = str(e).strip().splitlines()[-1].rsplit(": ", 1)[-1] if str(e).strip() else ""
            return (
                f"the ledger's first entry does not decrypt with this data directory's events "
                f"key ({cause or type(e).__name__}): the database holds another ledger (another "
                "library's, or one made anew), or the data directory is not this ledger's"
            )
        return None

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

    def _events_of(
        self, *classes: type, start: int = 1, stop: int | None = None
    ) -> Iterator[DomainEventProtocol[Any]]:
        return (event for _, event in self._numbered_events_of(*classes, start=start, stop=stop))

    def _numbered_events_of(
        self, *classes: type, start: int = 1, stop: int | None = None
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        """``_events_of``, each event with its notification id."""
        topics = [get_topic(c) for c in classes]
        while True:
            batch = self.recorder.select_notifications(start, 500, stop=stop, topics=topics)
            for n in batch:
                yield n.id, self.mapper.to_domain_event(n)
            if len(batch) < 500:
                return
            start = batch[-1].id + 1

    def _events_seen(self, *classes: type) -> tuple[DomainEventProtocol[Any], ...]:
        """Every event of these (rare) classes in the log, oldest first, as
        ``_events_of`` reads them, but kept in this process between calls: each call reads
        only the log after the position the last one reached (a long-running server, e.g.
        the dashboard, does not scan the whole log on every page). The log is append-only
        (R21: rows are never updated or deleted), so what was found before stays found; a
        log shorter than the position reached is another log (a restored copy): read
        again from its start."""
        return tuple(event for _, event in self._numbered_events_seen(*classes))

    def _numbered_events_seen(
        self, *classes: type
    ) -> tuple[tuple[int, DomainEventProtocol[Any]], ...]:
        """``_events_seen``, each event with its notification id."""
        key = tuple(sorted(get_topic(c) for c in classes))
        upto, found = self._seen.get(key, (0, ()))
        head = self.recorder.max_notification_id() or 0
        if head < upto:
            upto, found = 0, ()
        if head > upto:
            found = (*found, *self._numbered_events_of(*classes, start=upto + 1, stop=head))
            self._seen[key] = (head, found)
        return found

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


def _session_in_force(member: StaffMember, signer: Signer, now: datetime) -> bool:
    """Whether the ledger vouched for this session key, by the member's key in force, with
    the expiry it claims, it has not ended, and the member has not changed their passphrase
    since (a change says the old one may be known: its sessions end with it)."""
    vouched = member.sessions.get(signer.key_id)
    changed = member.passphrase_changed_version
    return (
        vouched is not None
        and vouched["parent"] == member.key_id
        and signer.expires is not None
        and format_time(signer.expires) == vouched["expires"]
        and now < signer.expires
        # vouched by a clock set ahead (red team, session 15): not a session of this clock's
        and datetime.fromisoformat(vouched["at"]) <= now + CLOCK_TOLERANCE
        # the member's own order of events: a session from before a passphrase change ends
        and (changed is None or vouched.get("version", 0) > changed)
    )


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "actor",
    "actor_role",
    "occurred_at",
}


def _unauthenticated(event: Any) -> bool:
    """A record of an attempt by someone who did not authenticate (R23, R25)."""
    if isinstance(event, StaffMember.AuthenticationFailed | StaffMember.LockedOut):
        return True
    return isinstance(event, Refusal.AccessDenied) and not event.authenticated


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
