"""Footage use-cases on the ledger side: cameras, captures, flags, holds, viewings.

Each command checks the policy (``ledger.footage_policy``) before an event is triggered; a
refused attempt by a person is recorded (R23) and raises ``NotPermitted``. File work
(probing, encrypting) is the capture package's: these methods record what it did. Queries
are in ``ledger.footage_queries``, purges and retention settings in
``ledger.retention_commands``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
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
from ledger.policy import Decision, refuse
from ledger.text import NAME, REASON, REFERENCE, clean_text, printable

HOLD_PLACERS = ()  # any active staff member may preserve footage; only the Director releases
FLAG_CLEARERS = ("director", "business_manager")
# Who records a viewing copy destroyed: the viewer, the Director, or the sweep (R16b).
COPY_DESTROYERS = ("director", "business_manager", "service")


@dataclass(frozen=True)
class ViewPermit:
    """A viewing the policy allows; record it with ``record_viewing`` once the copy exists."""

    who: Actor
    segment: SegmentInfo
    archived: bool
    reason: str
    purpose: str
    staff_note: str | None = None  # the Director's why-not-staff-monitoring (R16a)


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
        not_private: str | None = None,
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
        location = clean_text(location, kind=NAME, what=f"camera {name!r}: the location")
        note = _optional_reason(not_private, f"camera {name!r}: why it is not a private place")
        for decision in (
            footage_policy.check_camera_placement(
                zone, location, note, self.policy_params().refused_camera_zones
            ),
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
            location=location,
            zone=zone,
            signage_posted=signage_posted,
            privacy_note=note if footage_policy.private_place_words(location) else None,
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
        cameras = {c: self._camera(c) for c in {i.camera_id for i in items}}
        for name in cameras:
            self.check_capture(name, actor=actor)
        site = self.site()
        policies = site.policies  # read once for the batch, not once per item (R28)
        created = []
        for item in items:
            if len(item.sha256) != 64 or not set(item.sha256) <= HEX_DIGITS:
                raise InvalidInput(f"{item.sha256!r} is not a SHA-256 (64 lowercase hex digits)")
            if item.media.duration_s <= 0:
                raise InvalidInput(f"{item.source_name}: the recording has no duration")
            claim = footage_policy.check_recording_claim(
                item.recorded_start,
                item.recorded_start + timedelta(seconds=item.media.duration_s),
                cameras[item.camera_id].created_on,
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
            days, version = policies.retention(item.recorded_start)
            deadline = end + timedelta(days=days)
            if deadline <= now:
                # red team (session 13): month-old footage was brought in, purged at once
                # and reported as the sweep's late purge (or held, and kept)
                self.refuse(
                    who,
                    "footage ingest",
                    rules.FOOTAGE_PAST_DEADLINE,
                    f"{item.source_name}: recorded until "
                    f"{sitetime.show(end, site.zone)}, its {days} days ended "
                    f"{sitetime.show(deadline, site.zone)}: footage past its "
                    "retention is destroyed where it is, not archived; nothing was ingested",
                    subject=item.source_name,
                )
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
                    camera_id=cameras[item.camera_id].camera_id,
                    recorded_start=item.recorded_start,
                    recorded_end=end,
                    retention_days=days,
                    retention_deadline=deadline,
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
        incident: str,
        reason: str,
        actor: str,
        retain_until: datetime | None = None,
        not_staff_monitoring: str | None = None,
    ) -> str:
        """Flag a segment for a named incident of suspected misbehavior (R13): kept until
        ``retain_until`` (default and limit: the policy's bound ahead). Refusals recorded."""
        now = self.clock()
        zone = self.site().zone
        who = self.authorize(actor, "footage flag", (), rules.STAFF_ACTIVE, subject=segment_id)
        segment = self._live_segment(segment_id, "flag")
        sid = segment.segment_id
        what = f"flagging segment {sid}"
        name = " ".join((incident or "").split())
        if not name:
            raise InvalidInput(f"{what}: name the incident; pass --incident TEXT")
        name = clean_text(name, kind=REFERENCE, what=f"{what}: the incident", no_card_numbers=True)
        text = required_reason(reason, what)
        note = _optional_reason(not_staff_monitoring, f"{what}: why it is not staff monitoring")
        params = self.policy_params()
        decision = footage_policy.check_view_purpose(
            "incident_investigation",
            f"{name} {text}",
            staff_names=self.staff_names(),
            role=who.role,
            director_note=note,
            phrases=params.staff_monitoring_purposes,
        )
        if not decision.allowed:  # R16a: no flag to monitor staff
            self.refuse(who, "footage flag", decision.rule, decision.reason, subject=sid)
        if who.role != "director":
            # as a hold (red team, session 17: staff flags "just in case", incident "n/a",
            # kept ordinary footage some 90 days more)
            grounds = footage_policy.check_hold_grounds(text, name, kind="flag")
            if not grounds.allowed:
                self.refuse(who, "footage flag", grounds.rule, grounds.reason, subject=sid)
        ret, kept = self._within_deadline(segment, now)
        if not kept.allowed:  # due footage is purged, not rescued by a flag (R13, R14)
            self.refuse(
                who, "footage flag", kept.rule, f"segment {sid}: {kept.reason}", subject=sid
            )
        until = retain_until or now + timedelta(days=params.flag_max_days)
        chained = ret.base_deadline + timedelta(days=params.flag_max_days)
        if retain_until is None and who.role != "director" and now < chained < until:
            # no end given: "as long as the policy allows", which for anyone but the
            # Director is also the bound past the segment's own deadline (red team,
            # session 13: staff who left the date empty on a held segment past its
            # deadline were refused, and the refusal recorded against them); a bound
            # already passed is refused below (``check_flag_end``)
            until = chained
        if until <= now:
            raise InvalidInput(f"--until {sitetime.show(until, zone)} is not in the future")
        bound = footage_policy.check_flag_end(
            until,
            now,
            zone,
            base_deadline=ret.base_deadline,
            role=who.role,
            max_days=params.flag_max_days,
        )
        if not bound.allowed:
            self.refuse(who, "footage flag", bound.rule, bound.reason, subject=sid)
        flag_id = f"F-{secrets.token_hex(4).upper()}"
        segment.trigger_event(
            Segment.FootageFlagged,
            **_signed(who, now),
            flag_id=flag_id,
            reason=text,
            retain_until=until,
            incident=name,
            staff_note=note if decision.rule == rules.FOOTAGE_NO_STAFF_MONITORING else None,
        )
        self.save(segment)
        return flag_id

    def extend_flag(
        self, segment_id: str, flag_id: str, *, until: datetime, reason: str, actor: str
    ) -> None:
        """Only the Director keeps flagged footage longer, with a reason, by at most the
        policy's bound ahead (R13); anyone else's attempt is recorded."""
        now = self.clock()
        zone = self.site().zone
        who = self.authorize(
            actor, "footage flag extend", (), rules.STAFF_ACTIVE, subject=segment_id
        )
        segment = self._live_segment(segment_id, "flag")
        fid = flag_id.strip().upper()
        if fid not in segment.flags:
            raise NotFound(
                f"segment {segment.segment_id} has no open flag {flag_id!r} "
                f"(see: custodes footage list --json)"
            )
        if who.role != "director":
            self.refuse(
                who,
                "footage flag extend",
                rules.FOOTAGE_FLAG_BOUND,
                f"only the Director extends a flag, not the {who.role.replace('_', ' ')}",
                subject=segment.segment_id,
            )
        text = required_reason(reason, f"extending flag {fid}")
        current = segment.flags[fid]
        if current is not None and until <= current:
            raise InvalidInput(
                f"flag {fid} already keeps the segment until {sitetime.show(current, zone)}; "
                f"--until {sitetime.show(until, zone)} does not extend it"
            )
        bound = footage_policy.check_flag_end(
            until, now, zone, extending=True, max_days=self.policy_params().flag_max_days
        )
        if not bound.allowed:
            self.refuse(
                who, "footage flag extend", bound.rule, bound.reason, subject=segment.segment_id
            )
        segment.trigger_event(
            Segment.FlagExtended,
            **_signed(who, now),
            flag_id=fid,
            retain_until=until,
            reason=text,
        )
        self.save(segment)

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
        if segment.flag_roles.get(flag_id.upper()) == "director" and who.role != "director":
            self.refuse(  # R13: what only the Director may lengthen, only the Director cuts
                who,
                "footage unflag",
                rules.FOOTAGE_RETENTION,
                f"flag {flag_id.upper()} was set by the Director; only the Director clears it, "
                f"not the {who.role.replace('_', ' ')}",
                subject=segment.segment_id,
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
        preserve footage within its retention; footage past its deadline (which the sweep
        must purge) is held by the Director only, and no hold is placed for a purpose that
        reads as watching staff (R16a). Only the Director releases a hold. (Red team,
        session 13: staff kept month-overdue footage "to check whether Bo left early on
        her shift, for her evaluation", and it could then be viewed.)"""
        now = self.clock()
        subject = ", ".join(segments)
        who = self.authorize(
            actor, "footage hold place", HOLD_PLACERS, rules.STAFF_ROLE, subject=subject
        )
        signals = footage_policy.staff_monitoring_found(
            f"{reason or ''}. {reference or ''}",  # each read from its own start
            self.staff_names(),
            self.policy_params().staff_monitoring_purposes,
        )
        if signals:
            self.refuse(
                who, "footage hold place", rules.FOOTAGE_NO_STAFF_MONITORING,
                "cameras are not used to monitor staff performance or to evaluate staff, and "
                f"footage is not kept for it; the hold's reason mentions {footage_policy.quoted(signals)}",
                subject=subject,
            )  # fmt: skip
        if who.role != "director":
            grounds = footage_policy.check_hold_grounds(reason or "", reference or "")
            if not grounds.allowed:
                self.refuse(who, "footage hold place", grounds.rule, grounds.reason,
                            subject=subject)  # fmt: skip
            for sid in segments:
                _, kept = self._within_deadline(self._live_segment(sid, "hold"), now)
                if not kept.allowed:
                    self.refuse(
                        who, "footage hold place", kept.rule,
                        f"segment {sid}: {kept.reason}; footage past its deadline is purged, "
                        "not held, unless the Director holds it (a legal duty to preserve it)",
                        subject=sid,
                    )  # fmt: skip
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
        bound, zone = self.policy_params().flag_max_days, self.site().zone
        if review_by is not None and review_by <= now:
            raise InvalidInput(
                f"placing a hold: the review date {sitetime.show_date(review_by, zone)} is not "
                "in the future"
            )
        # The review date is what brings a hold before the Director (R14): anyone else may
        # not set it beyond the bound the default gives (below), through that site day.
        last_day = sitetime.local_day(now + timedelta(days=bound), zone)
        if (
            review_by is not None
            and who.role != "director"
            and review_by > sitetime.end_of_day(last_day, zone)
        ):
            self.refuse(
                who, "footage hold place", rules.FOOTAGE_HOLD_RELEASE_DIRECTOR,
                f"a hold placed by anyone but the Director is reviewed within {bound} days "
                f"(by {last_day}), not {sitetime.show_date(review_by, zone)}; the Director "
                "sets a later review date",
                subject=", ".join(held),
            )  # fmt: skip
        if review_by is None and who.role != "director":
            # Anyone may preserve footage, but what keeps footage past its 30 days comes
            # before the Director: a hold placed by anyone else is to be reviewed within the
            # policy's flag bound, and then shows under "Needs attention" (R13, R14).
            review_by = now + timedelta(days=bound)
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
            reference=clean_text(
                reference, kind=REFERENCE, what="the hold's reference", no_card_numbers=True
            ),
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
        pending = self._foia_pending(hold)
        if pending:
            self.refuse(
                who, "footage hold release", rules.FOIA_PRESERVE,
                f"hold {hold.hold_id} keeps the footage that answers FOIA request {pending}, "
                "which is still pending (neither released nor denied); release the hold once "
                "it is answered",
                subject=hold_id,
            )  # fmt: skip
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

    def _foia_pending(self, hold: FootageHold) -> str | None:
        """The FOIA request a hold preserves footage for, while it is unanswered (R14, R20):
        no release made and no denial decided."""
        if hold.kind != "foia":
            return None
        from ledger.disclosure import Request, request_id

        request = self._get(Request, request_id(hold.reference))
        if request is None or request.foia is None:  # only a FOIA request's clock holds it
            return None
        denied = request.decision is not None and not request.decision["approved"]
        return None if request.releases or denied else str(request.ref)

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

    def _within_deadline(
        self, segment: Any, now: datetime
    ) -> tuple[footage_policy.Retention, Decision]:
        """``segment``'s retention now, and whether it is within its deadline (after its
        flags) or kept by an active hold (R13, R14): due footage is not flagged, viewed or
        released."""
        ret = footage_policy.retention_deadline(
            segment.recorded_end,
            segment.retention_days,
            segment.policy_flags(),
            segment.policy_holds(),
            now,
        )
        kept = footage_policy.check_not_past_deadline(
            ret.keep_until, ret.active_holds, now, self.site().zone
        )
        return ret, kept

    def check_kept(self, segment_id: str, now: datetime) -> Decision:
        """Whether a segment is still kept, so that it may leave the library (R13): not
        purged, not past its deadline unless an active hold covers it. Footage due for
        destruction is not copied or released, by any command (FOOTAGE-PAST-DEADLINE)."""
        segment = self._segment(segment_id)
        zone = self.site().zone
        sid = segment.segment_id
        if segment.purged:
            return refuse(
                rules.FOOTAGE_PAST_DEADLINE,
                f"segment {sid} was purged on {sitetime.show_date(segment.purged_at, zone)}; "
                "nothing of it is kept to release",
                shared="purged or due for purge",
                subject=sid,
            )
        _ret, kept = self._within_deadline(segment, now)
        if kept.allowed:
            return kept
        return refuse(
            kept.rule,
            f"segment {sid}: {kept.reason}",
            shared="purged or due for purge",
            subject=sid,
        )

    # ---- viewing (R16, R16a) --------------------------------------------------------------

    def check_viewing(
        self,
        segment_id: str,
        *,
        reason: str,
        purpose: str,
        actor: str,
        not_staff_monitoring: str | None = None,
        action: str = "footage view",
    ) -> ViewPermit:
        """Who may view this segment now; every refusal is recorded, an attempt without a
        reason too (R16), as an attempt at ``action`` (the command: "footage frame" for a
        still, so a refused still is not recorded as a refused viewing). Nothing else is
        recorded: the viewing itself is, by ``record_viewing``, once the copy exists."""
        now = self.clock()
        who = self.authorize(actor, action, (), rules.STAFF_ACTIVE, subject=segment_id)
        segment = self._live_segment(segment_id, "view")
        sid = segment.segment_id
        text = " ".join((reason or "").split())
        said = footage_policy.check_reason(text)
        if not said.allowed:
            self.refuse(who, action, said.rule, f"{said.reason}; pass --reason TEXT", subject=sid)
        text = clean_text(text, kind=REASON, what="the viewing's reason", no_card_numbers=True)
        params = self.policy_params()
        access = footage_policy.check_archive_access(who.role, params.archive_viewer_roles)
        if not access.allowed:
            self.refuse(
                who, action, access.rule, f"{who.name} ({who.role}): {access.reason}",
                subject=sid,
            )  # fmt: skip
        note = _optional_reason(not_staff_monitoring, "why it is not staff monitoring")
        purpose_ok = footage_policy.check_view_purpose(
            purpose,
            text,
            staff_names=self.staff_names(),
            role=who.role,
            director_note=note,
            phrases=params.staff_monitoring_purposes,
        )
        if not purpose_ok.allowed:
            self.refuse(who, action, purpose_ok.rule, purpose_ok.reason, subject=sid)
        _ret, live = self._within_deadline(segment, now)
        if not live.allowed:
            self.refuse(who, action, live.rule, f"segment {sid}: {live.reason}", subject=sid)
        staff_note = note if purpose_ok.rule == rules.FOOTAGE_NO_STAFF_MONITORING else None
        return ViewPermit(who, segment_info_of(segment), True, text, purpose, staff_note)

    def record_viewing(
        self,
        permit: ViewPermit,
        *,
        kind: str,
        remote: bool,
        at_seconds: float | None = None,
        copy_path: str | None = None,
        copy_until: datetime | None = None,
    ) -> None:
        """Record a viewing; ``copy_path`` is the decrypted copy it wrote, destroyed by
        ``copy_until`` at the latest (R16b)."""
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
            copy_path=copy_path,
            copy_until=copy_until,
            staff_note=permit.staff_note,
        )
        self.save(segment)

    def record_copies_destroyed(
        self,
        destroyed: dict[str, Sequence[str]],
        *,
        why: str,
        actor: str,
        not_found: Sequence[str] = (),
    ) -> None:
        """Record, in one save, viewing copies confirmed gone (R16b), per segment id;
        ``not_found``: those of them that were not there to remove."""
        now = self.clock()
        who = self.authorize(
            actor, "footage copies destroy", COPY_DESTROYERS, rules.FOOTAGE_VIEWING_COPY
        )
        changed = []
        for sid, paths in destroyed.items():
            segment = self._segment(sid)
            if copies_destroyed(segment, paths, why, who, now, not_found):
                changed.append(segment)
        if changed:
            self.save(*changed)

    def viewing_copies(self, segment_id: str) -> dict[str, datetime | None]:
        """The segment's decrypted viewing copies not yet recorded destroyed (R16b)."""
        return dict(self._segment(segment_id).copies)

    def staff_names(self) -> list[str]:
        """Every name in the staff directory (R16a: a purpose naming one is checked)."""
        return [m.name for m in self.staff() if m.role != "service"]


def copies_destroyed(
    segment: Segment,
    paths: Iterable[str],
    why: str,
    who: Actor,
    now: datetime,
    not_found: Iterable[str] = (),
) -> bool:
    """Trigger ``ViewingCopiesDestroyed`` for those of ``paths`` the segment holds as live
    copies (R16b), naming those of them in ``not_found`` (not there to remove: moved or
    deleted outside Custodes); False when none of them is."""
    gone = sorted(set(paths) & set(segment.copies))
    absent = sorted(set(not_found) & set(gone))
    if gone:
        segment.trigger_event(
            Segment.ViewingCopiesDestroyed, **_signed(who, now), copies=gone, why=why,
            not_found=absent or None,
        )  # fmt: skip
    return bool(gone)


def _signed(who: Actor, now: datetime) -> dict[str, Any]:
    """The fields every recorded act's event carries: when, and by whom."""
    return dict(timestamp=now, actor=who.name, actor_role=who.role, occurred_at=None)


def _optional_reason(text: str | None, what: str) -> str | None:
    """An optional recorded explanation: plain text, bounded, or None when blank."""
    words = " ".join((text or "").split())
    return clean_text(words, kind=REASON, what=what, no_card_numbers=True) if words else None


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
