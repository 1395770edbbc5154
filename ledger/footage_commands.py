"""Footage use-cases on the ledger side: cameras, captures, flags, holds, viewings, purges.

Each command checks the policy (``ledger.policy``) before an event is triggered; a refused
attempt by a person is recorded (R23) and raises ``NotPermitted``. File work (probing,
encrypting, destroying) is the capture package's: these methods record what it did.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger import policy, rules
from ledger.application import LedgerBase
from ledger.domain import Actor
from ledger.errors import AlreadyExists, InvalidInput, LedgerError, NotFound
from ledger.footage import (
    HOLD_KINDS,
    ZONES,
    Camera,
    FootageHold,
    MediaFacts,
    Segment,
    camera_id,
    hold_aggregate_id,
    segment_aggregate_id,
    short_id,
)
from ledger.site import SITE_ID, Site

HOLD_PLACERS = ()  # any active staff member may preserve footage; only the Director releases
FLAG_CLEARERS = ("director", "business_manager")
_HEX = set("0123456789abcdef")


class PurgeBlocked(LedgerError):
    """The segment may not be purged now (hold, flag, retention); nothing was recorded."""

    def __init__(self, rule: rules.Rule, message: str) -> None:
        super().__init__(f"{rule.cite()}: {message}")
        self.rule = rule


@dataclass(frozen=True)
class CameraInfo:
    camera_id: str
    location: str
    zone: str
    signage_posted: bool
    retired: bool
    registered_at: datetime
    registered_by: str


@dataclass(frozen=True)
class SegmentInfo:
    segment_id: str
    sha256: str
    camera_id: str
    recorded_start: datetime
    recorded_end: datetime
    purged: bool
    size: int = 0
    retention_deadline: datetime | None = None
    flags: tuple[str, ...] = ()
    holds: tuple[str, ...] = ()
    captured_at: datetime | None = None
    purged_at: datetime | None = None
    media: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HoldInfo:
    hold_id: str
    kind: str
    reason: str
    reference: str
    segments: tuple[str, ...]
    placed_by: str
    placed_at: datetime
    review_by: datetime | None
    released_at: datetime | None


@dataclass(frozen=True)
class ViewPermit:
    """A viewing the policy allows; record it with ``record_viewing`` once the copy exists."""

    who: Actor
    segment: SegmentInfo
    archived: bool
    reason: str
    purpose: str


@dataclass(frozen=True)
class CaptureItem:
    sha256: str
    size: int
    camera_id: str
    recorded_start: datetime
    media: MediaFacts
    source_name: str


def _reason(reason: str, what: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput(f"{what}: a reason is required; pass --reason TEXT")
    return text


class FootageCommands(LedgerBase):
    # ---- cameras --------------------------------------------------------------------------

    def register_camera(
        self,
        name: str,
        *,
        location: str,
        zone: str,
        signage_posted: bool,
        actor: str,
        now: datetime,
    ) -> CameraInfo:
        name = name.strip()
        who = self.authorize(
            actor, "camera add", ("director",), rules.STAFF_ROLE, now, subject=name
        )
        if not name or any(c.isspace() for c in name) or len(name) > 64:
            raise InvalidInput(f"camera id {name!r} must be 1-64 characters without spaces")
        if zone not in ZONES:
            raise InvalidInput(f"unknown zone {zone!r}; choose one of {', '.join(ZONES)}")
        if not location.strip():
            raise InvalidInput(f"camera {name!r}: the location is empty; pass --location TEXT")
        for decision in (policy.check_camera_zone(zone), policy.check_signage(signage_posted)):
            if not decision.allowed:
                self.refuse(who, "camera add", decision.rule, decision.reason, now, subject=name)
        if self._get(Camera, camera_id(name)) is not None:
            raise AlreadyExists(
                f"camera {name!r} is registered already (see: custodes camera list)"
            )
        camera = Camera._create(
            Camera.CameraRegistered,
            id=camera_id(name),
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            camera_id=name,
            location=" ".join(location.split()),
            zone=zone,
            signage_posted=signage_posted,
        )
        self.save(camera)
        return _camera_info(camera)

    def retire_camera(self, name: str, *, reason: str, actor: str, now: datetime) -> None:
        who = self.authorize(
            actor, "camera retire", ("director",), rules.STAFF_ROLE, now, subject=name
        )
        camera = self._camera(name)
        if camera.retired:
            raise InvalidInput(f"camera {camera.camera_id!r} is retired already")
        camera.trigger_event(
            Camera.CameraRetired,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            reason=_reason(reason, f"retiring camera {camera.camera_id!r}"),
        )
        self.save(camera)

    def cameras(self) -> list[CameraInfo]:
        found: list[Camera] = [
            self.repository.get(e.originator_id) for e in self._events_of(Camera.CameraRegistered)
        ]
        return sorted((_camera_info(c) for c in found), key=lambda c: c.camera_id.casefold())

    def camera_info(self, name: str) -> CameraInfo:
        return _camera_info(self._camera(name))

    def _camera(self, name: str) -> Camera:
        camera = self._get(Camera, camera_id(name))
        if camera is None:
            raise NotFound(
                f"camera {name!r} is not registered. Register it with: custodes camera add "
                f"{name} --location TEXT --zone public --signage-posted --as NAME"
            )
        return camera

    # ---- captures -------------------------------------------------------------------------

    def check_capture(self, camera: str, *, actor: str, now: datetime) -> Actor:
        """Before any file is stored: the actor may ingest and the camera is in service."""
        who = self.authorize(actor, "footage ingest", (), rules.STAFF_ACTIVE, now, subject=camera)
        cam = self._camera(camera)
        if cam.retired:
            raise InvalidInput(
                f"camera {cam.camera_id!r} is retired; footage from it cannot be ingested "
                "(see: custodes camera list)"
            )
        return who

    def refuse_capture(
        self, rule: rules.Rule, message: str, *, subject: str, actor: str, now: datetime
    ) -> None:
        """Record a refused ingest (e.g. footage with audio, R12) and raise NotPermitted."""
        who = self.authorize(actor, "footage ingest", (), rules.STAFF_ACTIVE, now, subject=subject)
        self.refuse(who, "footage ingest", rule, message, now, subject=subject)

    def find_segment(self, sha256: str) -> SegmentInfo | None:
        segment = self._get(Segment, segment_aggregate_id(short_id(sha256)))
        return None if segment is None else _segment_info(segment)

    def record_capture(self, item: CaptureItem, *, actor: str, now: datetime) -> SegmentInfo:
        return self.record_captures([item], actor=actor, now=now)[0]

    def record_captures(
        self, items: Sequence[CaptureItem], *, actor: str, now: datetime
    ) -> list[SegmentInfo]:
        """Record stored segments as ``FootageCaptured``, all in one transaction."""
        who = self.authorize(actor, "footage ingest", (), rules.STAFF_ACTIVE, now)
        names = {c: self._camera(c).camera_id for c in {i.camera_id for i in items}}
        for name in names:
            self.check_capture(name, actor=actor, now=now)
        site = self.site()
        created = []
        for item in items:
            if len(item.sha256) != 64 or not set(item.sha256) <= _HEX:
                raise InvalidInput(f"{item.sha256!r} is not a SHA-256 (64 lowercase hex digits)")
            if item.media.duration_s <= 0:
                raise InvalidInput(f"{item.source_name}: the recording has no duration")
            sid = short_id(item.sha256)
            existing = self._get(Segment, segment_aggregate_id(sid))
            if existing is not None:
                raise AlreadyExists(
                    f"{item.source_name}: identical content is recorded already as segment "
                    f"{sid} (see: custodes footage list)"
                )
            end = item.recorded_start + timedelta(seconds=item.media.duration_s)
            created.append(
                Segment._create(
                    Segment.FootageCaptured,
                    id=segment_aggregate_id(sid),
                    timestamp=now,
                    actor=who.name,
                    actor_role=who.role,
                    occurred_at=item.recorded_start,
                    segment_id=sid,
                    sha256=item.sha256,
                    size=item.size,
                    camera_id=names[item.camera_id],
                    recorded_start=item.recorded_start,
                    recorded_end=end,
                    retention_days=site.retention_days,
                    retention_deadline=end + timedelta(days=site.retention_days),
                    media=_media_dict(item.media),
                    source_name=item.source_name,
                )
            )
        self.save(*created)
        return [_segment_info(s) for s in created]

    def segment_info(self, segment_id: str) -> SegmentInfo:
        return _segment_info(self._segment(segment_id))

    def _segment(self, segment_id: str) -> Segment:
        key = segment_id.strip().lower()
        segment = None
        if len(key) in (12, 64) and set(key) <= _HEX:
            segment = self._get(Segment, segment_aggregate_id(short_id(key)))
        if segment is None or (len(key) == 64 and segment.sha256 != key):
            raise NotFound(
                f"segment {segment_id!r} is not recorded; list segments with: custodes footage list"
            )
        return segment

    # ---- flags and holds (R13, R14) -------------------------------------------------------

    def flag(
        self,
        segment_id: str,
        *,
        reason: str,
        actor: str,
        now: datetime,
        retain_until: datetime | None = None,
    ) -> str:
        who = self.authorize(actor, "footage flag", (), rules.STAFF_ACTIVE, now, subject=segment_id)
        segment = self._live_segment(segment_id, "flag")
        text = _reason(reason, f"flagging segment {segment.segment_id}")
        decision = policy.check_view_purpose("incident_investigation", text)
        if not decision.allowed:  # R16a: no flag to monitor staff
            self.refuse(
                who, "footage flag", decision.rule, decision.reason, now, subject=segment.segment_id
            )
        if retain_until is not None and retain_until <= now:
            raise InvalidInput(f"--until {retain_until.isoformat()} is not in the future")
        flag_id = f"F-{secrets.token_hex(4).upper()}"
        segment.trigger_event(
            Segment.FootageFlagged,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            flag_id=flag_id,
            reason=text,
            retain_until=retain_until,
        )
        self.save(segment)
        return flag_id

    def clear_flag(
        self, segment_id: str, flag_id: str, *, reason: str, actor: str, now: datetime
    ) -> None:
        who = self.authorize(
            actor, "footage unflag", FLAG_CLEARERS, rules.FOOTAGE_RETENTION, now, subject=segment_id
        )
        segment = self._segment(segment_id)
        if flag_id.upper() not in segment.flags:
            raise NotFound(
                f"segment {segment.segment_id} has no open flag {flag_id!r} "
                f"(see: custodes footage list --json)"
            )
        segment.trigger_event(
            Segment.FlagCleared,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            flag_id=flag_id.upper(),
            reason=_reason(reason, f"clearing flag {flag_id}"),
        )
        self.save(segment)

    def place_hold(
        self,
        segments: Sequence[str],
        *,
        kind: str,
        reason: str,
        reference: str,
        actor: str,
        now: datetime,
        review_by: datetime | None = None,
    ) -> str:
        """Hold segments from purge (R14); returns the hold id. Any active staff member may
        preserve footage; only the Director releases a hold."""
        subject = ", ".join(segments)
        who = self.authorize(
            actor, "footage hold place", HOLD_PLACERS, rules.STAFF_ROLE, now, subject=subject
        )
        if kind not in HOLD_KINDS:
            raise InvalidInput(f"unknown hold kind {kind!r}; choose one of {', '.join(HOLD_KINDS)}")
        if not segments:
            raise InvalidInput("a hold needs at least one segment")
        text = _reason(reason, "placing a hold")
        if not (reference or "").strip():
            raise InvalidInput(
                "placing a hold: a reference is required (case, order or request number); pass --reference TEXT"
            )
        held = {s.segment_id: s for s in (self._live_segment(sid, "hold") for sid in segments)}
        hold_id = f"H-{secrets.token_hex(4).upper()}"
        common: dict[str, Any] = dict(
            timestamp=now, actor=who.name, actor_role=who.role, occurred_at=None
        )
        hold = FootageHold._create(
            FootageHold.HoldPlaced,
            id=hold_aggregate_id(hold_id),
            hold_id=hold_id,
            kind=kind,
            reason=text,
            reference=reference.strip(),
            segments=sorted(held),
            review_by=review_by,
            **common,
        )
        for segment in held.values():
            segment.trigger_event(Segment.HoldApplied, hold_id=hold_id, kind=kind, **common)
        self.save(hold, *held.values())
        return hold_id

    def release_hold(self, hold_id: str, *, reason: str, actor: str, now: datetime) -> None:
        who = self.authorize(
            actor, "footage hold release", (), rules.STAFF_ACTIVE, now, subject=hold_id
        )
        decision = policy.check_hold_release(who.role, reason)
        if not decision.allowed and who.role != "director":
            self.refuse(
                who, "footage hold release", decision.rule, decision.reason, now, subject=hold_id
            )
        if not decision.allowed:
            raise InvalidInput(
                f"releasing hold {hold_id}: a reason is required; pass --reason TEXT"
            )
        hold = self._hold(hold_id)
        if not hold.active:
            raise InvalidInput(
                f"hold {hold.hold_id} was released already on {hold.released_at:%Y-%m-%d}"
            )
        common: dict[str, Any] = dict(
            timestamp=now, actor=who.name, actor_role=who.role, occurred_at=None
        )
        hold.trigger_event(FootageHold.HoldReleased, reason=_reason(reason, "release"), **common)
        segments = [self._segment(s) for s in hold.segments]
        for segment in segments:
            segment.trigger_event(Segment.HoldLifted, hold_id=hold.hold_id, **common)
        self.save(hold, *segments)

    def hold_info(self, hold_id: str) -> HoldInfo:
        hold = self._hold(hold_id)
        return HoldInfo(
            hold.hold_id,
            hold.kind,
            hold.reason,
            hold.reference,
            tuple(hold.segments),
            hold.placed_by,
            hold.created_on,
            hold.review_by,
            hold.released_at,
        )

    def _hold(self, hold_id: str) -> FootageHold:
        hold = self._get(FootageHold, hold_aggregate_id(hold_id))
        if hold is None:
            raise NotFound(
                f"hold {hold_id!r} does not exist; list holds with: custodes footage list --status held"
            )
        return hold

    def _live_segment(self, segment_id: str, what: str) -> Segment:
        segment = self._segment(segment_id)
        if segment.purged:
            raise InvalidInput(
                f"segment {segment.segment_id} was purged on {segment.purged_at:%Y-%m-%d}; "
                f"there is nothing left to {what}"
            )
        return segment

    # ---- viewing (R16, R16a) --------------------------------------------------------------

    def check_viewing(
        self, segment_id: str, *, reason: str, purpose: str, actor: str, now: datetime
    ) -> ViewPermit:
        """Who may view this segment now; a refusal is recorded. Nothing else is recorded:
        the viewing itself is, by ``record_viewing``, once the copy exists."""
        who = self.authorize(actor, "footage view", (), rules.STAFF_ACTIVE, now, subject=segment_id)
        segment = self._live_segment(segment_id, "view")
        text = " ".join((reason or "").split())
        if not text:
            d = policy.check_reason(text)
            raise InvalidInput(f"{d.message()}; pass --reason TEXT (nothing was recorded)")
        sid = segment.segment_id
        purpose_ok = policy.check_view_purpose(purpose, text)
        if not purpose_ok.allowed:
            self.refuse(who, "footage view", purpose_ok.rule, purpose_ok.reason, now, subject=sid)
        live = timedelta(hours=self.site().live_window_hours)
        access = policy.check_archive_access(who.role, segment.recorded_end, now, live)
        if not access.allowed:
            self.refuse(
                who,
                "footage view",
                access.rule,
                f"{who.name} ({who.role}): {access.reason}",
                now,
                subject=sid,
            )
        archived = now - segment.recorded_end > live
        return ViewPermit(who, _segment_info(segment), archived, text, purpose)

    def record_viewing(
        self,
        permit: ViewPermit,
        *,
        kind: str,
        remote: bool,
        now: datetime,
        at_seconds: float | None = None,
    ) -> None:
        segment = self._live_segment(permit.segment.segment_id, "view")
        segment.trigger_event(
            Segment.FootageViewed,
            timestamp=now,
            actor=permit.who.name,
            actor_role=permit.who.role,
            occurred_at=None,
            kind=kind,
            reason=permit.reason,
            purpose=permit.purpose,
            remote=remote,
            archived=permit.archived,
            at_seconds=at_seconds,
        )
        self.save(segment)

    # ---- purge (R13-R15) ------------------------------------------------------------------

    def check_purge(self, segment_id: str, *, actor: str, now: datetime) -> SegmentInfo:
        """Raise PurgeBlocked unless the segment must be purged now (the aggregate decides,
        whatever a projection said)."""
        self.authorize(actor, "retention sweep", (), rules.STAFF_ACTIVE, now, subject=segment_id)
        segment = self._segment(segment_id)
        if segment.purged:
            raise PurgeBlocked(
                rules.FOOTAGE_RETENTION, f"segment {segment.segment_id} is purged already"
            )
        decision = policy.check_purge(
            segment.recorded_end,
            segment.retention_days,
            segment.policy_flags(),
            segment.policy_holds(),
            now,
        )
        if not decision.allowed:
            raise PurgeBlocked(decision.rule, f"segment {segment.segment_id}: {decision.reason}")
        return _segment_info(segment)

    def record_purge(
        self,
        segment_id: str,
        *,
        method: str,
        blob_removed: bool,
        key_destroyed: bool,
        completed_after_interruption: bool,
        sweep_run: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Record what the sweep destroyed. Call only after the files are confirmed gone."""
        self.check_purge(segment_id, actor=actor, now=now)
        who = self.authorize(
            actor, "retention sweep", (), rules.STAFF_ACTIVE, now, subject=segment_id
        )
        segment = self._segment(segment_id)
        segment.trigger_event(
            Segment.FootagePurged,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            segment_id=segment.segment_id,
            sha256=segment.sha256,
            camera_id=segment.camera_id,
            recorded_start=segment.recorded_start,
            recorded_end=segment.recorded_end,
            method=method,
            blob_removed=blob_removed,
            key_destroyed=key_destroyed,
            completed_after_interruption=completed_after_interruption,
            sweep_run=sweep_run,
            schedule_authority=self.site().schedule_authority,
            rule_id=rules.FOOTAGE_RETENTION.id,
        )
        self.save(segment)

    # ---- site retention settings (R13, R15, R16) ------------------------------------------

    def change_retention(
        self,
        *,
        reason: str,
        actor: str,
        now: datetime,
        retention_days: int | None = None,
        live_window_hours: int | None = None,
        schedule_authority: dict[str, str] | None = None,
    ) -> Site:
        """Director only. A new retention period applies to footage captured afterwards;
        each segment keeps the deadline recorded when it was captured."""
        who = self.authorize(
            actor, "retention settings", ("director",), rules.STAFF_ROLE, now, subject="site"
        )
        site = self._get(Site, SITE_ID) or self.site()
        days = site.retention_days if retention_days is None else retention_days
        hours = site.live_window_hours if live_window_hours is None else live_window_hours
        if days < 1 or hours < 1:
            raise InvalidInput("retention days and live-window hours must be at least 1")
        authority = site.schedule_authority if schedule_authority is None else schedule_authority
        if authority is not None:
            authority = {k: v.strip() for k, v in authority.items() if v and v.strip()} or None
        site.trigger_event(
            Site.SiteSettingsChanged,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            retention_days=days,
            live_window_hours=hours,
            schedule_authority=authority,
            reason=_reason(reason, "changing the retention settings"),
        )
        self.save(site)
        return site


def _media_dict(media: MediaFacts) -> dict[str, Any]:
    return {
        "container": media.container,
        "codec": media.codec,
        "frame_count": media.frame_count,
        "fps": media.fps,
        "duration_s": media.duration_s,
        "width": media.width,
        "height": media.height,
    }


def _camera_info(camera: Camera) -> CameraInfo:
    return CameraInfo(
        camera.camera_id,
        camera.location,
        camera.zone,
        camera.signage_posted,
        camera.retired,
        camera.created_on,
        camera.registered_by,
    )


def _segment_info(segment: Segment) -> SegmentInfo:
    return SegmentInfo(
        segment_id=segment.segment_id,
        sha256=segment.sha256,
        camera_id=segment.camera_id,
        recorded_start=segment.recorded_start,
        recorded_end=segment.recorded_end,
        purged=segment.purged,
        size=segment.size,
        retention_deadline=segment.retention_deadline,
        flags=tuple(sorted(segment.flags)),
        holds=tuple(sorted(segment.holds)),
        captured_at=segment.created_on,
        purged_at=segment.purged_at,
        media=dict(segment.media),
    )
