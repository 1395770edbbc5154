"""Checking signed acts as the chain is walked (R25, R26): who held which key when.

Pure: no database, no events key. The verifier learns the staff keys from the key
events stored in clear (``ledger.staff.CLEAR_TOPICS``) in the order the chain holds them,
and checks every act's record (``ledger.acts``) against the key in force at its position:

* the record is a well-formed envelope whose statement describes exactly its entries;
* its key is known (enrolled by an earlier act) and not revoked; its signature verifies;
  the statement's signer is the key's member;
* its time does not go back more than ``CLOCK_TOLERANCE`` behind the act before it,
  unless it is the Director's clock correction that sets aside exactly that act's time
  (``ledger.clock_commands``), an act of its own, listed in ``corrections``;
* its time is not after the verification runs (a clock set ahead), unless a later
  correction sets it aside: that damage waits for the end of the walk (``deferred``);
* the signer's role may record every kind of event in the act (``ledger.permissions``),
  a Director's role held by an acting Director only inside her recorded delegation;
* a new key proves possession, belongs to a member with no other active key, and a
  second active Director's key is refused (R3).

The first act of a ledger is the one exception: it enrols the first Director and the
service identity and is signed by the Director's own new key (the ledger's root of trust:
compare its key id with the one ``custodes init`` printed).
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.acts import (
    ActInvalid,
    Envelope,
    Statement,
    enrolment_message,
    format_time,
    key_id,
    parse_time,
    session_message,
)
from ledger.chain import ClearEvent, Damage, PendingAct
from ledger.clock import CLOCK_TOLERANCE
from ledger.permissions import GATE_TOPICS, may_sign
from ledger.policy_versions import ADOPTED_TOPICS, Timeline, adoption_of, as_instant
from ledger.staff import (
    CLEAR_TOPICS,
    CLOCK_CORRECTED,
    DELEGATION_ENDED,
    DIRECTOR_DELEGATED,
    KEY_ENROLLED,
    KEY_REVOKED,
    SERVICE_ROLE,
    SESSION_VOUCHED,
    SESSIONS_ENDED,
)
from ledger.unlock import MAX_UNLOCK

RELEASED = "ledger.disclosure:Request.DisclosureReleased"
VERIFIED = "ledger.verification_records:VerificationRecord.LedgerVerified"
# How many acts back the checker remembers the chain's act boundaries: how far a clock
# correction may reach, and a recorded verification may name the end it verified (it is
# recorded once it ends; others' acts may come between).
ACT_WINDOW = 65_536
MAX_SESSION = MAX_UNLOCK + CLOCK_TOLERANCE  # the longest unlock a site may give, vouched
RECORD_ISSUED = "ledger.disclosure_records:DisclosureRecord.RecordIssued"
REQUEST_EVENTS = "ledger.disclosure:Request."
SITE_EVENTS = "ledger.site:Site."


@dataclass
class KeyInForce:
    member: UUID
    name: str
    role: str
    public_key: Ed25519PublicKey
    enrolled_at: int
    revoked_at: int | None = None
    # a session key (custodes login): the member's key that vouched for it, and its end
    parent: str | None = None
    expires: datetime | None = None
    vouched_at: datetime | None = None  # the vouching act's recorded time
    ended_at: int | None = None  # a session key: its member's SessionsEnded, by position


@dataclass
class Delegation:
    member: UUID
    start: datetime
    until: datetime
    ended: bool = False  # a DelegationEnded entry came before (by position, not by time)

    def covers(self, member: UUID, moment: datetime, last: datetime | None) -> bool:
        """Whether an act of ``member`` at ``moment``, after acts up to ``last`` (the
        latest time recorded before it), is under this delegation: within its dates, no
        earlier than anything recorded before it, and before its end in the chain. Judged
        by position as well as by the act's own time, which its signer chooses (red team,
        session 14: acts appended after the end or the lapse, dated just inside the
        delegation within the clock's tolerance, passed)."""
        return (
            member == self.member
            and not self.ended
            and self.start <= moment < self.until
            and (last is None or moment >= last)
        )


