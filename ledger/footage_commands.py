"""Footage use-cases on the ledger side: cameras, captures, flags, holds, viewings.

Each command checks the policy (``ledger.footage_policy``) before an event is triggered; a
refused attempt by a person is recorded (R23) and raises ``NotPermitted``. File work
(probing, encrypting) is the capture package's: these methods record what it did. Queries
are in ``ledger.footage_queries``, purges and retention settings in
``ledger.retention_commands``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledger import footage_policy, rules, sitetime
from ledger.domain import Actor
from ledger.errors import AlreadyExists, InvalidInput, NotFound
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
from ledger.footage_queries import (
    HEX_DIGITS,
    CameraInfo,
    FootageQueries,
    SegmentInfo,
    camera_info_of,
    segment_info_of,
)
from ledger.text import NAME, REASON, REFERENCE, clean_text, printable

HOLD_PLACERS = ()  # any active staff member may preserve footage; only the Director releases
FLAG_CLEARERS = ("director", "business_manager")


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


def required_reason(reason: str, what: str) -> str:
    """A reason as it is recorded: required, plain text, bounded, no card numbers."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput(f"{what}: a reason is required; pass --reason TEXT")
    return clean_text(text, kind=REASON, what=f"{what}: the reason", no_card_numbers=True)


class FootageCommands(FootageQueries):
    # ---- cameras --------------------------------------------------------------------------

    def register_camera(
        self,
        name: str,
        *,
        location: str,
        zone: str,
        signage_posted: bool,
        actor: str,
    ) -> CameraInfo:
        now = self.clock()
        name = name.strip()
        who = self.authorize(actor, "camera add", ("director",), rules.STAFF_ROLE, subject=name)
        if not name or any(c.isspace() for c in name) or len(name) > 64 or printable(name) != name:
            raise InvalidInput(
                f"camera id {name!r} must be 1-64 characters without spaces or control characters"
            )
        if zone not in ZONES:
            raise InvalidInput(f"unknown zone {zone!r}; choose one of {', '.join(ZONES)}")
        if not location.strip():
            raise InvalidInput(f"camera {name!r}: the location is empty; pass --location TEXT")
        for decision in (
            footage_policy.check_camera_zone(zone, self.policy_params().refused_camera_zones),
            footage_policy.check_signage(signage_posted),
        ):
            if not decision.allowed:
                self.refuse(who, "camera add", decision.rule, decision.reason, subject=name)
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
            location=clean_text(location, kind=NAME, what=f"camera {name!r}: the location"),
            zone=zone,
            signage_posted=signage_posted,
        )
        self.save(camera)
        return camera_info_of(camera)

    def retire_camera(self, name: str, *, reason: str, actor: str) -> None:
        now = self.clock()
        who = self.authorize(actor, "camera retire", ("director",), rules.STAFF_ROLE, subject=name)
        camera = self._camera(name)
        if camera.retired:
            raise InvalidInput(f"camera {camera.camera_id!r} is retired already")
        camera.trigger_event(
            Camera.CameraRetired,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            reason=required_reason(reason, f"retiring camera {camera.camera_id!r}"),
        )
        self.save(camera)

    # ---- captures -------------------------------------------------------------------------

    def check_capture(self, camera: str, *, actor: str) -> Actor:
        """Before any file is stored: the actor may ingest and the camera is in service."""
        who = self.authorize(actor, "footage ingest", (), rules.STAFF_ACTIVE, subject=camera)
        cam = self._camera(camera)
        if cam.retired:
            raise InvalidInput(
                f"camera {cam.camera_id!r} is retired; footage from it cannot be ingested "
                "(see: custodes camera list)"
            )
        return who

    def refuse_capture(self, rule: rules.Rule, message: str, *, subject: str, actor: str) -> None:
        """Record a refused ingest (e.g. footage with audio, R12) and raise NotPermitted."""
        who = self.authorize(actor, "footage ingest", (), rules.STAFF_ACTIVE, subject=subject)
        self.refuse(who, "footage ingest", rule, message, subject=subject)

    def record_capture(self, item: CaptureItem, *, actor: str) -> SegmentInfo:
        return self.record_captures([item], actor=actor)[0]

    def record_captures(self, items: Sequence[CaptureItem], *, actor: str) -> list[SegmentInfo]:
        """Record stored segments as ``FootageCaptured``, all in one transaction."""
        now = self.clock()
        who = self.authorize(actor, "footage ingest", (), rules.STAFF_ACTIVE)
        names = {c: self._camera(c).camera_id for c in {i.camera_id for i in items}}
        for name in names:
            self.check_capture(name, actor=actor)
        site = self.site()
        created = []
        for item in items:
            if len(item.sha256) != 64 or not set(item.sha256) <= HEX_DIGITS:
                raise InvalidInput(f"{item.sha256!r} is not a SHA-256 (64 lowercase hex digits)")
            if item.media.duration_s <= 0:
                raise InvalidInput(f"{item.source_name}: the recording has no duration")
            claim = footage_policy.check_recording_claim(
                item.recorded_start,
                item.recorded_start + timedelta(seconds=item.media.duration_s),
                self._camera(item.camera_id).created_on,
                now,
                site.zone,
            )
            if not claim.allowed:
                self.refuse(
                    who,
                    "footage ingest",
                    claim.rule,
                    f"{item.source_name}: {claim.reason}; nothing was ingested",
                    subject=item.source_name,
                )
            sid = short_id(item.sha256)
            existing = self._get(Segment, segment_aggregate_id(sid))
            if existing is not None:
                raise AlreadyExists(
                    f"{item.source_name}: identical content is recorded already as segment "
                    f"{sid} (see: custodes footage list)"
                )
            end = item.recorded_start + timedelta(seconds=item.media.duration_s)
            # R28: the days of the version in force when the recording began; a later
            # version with fewer days applies to footage captured after it took effect.
            days, version = self.retention_policy(item.recorded_start)
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
                    retention_days=days,
                    retention_deadline=end + timedelta(days=days),
                    retention_version=version,
                    media=_media_dict(item.media),
                    source_name=item.source_name,
                )
            )
        self.save(*created)
        return [segment_info_of(s) for s in created]

    # ---- flags and holds (R13, R14) -------------------------------------------------------

    def flag(
        self,
        segment_id: str,
        *,
        reason: str,
        actor: str,
        retain_until: datetime | None = None,
    ) -> str:
        now = self.clock()
        who = self.authorize(actor, "footage flag", (), rules.STAFF_ACTIVE, subject=segment_id)
        segment = self._live_segment(segment_id, "flag")
        text = required_reason(reason, f"flagging segment {segment.segment_id}")
        params = self.policy_params()
        decision = footage_policy.check_view_purpose(
            "incident_investigation", text, params.staff_monitoring_purposes
        )
        if not decision.allowed:  # R16a: no flag to monitor staff
            self.refuse(
                who, "footage flag", decision.rule, decision.reason, subject=segment.segment_id
            )
        if retain_until is not None and retain_until <= now:
            until = sitetime.show(retain_until, self.site().zone)
            raise InvalidInput(f"--until {until} is not in the future")
        bound = now + timedelta(days=params.flag_max_days)
        if retain_until is not None and retain_until > bound:  # R13, R28: the version's bound
            self.refuse(
                who,
                "footage flag",
                rules.FOOTAGE_RETENTION,
                f"a flag keeps footage at most {params.flag_max_days} days (until "
                f"{sitetime.show(bound, self.site().zone)}) under the policy in force",
                subject=segment.segment_id,
            )
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

    def clear_flag(self, segment_id: str, flag_id: str, *, reason: str, actor: str) -> None:
        now = self.clock()
        who = self.authorize(
            actor, "footage unflag", FLAG_CLEARERS, rules.FOOTAGE_RETENTION, subject=segment_id
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
            reason=required_reason(reason, f"clearing flag {flag_id}"),
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
        review_by: datetime | None = None,
    ) -> str:
        """Hold segments from purge (R14); returns the hold id. Any active staff member may
        preserve footage; only the Director releases a hold."""
        now = self.clock()
        subject = ", ".join(segments)
        who = self.authorize(
            actor, "footage hold place", HOLD_PLACERS, rules.STAFF_ROLE, subject=subject
        )
        hold_id, aggregates = self.prepare_hold(
            segments, kind=kind, reason=reason, reference=reference, who=who, now=now,
            review_by=review_by,
        )  # fmt: skip
        self.save(*aggregates)
        return hold_id

    def prepare_hold(
        self,
        segments: Sequence[str],
        *,
        kind: str,
        reason: str,
        reference: str,
        who: Actor,
        now: datetime,
        review_by: datetime | None = None,
    ) -> tuple[str, list[Any]]:
        """Check every segment first, then build the hold and its segments' events, unsaved:
        the caller saves them in its own act (all or nothing)."""
        if kind not in HOLD_KINDS:
            raise InvalidInput(f"unknown hold kind {kind!r}; choose one of {', '.join(HOLD_KINDS)}")
        if not segments:
            raise InvalidInput("a hold needs at least one segment")
        text = required_reason(reason, "placing a hold")
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
            reference=clean_text(reference, kind=REFERENCE, what="the hold's reference"),
            segments=sorted(held),
            review_by=review_by,
            **common,
        )
        for segment in held.values():
            segment.trigger_event(Segment.HoldApplied, hold_id=hold_id, kind=kind, **common)
        return hold_id, [hold, *held.values()]

    def release_hold(self, hold_id: str, *, reason: str, actor: str) -> None:
        now = self.clock()
        who = self.authorize(actor, "footage hold release", (), rules.STAFF_ACTIVE, subject=hold_id)
        decision = footage_policy.check_hold_release(who.role, reason)
        if not decision.allowed and who.role != "director":
            self.refuse(
                who, "footage hold release", decision.rule, decision.reason, subject=hold_id
            )
        if not decision.allowed:
            raise InvalidInput(
                f"releasing hold {hold_id}: a reason is required; pass --reason TEXT"
            )
        hold = self._hold(hold_id)
        if not hold.active:
            raise InvalidInput(
                f"hold {hold.hold_id} was released already on "
                f"{sitetime.show(hold.released_at, self.site().zone)}"
            )
        common: dict[str, Any] = dict(
            timestamp=now, actor=who.name, actor_role=who.role, occurred_at=None
        )
        hold.trigger_event(
            FootageHold.HoldReleased, reason=required_reason(reason, "release"), **common
        )
        segments = [self._segment(s) for s in hold.segments]
        for segment in segments:
            segment.trigger_event(Segment.HoldLifted, hold_id=hold.hold_id, **common)
        self.save(hold, *segments)

    def _live_segment(self, segment_id: str, what: str) -> Segment:
        segment = self._segment(segment_id)
        if segment.purged:
            raise InvalidInput(
                f"segment {segment.segment_id} was purged on "
                f"{sitetime.show_date(segment.purged_at, self.site().zone)}; "
                f"there is nothing left to {what}"
            )
        if segment.missing and what == "view":
            raise InvalidInput(
                f"segment {segment.segment_id} was found missing on "
                f"{segment.missing_at:%Y-%m-%d} (its file or key is gone; "
                f"{rules.FOOTAGE_FOUND_MISSING.cite()}); there is nothing left to {what}"
            )
        return segment

    # ---- viewing (R16, R16a) --------------------------------------------------------------

    def check_viewing(
        self, segment_id: str, *, reason: str, purpose: str, actor: str
    ) -> ViewPermit:
        """Who may view this segment now; a refusal is recorded. Nothing else is recorded:
        the viewing itself is, by ``record_viewing``, once the copy exists."""
        now = self.clock()
        who = self.authorize(actor, "footage view", (), rules.STAFF_ACTIVE, subject=segment_id)
        segment = self._live_segment(segment_id, "view")
        text = " ".join((reason or "").split())
        if not text:
            d = footage_policy.check_reason(text)
            raise InvalidInput(f"{d.message()}; pass --reason TEXT (nothing was recorded)")
        text = clean_text(text, kind=REASON, what="the viewing's reason", no_card_numbers=True)
        sid = segment.segment_id
        params = self.policy_params()
        purpose_ok = footage_policy.check_view_purpose(
            purpose, text, params.staff_monitoring_purposes
        )
        if not purpose_ok.allowed:
            self.refuse(who, "footage view", purpose_ok.rule, purpose_ok.reason, subject=sid)
        live = timedelta(hours=self.site().live_window_hours)
        access = footage_policy.check_archive_access(
            who.role, segment.recorded_end, now, live, params.archive_viewer_roles
        )
        if not access.allowed:
            self.refuse(
                who,
                "footage view",
                access.rule,
                f"{who.name} ({who.role}): {access.reason}",
                subject=sid,
            )
        archived = now - segment.recorded_end > live
        return ViewPermit(who, segment_info_of(segment), archived, text, purpose)

    def record_viewing(
        self,
        permit: ViewPermit,
        *,
        kind: str,
        remote: bool,
        at_seconds: float | None = None,
    ) -> None:
        now = self.clock()
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
