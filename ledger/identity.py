"""Staff identity use-cases (R3, R25): enrol a key, sign in, reset, deactivate, delegate.

A member's key pair is made when the Director enrols them; the public half is recorded
(in clear, ``ledger.staff.KeyEnrolled``) by an act the Director signs, with the member's
own proof of holding the private half; the private half goes to ``keys/staff/`` sealed by
the member's passphrase (``ledger.credentials``) and is never recorded. Signing in
unlocks it for this process (``authenticate``); a wrong passphrase is recorded, and too
many in a short time lock the member out until the Director unlocks them.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
from datetime import datetime, timedelta
from typing import NoReturn
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import credentials, rules, sitetime
from ledger.acts import (
    Signer,
    enrolment_message,
    key_id,
    parse_time,
    raw_public_key,
    session_message,
)
from ledger.application import StaffView, _staff_view
from ledger.clock import CLOCK_TOLERANCE
from ledger.domain import Actor
from ledger.errors import (
    ClockBehind,
    InvalidInput,
    KeyError_,
    NotFound,
    NotPermitted,
    unrecorded,
)
from ledger.names import NameRefused, check_name, look_alike, normalize_name
from ledger.policy_commands import PolicyCommands
from ledger.policy_params import DEFAULT_PROFILE, parse_params, profile_files
from ledger.site import SITE_ID, Site
from ledger.staff import ROLES, SERVICE_NAME, SERVICE_ROLE, StaffMember, staff_id
from ledger.unlock import MAX_UNLOCK, os_user

MAX_DELEGATION = timedelta(days=366)


class IdentityCommands(PolicyCommands):
    # ---- the first Director ------------------------------------------------------------

    def initialise(
        self,
        *,
        director: str,
        library: str,
        timezone: str,
        passphrase: bytes | None = None,
        key: Ed25519PrivateKey | None = None,
        retention_days: int | None = None,
        log_origin: str | None = None,
        profile: str = DEFAULT_PROFILE,
        approved_by: str = "Board of Trustees",
        approval_ref: str = "",
    ) -> Signer:
        """Create the site, its first Director and the service identity, in one act the
        Director signs with her new key (the ledger's root of trust). Returns her key,
        unlocked in this process. ``passphrase`` seals it into keys/staff/ (the command
        line); without one the caller keeps the key (the Python API, tests, the demo).

        The same act adopts policy version 1 (R28): the shipped ``profile`` (the default
        is the seed library's Policy V), its retention days replaced by ``retention_days``
        when given."""
        now = self.clock()
        name = _checked(director, "director")
        text, params_toml = profile_files(profile)
        params = parse_params(params_toml, where=f"profile {profile}")
        changed = retention_days is not None and retention_days != params.retention_days
        if changed and retention_days is not None:
            # No longer the shipped profile, nor anything a board approved: say so (the
            # text still says the profile's days until the board's own is adopted).
            approval_ref = approval_ref or (
                f"Custodes profile {profile} with footage kept {retention_days} days instead "
                f"of {params.retention_days}, set at initialisation; the text is the "
                "profile's until the board's own version is adopted"
            )
            approved_by = f"{name} (Director, at initialisation)"
            params = dataclasses.replace(params, retention_days=retention_days)
        retention_days = params.retention_days
        if retention_days < 1:
            raise InvalidInput("retention days must be at least 1")
        if self._get(Site, SITE_ID) is not None:
            raise InvalidInput("this ledger is initialised already")
        key = key or Ed25519PrivateKey.generate()
        common = dict(actor=name, actor_role="director", occurred_at=None, timestamp=now)
        zone = sitetime.site_zone(timezone)
        policy = self._adoption(
            None,
            Actor(name, "director"),
            now,
            zone,
            text=text,
            params=params,
            approved_by=approved_by,
            approval_ref=approval_ref or f"initial policy: Custodes profile {profile}",
            effective=sitetime.local_day(now, zone),
            profile="" if changed else profile,
        )
        site = Site._create(
            Site.SiteInitialised,
            id=SITE_ID,
            library=library,
            timezone=timezone,
            retention_days=retention_days,
            live_window_hours=0,  # no live window for recorded segments (R16)
            log_origin=log_origin or f"custodes/{uuid4()}",
            policy=policy,
            **common,
        )
        member = StaffMember._create(
            StaffMember.StaffMemberAdded, id=staff_id(name), name=name, role="director", **common
        )
        _enrol(member, key, "enrolment", Actor(name, "director"), now)
        service = StaffMember._create(
            StaffMember.StaffMemberAdded,
            id=staff_id(SERVICE_NAME),
            name=SERVICE_NAME,
            role=SERVICE_ROLE,
            **common,
        )
        _enrol(service, self._datadir().service_key(), "service key", Actor(name, "director"), now)
        signer = Signer(member.id, name, "director", key_id(key.public_key()), key)
        self._keyring[member.id] = signer
        with self._sealed(member.id, name, key, passphrase):
            self.save(site, member, service)
        return signer

    # ---- enrolment, reset, deactivation (the Director) ----------------------------------

    def add_staff(
        self,
        name: str,
        role: str,
        *,
        actor: str,
        passphrase: bytes | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> StaffView:
        """Enrol a member and their key (Director only). One active Director (R3)."""
        now = self.clock()
        who = self.authorize(
            actor, "add staff members", ("director",), rules.STAFF_KEY_ENROLMENT, subject=name
        )
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        self._not_over_the_director(who, "add staff members", name)
        name = self._new_name(name, who)
        if role == "director":
            current = self._active_director()
            if current is not None:
                self.refuse(
                    who,
                    "add staff members",
                    rules.ONE_DIRECTOR,
                    f"{current.name} is the Director; the policy names one. Name an acting "
                    "Director with: custodes staff delegate NAME --until DATE --authority "
                    "REF, or hand over with: custodes staff hand-over NAME --authority REF",
                    subject=name,
                )
        key = key or Ed25519PrivateKey.generate()
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
        _enrol(member, key, "enrolment", who, now)
        with self._sealed(member.id, name, key, passphrase):
            self.save(member)
        return _staff_view(member, now)

    def reset_staff(
        self,
        name: str,
        *,
        actor: str,
        reason: str,
        passphrase: bytes | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> StaffView:
        """A new key for a member who forgot their passphrase (Director only): the old key
        is revoked in the same act, and a lockout is cleared."""
        now = self.clock()
        who = self.authorize(
            actor, "reset a member's key", ("director",), rules.STAFF_KEY_ENROLMENT, subject=name
        )
        member = self._existing(name)
        if not member.active or member.role == SERVICE_ROLE:
            raise InvalidInput(f"{member.name} is not an active staff member to reset")
        self._not_over_the_director(who, "reset a member's key", member.name)
        old = member.key_id
        key = key or Ed25519PrivateKey.generate()
        common = dict(actor=who.name, actor_role=who.role, occurred_at=None, timestamp=now)
        if old is not None:
            member.trigger_event(StaffMember.KeyRevoked, key_id=old, cause="reset", **common)
        if member.locked_out:
            member.trigger_event(
                StaffMember.LockoutCleared, reason=f"key reset: {reason}".strip(), **common
            )
        _enrol(member, key, "reset", who, now, role=member.role)
        with self._sealed(member.id, member.name, key, passphrase):
            self.save(member)
        self._forget_key_file(old)
        return _staff_view(member, now)

    def deactivate_staff(self, name: str, *, actor: str, reason: str) -> None:
        now = self.clock()
        who = self.authorize(
            actor, "deactivate staff members", ("director",), rules.STAFF_ROLE, subject=name
        )
        member = self._existing(name)
        if not member.active:
            raise InvalidInput(f"staff member {member.name!r} is deactivated already")
        if member.role == "director":
            self._not_over_the_director(who, "deactivate staff members", member.name)
        if member.id == staff_id(who.name):
            raise InvalidInput(
                "a Director cannot deactivate themselves; hand over first with: custodes "
                "staff hand-over NAME --authority REF"
            )
        if member.role == SERVICE_ROLE:
            raise InvalidInput(
                "the service identity is replaced, not deactivated: custodes staff service-key --reset"
            )
        common = dict(actor=who.name, actor_role=who.role, occurred_at=None, timestamp=now)
        member.trigger_event(StaffMember.StaffMemberDeactivated, reason=reason, **common)
        old = member.key_id
        if old is not None:
            member.trigger_event(StaffMember.KeyRevoked, key_id=old, cause="deactivated", **common)
        self.save(member)
        self._forget_key_file(old)

    def hand_over(
        self,
        name: str,
        *,
        authority: str,
        actor: str,
        passphrase: bytes | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> StaffView:
        """The Director hands the directorship to ``name`` (a member, or a new one) on the
        board's authority: the successor's new key is enrolled as Director, the outgoing
        Director is deactivated and every delegation she gave ends, in one act she signs
        (R3)."""
        now = self.clock()
        who = self.authorize(
            actor, "hand over the directorship", ("director",), rules.ONE_DIRECTOR, subject=name
        )
        if who.delegation is not None:
            self.refuse(
                who, "hand over the directorship", rules.ONE_DIRECTOR,
                "an acting Director cannot hand over the directorship", subject=name,
            )  # fmt: skip
        authority = _required(authority, "the authority for the hand-over (--authority)")
        outgoing = self._existing(who.name)
        successor = self.member(name)
        common = dict(actor=who.name, actor_role=who.role, occurred_at=None, timestamp=now)
        if successor is None:
            name = self._new_name(name, who)
            successor = StaffMember._create(
                StaffMember.StaffMemberAdded,
                id=staff_id(name),
                name=name,
                role="director",
                **common,
            )
        elif not successor.active or successor.id == outgoing.id or successor.role == SERVICE_ROLE:
            raise InvalidInput(f"{successor.name} cannot take over as Director")
        old_successor_key = successor.key_id
        outgoing.trigger_event(
            StaffMember.StaffMemberDeactivated,
            reason=f"handed the directorship to {successor.name} ({authority})",
            **common,
        )
        if outgoing.key_id is not None:
            outgoing.trigger_event(
                StaffMember.KeyRevoked, key_id=outgoing.key_id, cause="succession", **common
            )
        if old_successor_key is not None:
            successor.trigger_event(
                StaffMember.KeyRevoked, key_id=old_successor_key, cause="succession", **common
            )
        key = key or Ed25519PrivateKey.generate()
        _enrol(successor, key, "succession", who, now, role="director")
        # Her delegations end with her: an acting Director acts for the Director who
        # named her (red team, session 14: one named by the outgoing Director went on
        # acting as Director under her successor).
        delegates = []
        for member in self._members():
            if member.id == outgoing.id:
                continue
            if member.id == successor.id:
                member = successor  # one object per aggregate in the act
            open_ = [d for d, v in member.delegations.items() if v["ended"] is None]
            for delegation in open_:
                member.trigger_event(
                    StaffMember.DelegationEnded,
                    delegation_id=delegation,
                    reason=f"the Director handed over to {successor.name}",
                    **common,
                )
            if open_ and member is not successor:
                delegates.append(member)
        with self._sealed(successor.id, successor.name, key, passphrase):
            self.save(outgoing, successor, *delegates)
        self._forget_key_file(old_successor_key)
        return _staff_view(successor, now)

    def reset_service_key(self, *, actor: str) -> str:
        """A new key for the unattended sweep (Director only); returns its key id."""
        now = self.clock()
        who = self.authorize(
            actor, "reset the service key", ("director",), rules.STAFF_KEY_ENROLMENT
        )
        self._not_over_the_director(who, "reset the service key", SERVICE_NAME)
        service = self._existing(SERVICE_NAME)
        key = Ed25519PrivateKey.generate()
        common = dict(actor=who.name, actor_role=who.role, occurred_at=None, timestamp=now)
        if service.key_id is not None:
            service.trigger_event(
                StaffMember.KeyRevoked, key_id=service.key_id, cause="service key", **common
            )
        _enrol(service, key, "service key", who, now, role=SERVICE_ROLE)
        self.save(service)
        self._datadir().replace_service_key(key)
        self._service = None
        return key_id(key.public_key())

    # ---- signing in (R25) -------------------------------------------------------------

    def authenticate(self, name: str, passphrase: bytes, *, suggest: bool = True) -> Signer:
        """Unlock ``name``'s key with their passphrase, for acts in this process.

        A wrong passphrase is recorded (``AuthenticationFailed``, no passphrase material)
        and, after the site's limit of failures in its window, locks the member out; an
        unusable key file and a locked-out member are refused and recorded too.
        ``suggest``: an unknown name's refusal may say the nearest member's name (not on
        the web's sign-in page, where whoever asks has not signed in)."""
        now = self.clock()
        member = self.member(name)
        if member is None or not member.active or member.role == SERVICE_ROLE:
            if member is None:
                hint = self._did_you_mean(name, None) if suggest else ""
                why = "is not a registered staff member" + (
                    hint
                    or "; only active staff may act (a Director adds staff with: custodes "
                    "staff add NAME --role ROLE)"
                )
            elif not member.active:
                why = "is deactivated; only active staff may act"
            else:
                why = "signs only the retention sweep (custodes retention sweep --service)"
            typed = member.name if member is not None else _typed_name(name, self._nearest(name))
            self.refuse(
                Actor(typed, member.role if member else "unknown"),
                "sign in",
                rules.SERVICE_SCOPE if member is not None and member.active else rules.STAFF_ACTIVE,
                f"{typed} {why}" if member is None else f"{typed!r} {why}",
                authenticated=False,
                shown=f"{normalize_name(name)!r} {why}" if member is None else None,
            )
        assert member is not None
        if member.locked(now):
            self._record_failure(member, "locked out", now)
            raise NotPermitted(
                rules.STAFF_LOCKOUT,
                f"{member.name} is locked out after repeated wrong passphrases; "
                + (
                    f"sign in again after {sitetime.show(member.locked_out_until, self.site().zone)}"
                    if member.role == "director"
                    else f"the Director unlocks with: custodes staff unlock {_quote(member.name)}"
                ),
            )
        if member.key_id is None:
            raise InvalidInput(f"{member.name} has no key enrolled; ask the Director to reset it")
        try:
            data = self._datadir().read_staff_key(member.key_id)
            key = credentials.unwrap(
                data, passphrase, member_id=member.id, key_id_expected=member.key_id
            )
        except credentials.WrongPassphrase:
            raise self._counted_failure(member, "wrong passphrase", now) from None
        except (credentials.KeyFileUnusable, KeyError_, OSError) as e:
            self._record_failure(member, "key file unusable", now)
            raise NotPermitted(
                rules.STAFF_AUTHENTICATED,
                f"{member.name}'s key file cannot be used: {e}. Restore keys/staff/ from "
                "your key backup, or ask the Director to reset your key",
            ) from None
        signer = Signer(member.id, member.name, member.role, member.key_id, key)
        self._keyring[member.id] = signer
        return signer

    def second_factor_failed(self, signer: Signer) -> NoReturn:
        """A right passphrase with a wrong one-time code (the web server's optional second
        factor): recorded and counted towards the lockout like a wrong passphrase, and the
        key just unlocked is forgotten."""
        self._keyring.pop(signer.member_id, None)
        member = self._get(StaffMember, signer.member_id)
        raise self._counted_failure(member, "wrong one-time code", self.clock())

    def _counted_failure(self, member: StaffMember, what: str, now: datetime) -> NotPermitted:
        """Record a failed sign-in that counts towards the lockout (locking the member out
        at the site's limit); the error to raise."""
        site = self.site()
        window = timedelta(minutes=site.failure_window_minutes)
        count = member.recent_failures(now, window) + 1
        locked = count >= site.max_failures
        self._record_failure(member, what, now, lock=(count, locked))
        return NotPermitted(
            rules.STAFF_LOCKOUT if locked else rules.STAFF_AUTHENTICATED,
            f"{what} for {member.name} ({count} of {site.max_failures} allowed "
            f"in {site.failure_window_minutes} minutes"
            + (
                (
                    f"; now locked out until {sitetime.show(now + window, site.zone)}"
                    if member.role == "director"
                    else "; now locked out until the Director unlocks"
                )
                if locked
                else ""
            )
            + ")",
        )

    def open_session(self, actor: str, *, until: datetime) -> Signer:
        """A session key for a terminal's unlock (``custodes login``), vouched for by the
        member's own key (unlocked in this process) in a recorded act, valid until
        ``until`` plus the clocks' tolerance. The terminal keeps this key, never the
        member's: whoever copies its file holds a key that ``verify`` refuses after then,
        or once the member's key is reset or revoked (red team, session 14)."""
        now = self.clock()
        who = self.authorize(actor, "sign in", (), rules.STAFF_AUTHENTICATED, subject=actor)
        member = self._existing(who.name)
        signer = self._keyring.get(member.id)
        if signer is None or signer.parent is not None:
            raise NotPermitted(
                rules.STAFF_AUTHENTICATED,
                f"{member.name}'s own key must vouch for a session (sign in with the passphrase)",
            )
        if not now < until <= now + MAX_UNLOCK:
            raise InvalidInput(f"a session lasts at most {MAX_UNLOCK}")
        key = Ed25519PrivateKey.generate()
        kid = key_id(key.public_key())
        expires = _iso(until + CLOCK_TOLERANCE)
        member.trigger_event(
            StaffMember.SessionKeyVouched,
            key_id=kid,
            public_key=base64.b64encode(raw_public_key(key.public_key())).decode(),
            proof=base64.b64encode(key.sign(session_message(member.id, kid, expires))).decode(),
            parent_key_id=signer.key_id,
            expires=expires,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(member)
        return Signer(
            member.id, member.name, member.role, kid, key,
            parent=signer.key_id, expires=parse_time(expires),
        )  # fmt: skip

    def change_passphrase(self, *, actor: str, current: bytes, new: bytes) -> None:
        """Seal one's own key under a new passphrase (the key stays; recorded)."""
        now = self.clock()
        who = self.authorize(actor, "change passphrase", (), rules.STAFF_AUTHENTICATED)
        member = self._existing(who.name)
        assert member.key_id is not None
        datadir = self._datadir()
        sealed = credentials.rewrap(
            datadir.read_staff_key(member.key_id),
            current,
            credentials.check_passphrase(new, new=True),
            member_id=member.id,
            key_id_expected=member.key_id,
            name=member.name,
        )
        for event, fields in (
            (StaffMember.PassphraseChanged, {"key_id": member.key_id}),
            (StaffMember.SessionsEnded, {"cause": "passphrase changed"}),
        ):
            member.trigger_event(
                event, **fields, actor=who.name, actor_role=who.role, occurred_at=None,
                timestamp=now,
            )  # fmt: skip
        self.save(member)
        datadir.replace_staff_key(member.key_id, sealed)

    def clear_lockout(self, name: str, *, reason: str, actor: str) -> None:
        now = self.clock()
        who = self.authorize(
            actor, "unlock a member", ("director",), rules.STAFF_LOCKOUT, subject=name
        )
        member = self._existing(name)
        if member.role == "director":  # her own lockout lapses; nobody else lifts it
            self._not_over_the_director(who, "unlock the Director", member.name)
        if not member.locked_out:
            raise InvalidInput(f"{member.name} is not locked out")
        member.trigger_event(
            StaffMember.LockoutCleared,
            reason=_required(reason, "the reason (--reason)"),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(member)

    def change_security(
        self, *, max_failures: int, window_minutes: int, unlock_minutes: int, actor: str
    ) -> None:
        now = self.clock()
        who = self.authorize(
            actor, "change sign-in settings", ("director",), rules.STAFF_LOCKOUT, subject="site"
        )
        self._not_over_the_director(who, "change sign-in settings", "site")
        if not (2 <= max_failures <= 20 and 1 <= window_minutes <= 24 * 60):
            raise InvalidInput("allow 2-20 failures in a window of 1-1440 minutes")
        if not 1 <= unlock_minutes <= MAX_UNLOCK.total_seconds() // 60:
            raise InvalidInput(f"an unlock lasts 1-{int(MAX_UNLOCK.total_seconds() // 60)} minutes")
        site = self.site()
        site.trigger_event(
            Site.SecuritySettingsChanged,
            max_failures=max_failures,
            failure_window_minutes=window_minutes,
            unlock_minutes=unlock_minutes,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(site)

    def set_witness_policy(self, text: str, *, reason: str, actor: str) -> str:
        """Record the witness policy in force (C2SP tlog-policy text): which witnesses'
        keys and how many cosignatures a checkpoint needs. Returns its SHA-256 (hex)."""
        import hashlib

        from ledger.witness.ledger_side import check_log, policy_from_text

        now = self.clock()
        who = self.authorize(
            actor, "set the witness policy", ("director",), rules.WITNESS_POLICY, subject="site"
        )
        self._not_over_the_director(who, "set the witness policy", "site")
        policy = policy_from_text(text)
        site = self.site()
        if self.datadir is not None:
            check_log(policy, site.log_origin, self.datadir.public_key())
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        site.trigger_event(
            Site.WitnessPolicySet,
            policy=text,
            sha256=digest,
            reason=_required(reason, "the reason (--reason)"),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(site)
        return digest

    # ---- an acting Director (R3) -------------------------------------------------------

    def delegate_director(
        self, name: str, *, start: datetime, until: datetime, authority: str, actor: str
    ) -> str:
        """Name an acting Director from ``start`` until ``until``; returns the delegation id
        that every act done under it cites."""
        now = self.clock()
        who = self.authorize(
            actor, "delegate the directorship", ("director",), rules.ONE_DIRECTOR, subject=name
        )
        if who.delegation is not None:
            self.refuse(
                who, "delegate the directorship", rules.ONE_DIRECTOR,
                "an acting Director cannot delegate further", subject=name,
            )  # fmt: skip
        member = self._existing(name)
        if not member.active or member.role in ("director", SERVICE_ROLE):
            raise InvalidInput(f"{member.name} cannot be named acting Director")
        authority = _required(authority, "the authority for the delegation (--authority)")
        if start < now - CLOCK_TOLERANCE:
            raise InvalidInput("a delegation cannot start in the past")
        if not start < until:
            raise InvalidInput("a delegation ends after it starts, within a year")
        if until > start + MAX_DELEGATION:  # a rule, not a typing slip: refused and recorded
            self.refuse(
                who, "delegate the directorship", rules.ONE_DIRECTOR,
                "a delegation lasts at most a year; the board names a new Director for longer",
                subject=name,
            )  # fmt: skip
        for other in self._members():
            for d_id, d in other.delegations.items():
                if d["ended"] is None and _overlaps(d, start, until):
                    self.refuse(
                        who, "delegate the directorship", rules.ONE_DIRECTOR,
                        f"{other.name} is acting Director then already (delegation {d_id}); "
                        "one acting Director at a time",
                        subject=name,
                    )  # fmt: skip
        delegation_id = f"D-{now:%Y%m%d}-{uuid4().hex[:6]}"
        member.trigger_event(
            StaffMember.DirectorDelegated,
            delegation_id=delegation_id,
            start=_iso(start),
            until=_iso(until),
            authority=authority,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(member)
        return delegation_id

    def end_delegation(
        self, name: str, *, reason: str, actor: str, delegation_id: str | None = None
    ) -> str:
        """End ``name``'s delegation early: the one given, or the only one still to run.
        With several (the current one and one to come), which one is named, never guessed."""
        now = self.clock()
        who = self.authorize(
            actor, "end a delegation", ("director",), rules.ONE_DIRECTOR, subject=name
        )
        member = self._existing(name)
        open_ = {
            d: v
            for d, v in member.delegations.items()
            if v["ended"] is None and datetime.fromisoformat(v["until"]) > now
        }
        if not open_:
            raise InvalidInput(f"{member.name} holds no delegation to end")
        zone = self.site().zone
        listed = "; ".join(
            f"{d} from {sitetime.show(datetime.fromisoformat(v['start']), zone)} until "
            f"{sitetime.show(datetime.fromisoformat(v['until']), zone)}"
            for d, v in open_.items()
        )
        if delegation_id is None and len(open_) > 1:
            raise InvalidInput(
                f"{member.name} holds {len(open_)} delegations ({listed}); name the one to "
                "end with --delegation ID"
            )
        chosen = delegation_id or next(iter(open_))
        if chosen not in open_:
            raise InvalidInput(f"{member.name} holds no delegation {chosen} to end ({listed})")
        member.trigger_event(
            StaffMember.DelegationEnded,
            delegation_id=chosen,
            reason=_required(reason, "the reason (--reason)"),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=now,
        )
        self.save(member)
        return chosen

    # ---- helpers -----------------------------------------------------------------------

    def _active_director(self) -> StaffMember | None:
        for m in self._members():
            if m.active and m.role == "director":
                return m
        return None

    def _existing(self, name: str) -> StaffMember:
        member = self.member(name)
        if member is None:
            raise NotFound(
                f"staff member {name!r} is not registered (see: custodes staff list)"
                + self._did_you_mean(name, None)
            )
        return member

    def _did_you_mean(self, name: str, member: StaffMember | None) -> str:
        if member is not None:
            return ""
        close = self._nearest(name)
        return f" (did you mean {close!r}?)" if close else ""

    def _nearest(self, name: str) -> str | None:
        """The member whose name ``name`` is nearest to, if it is near one."""
        import difflib

        names = [m.name for m in self._members() if m.role != SERVICE_ROLE]
        close = difflib.get_close_matches(normalize_name(name), names, n=1, cutoff=0.75)
        return close[0] if close else None

    def _new_name(self, name: str, who: Actor) -> str:
        try:
            name = check_name(name)
        except NameRefused as e:
            self.refuse(who, "add staff members", rules.STAFF_NAMES, str(e), subject=name[:120])
        if self.member(name) is not None:
            raise InvalidInput(f"staff member {name!r} exists already")
        twin = look_alike(name, [m.name for m in self._members()])
        if twin is not None:
            self.refuse(
                who,
                "add staff members",
                rules.STAFF_NAMES,
                f"{name!r} looks like the existing member {twin!r}; use a name that reads "
                "differently",
                subject=name,
            )
        return name

    @contextlib.contextmanager
    def _sealed(self, member_id: UUID, name: str, key: Ed25519PrivateKey, passphrase: bytes | None):  # type: ignore[no-untyped-def]
        """Write the member's sealed key file, keep it only if the act is recorded."""
        if passphrase is None:
            yield
            return
        data = credentials.wrap(
            key, credentials.check_passphrase(passphrase, new=True), member_id=member_id, name=name
        )
        path = self._datadir().write_staff_key(key_id(key.public_key()), data)
        try:
            yield
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def _forget_key_file(self, old: str | None) -> None:
        """A revoked key's file is of no more use: remove it (the public key stays)."""
        if old is None or self.datadir is None:
            return
        self.datadir.staff_key_path(old).unlink(missing_ok=True)

    def _record_failure(
        self, member: StaffMember, cause: str, now: datetime, lock: tuple[int, bool] = (0, False)
    ) -> None:
        common = dict(actor=member.name, actor_role=member.role, occurred_at=None, timestamp=now)
        member.trigger_event(
            StaffMember.AuthenticationFailed, cause=cause, os_user=os_user(), **common
        )
        count, locked = lock
        if locked:
            member.trigger_event(
                StaffMember.LockedOut,
                failures=count,
                window_minutes=self.site().failure_window_minutes,
                **common,
            )
        try:
            self.save(member)
        except ClockBehind as e:  # a clock set ahead blocks every act: refused all the same
            raise unrecorded(rules.STAFF_AUTHENTICATED, f"{cause} for {member.name}", e) from e


def _typed_name(name: str, near: str | None = None) -> str:
    """What an unknown name typed at sign-in is recorded as: the chain keeps it for good
    and the oversight pages show it, and whoever typed it has not signed in. Never the
    text itself: its length, and the member whose name it is near, if any (a misspelt
    name). Before session 16 a run of letters and spaces was kept as typed, and a
    passphrase of a few words typed in the name box (as this project advises passphrases
    to be) was kept with it, for good (web red team, session 16); a card number or a
    message was kept as its length only before too."""
    shown = normalize_name(name)
    if not shown:
        return "(none)"
    return f"(an unknown name of {len(shown)} characters" + (
        f", near {near!r}: not recorded)" if near else ": not recorded)"
    )


def _enrol(
    member: StaffMember,
    key: Ed25519PrivateKey,
    cause: str,
    who: Actor,
    now: datetime,
    *,
    role: str | None = None,
) -> None:
    role = role or member.role
    kid = key_id(key.public_key())
    member.trigger_event(
        StaffMember.KeyEnrolled,
        name=member.name,
        role=role,
        key_id=kid,
        public_key=base64.b64encode(raw_public_key(key.public_key())).decode(),
        proof=base64.b64encode(key.sign(enrolment_message(member.id, kid, role))).decode(),
        cause=cause,
        actor=who.name,
        actor_role=who.role,
        occurred_at=None,
        timestamp=now,
    )


def _checked(name: str, what: str) -> str:
    try:
        return check_name(name, what)
    except NameRefused as e:
        raise InvalidInput(str(e)) from e


def _required(text: str, what: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput(f"{what} is required")
    return text


def _iso(moment: datetime) -> str:
    from ledger.acts import format_time

    return format_time(moment)


def _overlaps(d: dict[str, str], start: datetime, until: datetime) -> bool:
    from ledger.acts import parse_time

    return parse_time(d["start"]) < until and start < parse_time(d["until"])


def _quote(name: str) -> str:
    return f'"{name}"' if " " in name else name
