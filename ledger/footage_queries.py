"""Footage queries: cameras, segments and holds as plain data (frozen dataclasses).

Read-only: nothing here triggers an event. The commands (``ledger.footage_commands``,
``ledger.retention_commands``) load their aggregates through ``_camera``, ``_segment`` and
``_hold``, and answer with ``camera_info_of`` and ``segment_info_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.application import LedgerBase
from ledger.errors import NotFound
from ledger.footage import (
    Camera,
    FootageHold,
    Segment,
    camera_id,
    hold_aggregate_id,
    segment_aggregate_id,
    short_id,
)
from ledger.suggestions import did_you_mean

HEX_DIGITS = set("0123456789abcdef")


@dataclass(frozen=True)
class CameraInfo:
    camera_id: str
    location: str
    zone: str
    signage_posted: bool
    retired: bool
    registered_at: datetime
    registered_by: str
    privacy_note: str | None = None  # why a location naming a private place is not one


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
    missing: bool = False  # its files were found gone without a purge (FootageFoundMissing)
    directors_flags: tuple[str, ...] = ()  # open flags the Director set last: hers to clear


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


class FootageQueries(LedgerBase):
    # ---- cameras --------------------------------------------------------------------------

    def cameras(self) -> list[CameraInfo]:
        """Every registered camera, by name. Made again from the cameras' aggregates only
        when a camera's event (registered or retired: a Camera has no others) was recorded
        since the last call in this process: the footage page asks on every request, and
        40 aggregates read anew cost ~50 ms each time."""
        events = self._events_seen(Camera.CameraRegistered, Camera.CameraRetired)
        seen = tuple((e.originator_id, e.originator_version) for e in events)
        kept: tuple[tuple[Any, ...], list[CameraInfo]] | None = getattr(self, "_cameras", None)
        if kept is None or kept[0] != seen:
            found: list[Camera] = [
                self.repository.get(e.originator_id)
                for e in events
                if isinstance(e, Camera.CameraRegistered)
            ]
            infos = sorted((camera_info_of(c) for c in found), key=lambda c: c.camera_id.casefold())
            kept = self._cameras = (seen, infos)
        return list(kept[1])

    def camera_info(self, name: str) -> CameraInfo:
        return camera_info_of(self._camera(name))

    def _camera(self, name: str) -> Camera:
        camera = self._get(Camera, camera_id(name))
        if camera is None:
            hint = did_you_mean(name, (c.camera_id for c in self.cameras()))
            raise NotFound(
                f"camera {name!r} is not registered. "
                + (
                    f"{hint} (see: custodes camera list)"
                    if hint
                    else "See the registered cameras with: custodes camera list; a Director "
                    "registers a new one with: custodes camera add CAMERA_ID --location TEXT "
                    "--zone public --signage-posted --as NAME"
                )
            )
        return camera

    # ---- segments -------------------------------------------------------------------------

    def find_segment(self, sha256: str) -> SegmentInfo | None:
        segment = self._get(Segment, segment_aggregate_id(short_id(sha256)))
        return None if segment is None else segment_info_of(segment)

    def segment_info(self, segment_id: str) -> SegmentInfo:
        return segment_info_of(self._segment(segment_id))

    def _segment(self, segment_id: str) -> Segment:
        key = segment_id.strip().lower()
        segment = None
        if len(key) in (12, 64) and set(key) <= HEX_DIGITS:
            segment = self._get(Segment, segment_aggregate_id(short_id(key)))
        if segment is None or (len(key) == 64 and segment.sha256 != key):
            raise NotFound(
                f"segment {segment_id!r} is not recorded; list segments with: custodes footage list"
            )
        return segment

    # ---- holds ----------------------------------------------------------------------------

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


def camera_info_of(camera: Camera) -> CameraInfo:
    return CameraInfo(
        camera.camera_id,
        camera.location,
        camera.zone,
        camera.signage_posted,
        camera.retired,
        camera.created_on,
        camera.registered_by,
        camera.privacy_note,
    )


def segment_info_of(segment: Segment) -> SegmentInfo:
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
        missing=segment.missing,
        directors_flags=tuple(sorted(f for f, r in segment.flag_roles.items() if r == "director")),
    )
