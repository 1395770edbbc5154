"""Cameras, footage segments and holds (Policy V-B; R12-R16).

Event class names are stored (their topics are hashed into the chain): never rename one.
Ids are deterministic so a camera name, a content hash or a hold id finds its aggregate:
a segment's id is the first 12 hex digits of its content SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain import LedgerAggregate, stable_id
from ledger.policy import Flag, Hold

ZONES = ("public", "staff_area", "restroom", "locker_room", "changing_room", "private_office")
HOLD_KINDS = ("legal", "law_enforcement_preservation", "investigation", "foia")
SHORT_ID_LEN = 12


def camera_id(name: str) -> UUID:
    return stable_id("camera", name.strip().casefold())


def segment_aggregate_id(short_id: str) -> UUID:
    return stable_id("segment", short_id.strip().lower())


def hold_aggregate_id(hold_id: str) -> UUID:
    return stable_id("hold", hold_id.strip().upper())


def short_id(sha256: str) -> str:
    return sha256[:SHORT_ID_LEN]


@dataclass(frozen=True)
class MediaFacts:
    """What probing found, as plain data (the ledger never imports the capture package)."""

    container: str
    codec: str
    frame_count: int
    fps: float
    duration_s: float
    width: int
    height: int


class Camera(LedgerAggregate):
    class CameraRegistered(LedgerAggregate.Created):
        # v2 (issue 12): the Director's reason why a location whose words name a private
        # place is not one (R12); None when its words name none.
        class_version = 2

        camera_id: str
        location: str
        zone: str
        signage_posted: bool
        privacy_note: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["privacy_note"] = None

    class CameraRetired(LedgerAggregate.Event):
        reason: str

        def apply(self, aggregate: Camera) -> None:
            aggregate.retired = True
            aggregate.retired_at = self.timestamp

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        camera_id: str,
        location: str,
        zone: str,
        signage_posted: bool,
        privacy_note: str | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.registered_by = actor
        self.location = location
        self.zone = zone
        self.signage_posted = signage_posted
        self.privacy_note = privacy_note
        self.retired = False
        self.retired_at: datetime | None = None


class Segment(LedgerAggregate):
    class FootageCaptured(LedgerAggregate.Created):
        segment_id: str
        sha256: str
        size: int
        camera_id: str
        recorded_start: datetime
        recorded_end: datetime
        retention_days: int
        retention_deadline: datetime
        media: dict[str, Any]
        source_name: str
        retention_version: int | None = None  # the policy version whose days these are (R28)

    class FootageFlagged(LedgerAggregate.Event):
        # v2 (issue 12): the incident the flag is for, and the Director's note when the
        # reason names staff (R13, R16a). New flags always have an end (retain_until).
        class_version = 2

        flag_id: str
        reason: str
        retain_until: datetime | None
        incident: str
        staff_note: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["incident"] = ""
            state["staff_note"] = None

        def apply(self, aggregate: Segment) -> None:
            aggregate.flags[self.flag_id] = self.retain_until
            aggregate.flag_roles[self.flag_id] = self.actor_role

    class FlagExtended(LedgerAggregate.Event):
        """The Director keeps a flagged segment longer (R13: only the Director extends)."""

        flag_id: str
        retain_until: datetime
        reason: str

        def apply(self, aggregate: Segment) -> None:
            aggregate.flags[self.flag_id] = self.retain_until
            aggregate.flag_roles[self.flag_id] = self.actor_role

    class FlagCleared(LedgerAggregate.Event):
        flag_id: str
        reason: str

        def apply(self, aggregate: Segment) -> None:
            aggregate.flags.pop(self.flag_id, None)
            aggregate.flag_roles.pop(self.flag_id, None)

    class HoldApplied(LedgerAggregate.Event):
        """The segment's side of a ``Hold.HoldPlaced``, saved in the same transaction."""

        hold_id: str
        kind: str

        def apply(self, aggregate: Segment) -> None:
            aggregate.holds[self.hold_id] = self.kind

    class HoldLifted(LedgerAggregate.Event):
        hold_id: str

        def apply(self, aggregate: Segment) -> None:
            aggregate.holds.pop(self.hold_id, None)

    class FootageViewed(LedgerAggregate.Event):
        # v2 (issue 12): the decrypted copy the viewing wrote and when its session ends
        # (R16b), and the Director's note when the reason names staff (R16a).
        class_version = 2

        kind: str  # "view" (decrypted copy), "frame" (a still) or "export"
        reason: str
        purpose: str
        remote: bool
        archived: bool
        at_seconds: float | None
        copy_path: str | None
        copy_until: datetime | None
        staff_note: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["copy_path"] = None
            state["copy_until"] = None
            state["staff_note"] = None

        def apply(self, aggregate: Segment) -> None:
            aggregate.viewings += 1
            if self.copy_path is not None:
                aggregate.copies[self.copy_path] = self.copy_until

    class ViewingCopiesDestroyed(LedgerAggregate.Event):
        """Decrypted viewing copies removed (R16b): at the end of the viewing ("ended"),
        when their session ran out ("expired") or before the purge ("purge").
        ``not_found``: those of ``copies`` that were not there to remove (since session
        19): moved or deleted outside Custodes, so the ledger cannot say they were
        destroyed; before, such a copy was recorded destroyed like the others."""

        copies: list[str]
        why: str
        not_found: list[str] | None = None

        def apply(self, aggregate: Segment) -> None:
            for path in self.copies:
                aggregate.copies.pop(path, None)

    class FootagePurged(LedgerAggregate.Event):
        # v2 (issue 12): the retention in force for the segment when it was purged (R13).
        class_version = 2

        segment_id: str
        sha256: str
        camera_id: str
        recorded_start: datetime
        recorded_end: datetime
        method: str
        blob_removed: bool
        key_destroyed: bool
        completed_after_interruption: bool
        sweep_run: str
        schedule_authority: dict[str, Any] | None
        rule_id: str
        retention_days: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["retention_days"] = None

        def apply(self, aggregate: Segment) -> None:
            aggregate.purged = True
            aggregate.purged_at = self.timestamp

    class FootageFoundMissing(LedgerAggregate.Event):
        """The segment's encrypted file or key is gone and no purge was in progress: it
        was destroyed outside Custodes (by hand, a disk fault). Not a purge (R15)."""

        segment_id: str
        sha256: str
        camera_id: str
        recorded_start: datetime
        recorded_end: datetime
        blob_missing: bool
        key_missing: bool
        found_by: str  # the sweep run (or audit) that found it
        rule_id: str

        def apply(self, aggregate: Segment) -> None:
            aggregate.missing = True
            aggregate.missing_at = self.timestamp

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        segment_id: str,
        sha256: str,
        size: int,
        camera_id: str,
        recorded_start: datetime,
        recorded_end: datetime,
        retention_days: int,
        retention_deadline: datetime,
        media: dict[str, Any],
        source_name: str,
        retention_version: int | None = None,
    ) -> None:
        self.retention_version = retention_version
        self.segment_id = segment_id
        self.sha256 = sha256
        self.size = size
        self.camera_id = camera_id
        self.recorded_start = recorded_start
        self.recorded_end = recorded_end
        self.retention_days = retention_days
        self.retention_deadline = retention_deadline
        self.media = media
        self.source_name = source_name
        self.flags: dict[str, datetime | None] = {}
        self.flag_roles: dict[str, str] = {}  # who last set each open flag's end, by role
        self.holds: dict[str, str] = {}
        self.viewings = 0
        self.copies: dict[str, datetime | None] = {}  # viewing copies not yet destroyed
        self.purged = False
        self.purged_at: datetime | None = None
        self.missing = False
        self.missing_at: datetime | None = None

    def policy_flags(self) -> list[Flag]:
        return [Flag(fid, until) for fid, until in sorted(self.flags.items())]

    def policy_holds(self) -> list[Hold]:
        # Only active holds are kept on the segment: a release lifts them here.
        return [Hold(hid, kind) for hid, kind in sorted(self.holds.items())]  # type: ignore[arg-type]


class FootageHold(LedgerAggregate):
    """One hold (legal, law-enforcement preservation, investigation, FOIA) over segments."""

    class HoldPlaced(LedgerAggregate.Created):
        hold_id: str
        kind: str
        reason: str
        reference: str
        segments: list[str]
        review_by: datetime | None

    class HoldReleased(LedgerAggregate.Event):
        reason: str

        def apply(self, aggregate: FootageHold) -> None:
            aggregate.released_at = self.timestamp
            aggregate.released_by = self.actor

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        hold_id: str,
        kind: str,
        reason: str,
        reference: str,
        segments: list[str],
        review_by: datetime | None,
    ) -> None:
        self.hold_id = hold_id
        self.kind = kind
        self.reason = reason
        self.reference = reference
        self.segments = list(segments)
        self.review_by = review_by
        self.placed_by = actor
        self.released_at: datetime | None = None
        self.released_by: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None