@dataclass(frozen=True)
class Correction:
    """The Director's clock correction (``ledger.site.Site.ClockCorrected``), as checked."""

    position: int
    by: str
    recorded: datetime
    set_aside: datetime
    from_position: int
    acts: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "by": self.by,
            "recorded": format_time(self.recorded),
            "set_aside": format_time(self.set_aside),
            "from_position": self.from_position,
            "acts": self.acts,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Deferred:
    """Damage found at an act that a later act may still excuse: reported when the walk
    ends (or meets later damage) without that act, with the head and count before it."""

    damage: Damage
    head: bytes
    acts: int


@dataclass
class Boundary:
    """The chain at the end of an act: that act's time, and once the next act is read,
    the head there and the number of acts up to it."""

    time: datetime | None = None
    head: bytes | None = None
    acts: int = 0


@dataclass
class ActChecker:
    """The ``ledger.chain.ActVerifier`` that ``custodes verify`` uses."""

    tolerance: timedelta = CLOCK_TOLERANCE
    clear_topics: frozenset[str] = CLEAR_TOPICS
    keys: dict[str, KeyInForce] = field(default_factory=dict)
    delegations: dict[str, Delegation] = field(default_factory=dict)
    last_time: datetime | None = None
    last_signer: KeyInForce | None = None  # of the act just closed
    acts: int = 0
    signers: dict[str, int] = field(default_factory=dict)  # acts per member name
    # When this verification runs (`custodes verify`: the clock its commands record by):
    # an act recorded after it was recorded by a clock set ahead (R26). None: not checked.
    now: datetime | None = None
    head_time: datetime | None = None  # the time of the act just closed
    # the chain's length at each of the latest ``ACT_WINDOW`` act ends -> what it was there
    ends: OrderedDict[int, Boundary] = field(default_factory=OrderedDict)
    corrections: list[Correction] = field(default_factory=list)
    # The first act recorded after ``now`` since the last correction: damage unless a
    # correction later sets its time aside.
    ahead: Deferred | None = None

    def deferred(self) -> Deferred | None:
        return self.ahead

    def close(self, act: PendingAct, record: bytes) -> Damage | None:
        """The first damage of this act, reported at its first entry (none of its entries
        is attested), or None."""
        at = act.first
        boundary = self.ends.setdefault(act.first - 1, Boundary())
        boundary.head, boundary.acts = act.before, self.acts
        try:
            envelope = Envelope.from_bytes(record)
            statement = Statement.from_bytes(envelope.statement)
        except ActInvalid as e:
            return Damage(at, "forged", str(e))
        if (statement.first, statement.count, statement.entries) != (
            act.first,
            act.last - act.first + 1,
            act.entries,
        ):
            return Damage(
                at,
                "forged",
                f"the act record at {act.last} does not describe entries {act.first}..{act.last}",
            )
        try:
            enrolments = [(e, _fields(e)) for e in act.clear if e.topic == KEY_ENROLLED]
        except ValueError as e:
            return Damage(at, "forged", str(e))
        key = self.keys.get(envelope.kid)
        if key is None and self.acts == 0:
            key = self._genesis_key(envelope.kid, enrolments, at)
        if key is None:
            return Damage(at, "unknown key", f"key {envelope.kid} was never enrolled before")
        if key.revoked_at is not None:
            return Damage(
                at,
                "revoked key",
                f"{key.name}'s key {envelope.kid} was revoked at position {key.revoked_at}",
            )
        parent = self.keys.get(key.parent) if key.parent is not None else None
        if parent is not None and parent.revoked_at is not None:
            return Damage(
                at,
                "revoked key",
                f"{key.name}'s session key {envelope.kid} ended with the key that vouched for "
                f"it, revoked at position {parent.revoked_at}",
            )
        if key.ended_at is not None:
            return Damage(
                at,
                "revoked key",
                f"{key.name}'s session key {envelope.kid} ended at position {key.ended_at}, "
                "with every session of theirs (a passphrase change)",
            )
        try:
            envelope.verify(key.public_key)
        except InvalidSignature:
            return Damage(at, "forged", f"the signature of {key.name}'s key does not verify")
        if statement.signer != key.member:
            return Damage(at, "forged", "the statement names another signer than the key's")
        if key.expires is not None and (
            statement.time >= key.expires
            or (self.last_time is not None and self.last_time >= key.expires)
        ):
            # Judged by the ledger's order too: an act timed inside the session but
            # recorded after anything timed past its end (the signer picks the time).
            return Damage(
                at,
                "expired key",
                f"{key.name}'s session key {envelope.kid} ended at {key.expires.isoformat()}",
            )
        try:
            correction = self._correction(act, statement, key)
        except (ValueError, KeyError, TypeError) as e:
            return Damage(at, "forged", f"a clock correction that cannot be read ({e!r})")
        if isinstance(correction, Damage):
            return correction
        if (
            correction is None
            and self.last_time is not None
            and statement.time < self.last_time - self.tolerance
        ):
            return Damage(
                at,
                "clock",
                f"recorded at {statement.time.isoformat()}, {self.last_time - statement.time} "
                "before the act preceding it",
            )
        role = key.role
        if statement.delegation is not None:
            delegation = self.delegations.get(statement.delegation)
            if delegation is None or not delegation.covers(
                key.member, statement.time, self.last_time
            ):
                return Damage(
                    at,
                    "not permitted",
                    f"{key.name} signed as acting Director under delegation "
                    f"{statement.delegation}, which was not in force",
                )
            role = "director"
        for topic in act.topics:
            if not may_sign(role, topic):
                return Damage(
                    at,
                    "not permitted",
                    f"{key.name} ({role}) may not record {topic.rpartition('.')[2]}",
                )
        damage = self._apply(act.clear, key, statement.time)
        if damage is not None:
            return damage
        if correction is not None:
            self.corrections.append(correction)
            self.ahead = None  # what it set aside is no longer damage
            self.last_time = statement.time
            for k in self.keys.values():  # sessions vouched by the clock set ahead end now
                vouched, ends = k.vouched_at, k.expires
                if vouched and ends and vouched > statement.time + self.tolerance:
                    k.expires = min(ends, statement.time)
        if (
            self.ahead is None
            and self.now is not None
            and statement.time > self.now + self.tolerance
        ):
            self.ahead = Deferred(
                Damage(
                    at,
                    "clock",
                    f"recorded at {statement.time.isoformat()}, after this verification "
                    f"({self.now.isoformat(timespec='seconds')}): the clock that recorded "
                    "it was set ahead, and no clock correction sets it aside",
                ),
                act.before,
                self.acts,
            )
        if correction is None:
            self.last_time = max(self.last_time or statement.time, statement.time)
        self.head_time = statement.time
        self.ends[act.last] = Boundary(statement.time)
        while len(self.ends) > ACT_WINDOW:
            self.ends.popitem(last=False)
        self.last_signer = key
        self.acts += 1
        self.signers[key.name] = self.signers.get(key.name, 0) + 1
        return None

    def _correction(
        self, act: PendingAct, statement: Statement, key: KeyInForce
    ) -> Correction | Damage | None:
        """The Director's clock correction this act is, checked; None when it is none.
        It is an act of its own, signed by the Director herself (never under a
        delegation: acting Directors are judged by the ledger's order), and sets aside
        exactly the latest time recorded before it."""
        found = [e for e in act.clear if e.topic == CLOCK_CORRECTED]
        if not found:
            return None
        at = act.first
        if len(act.topics) != 1:
            return Damage(at, "not permitted", "a clock correction is an act of its own")
        if key.role != "director" or statement.delegation is not None:
            return Damage(
                at,
                "not permitted",
                f"{key.name} may not set aside recorded times: only the Director may",
            )
        f = _fields(found[0])
        set_aside = _time(f["set_aside"])
        if self.head_time is None or set_aside != self.head_time:
            shown = self.head_time.isoformat() if self.head_time is not None else "none"
            return Damage(
                at,
                "clock",
                f"a clock correction sets aside {set_aside.isoformat()}, but the act before it "
                f"was recorded at {shown}",
            )
        from_position, acts = f["from_position"], f["acts"]
        if not (type(from_position) is int and 1 <= from_position < at and type(acts) is int):
            raise ValueError(f"the clock correction at {at} names no acts before it")
        # Red team (session 15): the correction itself must say the truth about the acts
        # it sets aside, or it can backdate what follows it.
        if not statement.time + self.tolerance < set_aside:
            return Damage(
                at, "clock", "a clock correction timed no earlier than the time it sets aside"
            )
        kept = self.ends.get(from_position - 1) if from_position > 1 else None
        before = kept.time if kept is not None else None
        if before is None:
            return Damage(
                at,
                "not permitted",
                f"a clock correction from entry {from_position}: not after one of the "
                f"{ACT_WINDOW:,} acts before it (the ledger's first act is never set aside)",
            )
        if statement.time < before - self.tolerance:
            return Damage(
                at,
                "clock",
                f"a clock correction timed {statement.time.isoformat()}, before the act it "
                f"keeps at entry {from_position - 1} ({before.isoformat()})",
            )
        ahead = [b.time for p, b in self.ends.items() if p >= from_position and b.time]
        if len(ahead) != acts or any(t <= statement.time + self.tolerance for t in ahead):
            return Damage(
                at,
                "forged",
                f"a clock correction names {acts} act(s) recorded ahead from entry "
                f"{from_position}; the chain holds {len(ahead)} act(s) there, "
                f"{sum(t > statement.time + self.tolerance for t in ahead)} of them ahead of it",
            )
        latest = max(ahead, default=None)
        if f.get("latest") and (latest is None or _time(f["latest"]) != latest):
            shown = latest.isoformat() if latest is not None else "none"
            return Damage(
                at,
                "forged",
                f"a clock correction says the latest act it sets aside was recorded at "
                f"{f['latest']}; the latest there was recorded at {shown}",
            )
        return Correction(
            at, key.name, statement.time, set_aside, from_position, acts, str(f["reason"])
        )

    def _genesis_key(
        self, kid: str, enrolments: list[tuple[ClearEvent, dict[str, Any]]], at: int
    ) -> KeyInForce | None:
        for event, f in enrolments:
            if f["key_id"] == kid and f["role"] == "director":
                return KeyInForce(
                    UUID(bytes=event.originator_id),
                    f["name"],
                    "director",
                    _public_key(f["public_key"]),
                    at,
                )
        return None

    def _apply(
        self, events: list[ClearEvent] | Any, signer: KeyInForce | None = None, moment: Any = None
    ) -> Damage | None:
        for event in events:
            member = UUID(bytes=event.originator_id)
            try:
                f = _fields(event)
            except ValueError as e:
                return Damage(event.position, "forged", str(e))
            if event.topic == SESSION_VOUCHED:
                damage = self._vouch(event, member, f, signer, moment)
                if damage is not None:
                    return damage
            elif event.topic == KEY_ENROLLED:
                damage = self._enrol(event, member, f)
                if damage is not None:
                    return damage
            elif event.topic == KEY_REVOKED:
                key = self.keys.get(f["key_id"])
                if key is None or key.member != member:
                    return Damage(event.position, "forged", "a revocation of an unknown key")
                key.revoked_at = event.position
            elif event.topic == SESSIONS_ENDED:
                if signer is None or signer.member != member:
                    return Damage(
                        event.position,
                        "not permitted",
                        "a member's sessions are ended only by an act of that member",
                    )
                for k in self.keys.values():
                    if k.member == member and k.parent is not None and k.ended_at is None:
                        k.ended_at = event.position
            elif event.topic == DIRECTOR_DELEGATED:
                self.delegations[f["delegation_id"]] = Delegation(
                    member, _time(f["start"]), _time(f["until"])
                )
            elif event.topic == DELEGATION_ENDED and f["delegation_id"] in self.delegations:
                self.delegations[f["delegation_id"]].ended = True
        return None

    def _vouch(
        self,
        event: ClearEvent,
        member: UUID,
        f: dict[str, Any],
        signer: KeyInForce | None,
        moment: datetime | None,
    ) -> Damage | None:
        """A session key (``custodes login``): vouched for by the member's own key in
        force (not by another session, not by someone else's), proven held, and ending
        no later than the longest unlock after the act (no standing session)."""
        parent = self.keys.get(f.get("parent_key_id", ""))
        if (
            signer is None
            or parent is None
            or parent is not signer
            or signer.parent is not None
            or parent.member != member
        ):
            return Damage(
                event.position,
                "not permitted",
                "a session key is vouched for only by its member's own key",
            )
        try:
            public = _public_key(f["public_key"])
            proof = base64.b64decode(f["proof"], validate=True)
            if key_id(public) != f["key_id"]:
                raise ValueError("its key id is not the public key's")
            expires = parse_time(f["expires"])
            public.verify(proof, session_message(member, f["key_id"], f["expires"]))
        except (ValueError, KeyError, TypeError, InvalidSignature) as e:
            return Damage(event.position, "forged", f"a session key without proof ({e!r})")
        if moment is None or expires > moment + MAX_SESSION:
            return Damage(
                event.position, "not permitted", f"a session key valid past {MAX_SESSION}"
            )
        if f["key_id"] in self.keys:
            return Damage(event.position, "forged", "a session key enrolled twice")
        self.keys[f["key_id"]] = KeyInForce(
            member, parent.name, parent.role, public, event.position,
            parent=f["parent_key_id"], expires=expires, vouched_at=moment,
        )  # fmt: skip
        return None

    def _enrol(self, event: ClearEvent, member: UUID, f: dict[str, Any]) -> Damage | None:
        try:
            public = _public_key(f["public_key"])
            proof = base64.b64decode(f["proof"], validate=True)
            if key_id(public) != f["key_id"]:
                raise ValueError("its key id is not the public key's")
            public.verify(proof, enrolment_message(member, f["key_id"], f["role"]))
        except (ValueError, InvalidSignature) as e:
            return Damage(event.position, "forged", f"a key enrolment without proof ({e})")
        if f["key_id"] in self.keys:  # a revoked key is never revived (red team, session 15)
            return Damage(event.position, "forged", f"key {f['key_id']} enrolled twice")
        for other in self.keys.values():
            if other.revoked_at is not None or other.parent is not None:
                continue  # a session key is not a member's key (it ends with its own)
            if other.member == member:
                return Damage(
                    event.position, "not permitted", f"{f['name']} has another active key"
                )
            if f["role"] == "director" and other.role == "director":
                return Damage(
                    event.position,
                    "not permitted",
                    f"a second active Director ({f['name']}, while {other.name} is one)",
                )
        if f["role"] == SERVICE_ROLE and any(
            k.role == SERVICE_ROLE and k.revoked_at is None and k.parent is None
            for k in self.keys.values()
        ):
            return Damage(event.position, "not permitted", "a second active service key")
        self.keys[f["key_id"]] = KeyInForce(member, f["name"], f["role"], public, event.position)
        return None


def _fields(event: ClearEvent) -> dict[str, Any]:
    try:
        data = json.loads(event.state)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeError) as e:
        raise ValueError(f"the key event at position {event.position} is not JSON ({e})") from e
    return data


def _public_key(text: str) -> Ed25519PublicKey:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("a public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        return datetime.fromisoformat(text)


Decode = Callable[[bytes, int, str, bytes], Any]


class DeepActChecker(ActChecker):
    """With the events key (``custodes verify --deep``): also decrypt every event and check
    what only its content shows. Each event names the member who signed its act as its
    actor (a refusal the service identity attests names whoever tried), and its own time
    lies between the act before and its act's recorded time (within the tolerance). Each
    event cites the policy version in force at its time (R28), as the adoptions before it
    (and in its own act) establish: a citation of another version, or none once a version
    is in force, is damage of kind "policy"."""

    wants_events = True

    def __init__(self, decode: Decode, **kw: Any) -> None:
        super().__init__(**kw)
        self.decode = decode
        self.policy = Timeline()
        # each request as its events so far make it (its aggregate id -> the aggregate),
        # and what a disclosure record states of each of its releases, as it stood then
        # (``record_body``), so that each release is judged by the rules and each record
        # against the release it describes; and the site (its policy versions, and the
        # library, log and time zone a record names)
        self.requests: dict[UUID, Any] = {}
        self.bodies: dict[UUID, list[dict[str, Any]]] = {}
        self.site: Any = None  # one per ledger

    def close(self, act: PendingAct, record: bytes) -> Damage | None:
        before = self.last_time
        damage = super().close(act, record)
        if damage is not None:
            return damage
        if self.corrections and self.corrections[-1].position == act.first:
            before = None  # the Director's correction is timed before what it sets aside
        key = self.last_signer
        assert key is not None and self.last_time is not None
        statement = Statement.from_bytes(Envelope.from_bytes(record).statement)
        moment = statement.time
        # The role the act was done in, as the rules judge it: the Director's under a
        # delegation, named in the act (when its signer's own role could not sign it) or
        # not (a release, a viewing: any member may record one, and the command judged it
        # as the acting Director's; red team, session 22: judged as staff, an acting
        # Director's honest release to someone an order does not name was damage)
        acting = statement.delegation is not None or any(
            d.covers(key.member, moment, before) for d in self.delegations.values()
        )
        role = "director" if acting else key.role
        decoded = []
        for offset, (oid, version, topic, state) in enumerate(act.events):
            position = act.first + offset
            try:
                event = self.decode(oid, version, topic, state)
            except Exception as e:
                return Damage(position, "edited", f"the event cannot be decrypted or read ({e})")
            decoded.append((position, topic, event))
            actor = getattr(event, "actor", None)
            if actor != key.name and not (key.role == SERVICE_ROLE and topic in GATE_TOPICS):
                return Damage(
                    position,
                    "forged",
                    f"the event names {actor!r} as its actor but {key.name} signed its act",
                )
            stamp = getattr(event, "timestamp", None)
            if stamp is not None and (
                stamp > moment + self.tolerance
                or (before is not None and stamp < before - self.tolerance)
            ):
                return Damage(
                    position,
                    "clock",
                    f"the event says {stamp.isoformat()}, its act was recorded at "
                    f"{moment.isoformat()}",
                )
        return (
            self._check_policy(decoded)
            or self._check_records(decoded, role)
            or self._check_verifications(decoded, act.first)
        )

    def _check_verifications(
        self, decoded: list[tuple[int, str, Any]], first: int
    ) -> Damage | None:
        """A recorded verification names a state the chain had: its length (at an act's
        end, before the record), the head there and the acts up to it (review, session
        14: any member could record 'verified OK' for a head the ledger never had, and
        the dashboard showed it)."""
        for position, topic, event in decoded:
            if topic != VERIFIED:
                continue
            seen = self.ends.get(event.entries) if 0 <= event.entries < first else None
            if seen is None or seen.head is None:
                return Damage(
                    position,
                    "forged",
                    f"a recorded verification names {event.entries} entries verified, not the "
                    f"end of one of the {ACT_WINDOW:,} acts before it",
                )
            if (seen.head.hex(), seen.acts) != (event.head, event.acts):
                return Damage(
                    position,
                    "forged",
                    f"a recorded verification names head {event.head[:16]}... and "
                    f"{event.acts} acts at {event.entries} entries; the chain had "
                    f"{seen.head.hex()[:16]}... and {seen.acts} acts there",
                )
        return None

    def _check_records(self, decoded: list[tuple[int, str, Any]], role: str) -> Damage | None:
        """Each release is one ``custodes request release`` would have recorded, judged
        from the request as its events made it just before, by the signer's ``role``
        (``ledger.release_rules``); a disclosure record handed out commits to exactly
        what it kept, and states what the ledger recorded of its request at the release
        it describes, part by part (docs/DISCLOSURES.md)."""
        from ledger.disclosure_records import record_body, record_problem
        from ledger.policy_params import default_params
        from ledger.release_rules import release_problem

        for position, topic, event in decoded:
            if topic.startswith(SITE_EVENTS):
                try:
                    self.site = event.mutate(self.site)
                except Exception as e:  # events out of order or unreadable
                    return Damage(position, "edited", f"the site's events do not replay ({e})")
            elif topic.startswith(REQUEST_EVENTS):
                oid = event.originator_id
                before = self.requests.get(oid)
                if topic == RELEASED and before is not None:
                    in_force = self.site.policies.in_force(event.timestamp) if self.site else None
                    params = in_force.params if in_force is not None else default_params()
                    try:
                        why = release_problem(before, event, role, params)
                    except Exception as e:  # a release no command could record
                        why = f"the release cannot be judged: {type(e).__name__}: {e}"
                    if why is not None:
                        return Damage(position, "not permitted", why)
                try:
                    after = self.requests[oid] = event.mutate(before)
                    if topic == RELEASED:
                        self.bodies.setdefault(oid, []).append(record_body(after))
                except Exception as e:  # events out of order or unreadable
                    return Damage(position, "edited", f"its aggregate's events do not replay ({e})")
            elif topic == RECORD_ISSUED:
                from ledger.disclosure import request_id

                site = self.site
                named = {"library": site.library, "log_origin": site.log_origin,
                         "time_zone": site.timezone} if site else {}  # fmt: skip
                try:
                    bodies = self.bodies.get(request_id(event.request_ref), [])
                    why = record_problem(event, bodies, named)
                except Exception as e:  # a record no command could write
                    why = f"the disclosure record cannot be read: {type(e).__name__}: {e}"
                if why is not None:
                    return Damage(position, "edited", why)
        return None

    def _check_policy(self, decoded: list[tuple[int, str, Any]]) -> Damage | None:
        for position, topic, event in decoded:
            adopted = adoption_of(event) if topic in ADOPTED_TOPICS else None
            if adopted is None:
                continue
            number, effective_at = adopted["version"], as_instant(adopted["effective_at"])
            if number != self.policy.latest + 1:
                return Damage(
                    position,
                    "policy",
                    f"policy version {number} adopted after version {self.policy.latest}",
                )
            # never retroactive; one taking effect before a pending version supersedes it
            if effective_at < event.timestamp - self.tolerance:
                return Damage(position, "policy", f"policy version {number} takes effect too early")
            self.policy.add(number, effective_at)
        for position, topic, event in decoded:
            if topic in self.clear_topics or topic in ADOPTED_TOPICS:
                continue
            cited = getattr(event, "policy_version", None)
            expected = self.policy.in_force(event.timestamp)
            if cited == expected:
                continue
            if cited is None:
                why = f"cites no policy version; version {expected} was in force"
            elif expected is None:
                why = f"cites policy version {cited}, but no version was in force"
            elif cited > self.policy.latest:
                why = f"cites policy version {cited}, which was never adopted before it"
            else:
                why = f"cites policy version {cited}, but version {expected} was in force"
            return Damage(position, "policy", f"{why} at {event.timestamp.isoformat()}")
        return None
