"""The footage access log (R16): every viewing with name, role, time, reason, purpose and
whether it was remote, plus refused attempts to view footage (from ``proj_refusals``); the
decrypted viewing copies not yet destroyed (R16b); and the viewings and flags whose stated
purpose named staff, with the Director's reason why it was not staff monitoring (R16a)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from ledger.footage import Segment
from projections.base import Projection, UtcDateTime, insert_row, rows_in
from projections.refusals import RefusalRow, refused_attempts
from projections.versions import content

# Attempts to see footage: a viewing ("footage view"), a still ("footage frame"), an export
# and an evidence package's download (web); session 16's red teams found the last two
# missing from the access log. A refused
# ingest (audio, CAMERA-NO-AUDIO) or flag is no access to footage: it is a refused
# attempt all the same, listed with every other one (projections.refusals).
FOOTAGE_ACTIONS = ("footage view", "footage frame", "export footage", "download an evidence export")

metadata = MetaData()
viewings = Table(
    "proj_access_viewings",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("viewed_at", UtcDateTime, nullable=False, index=True),
    Column("segment_id", String(12), nullable=False, index=True),
    Column("camera_id", String(64), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("remote", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("at_seconds", Float, nullable=True),
)
# Decrypted viewing copies (R16b): what the sweep destroys when their session ends or
# before their segment's purge; destroyed_at NULL while the ledger holds them live, and
# not_found when the copy was not there to destroy (moved or deleted outside Custodes).
# One row per copy made: a path used again after its copy was destroyed (or not found) is
# a new row, keyed by the viewing that made it (session 20: a new copy at the path of one
# not found replaced its row, and the warning about the copy not found went with it).
copies = Table(
    "proj_access_copies",
    metadata,
    Column("path", Text, primary_key=True),
    Column("viewing", BigInteger, primary_key=True),  # the FootageViewed's notification id
    Column("segment_id", String(12), nullable=False, index=True),
    Column("until", UtcDateTime, nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("destroyed_at", UtcDateTime, nullable=True, index=True),
    Column("not_found", Boolean, nullable=False, index=True),
)
# Viewings and flags whose purpose named staff, allowed on the Director's note (R16a).
staff_notes = Table(
    "proj_access_staff_notes",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("segment_id", String(12), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("act", String(16), nullable=False),  # "view", "frame", "export" or "flag"
    Column("stated", Text, nullable=False),
    Column("note", Text, nullable=False),
)
# The access log's own map from segment aggregate to segment and camera.
known_segments = Table(
    "proj_access_segments",
    metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("segment_id", String(12), nullable=False),
    Column("camera_id", String(64), nullable=False),
)


@dataclass(frozen=True)
class ViewingRow:
    notification_id: int
    viewed_at: datetime
    segment_id: str
    camera_id: str
    actor: str
    actor_role: str
    kind: str
    reason: str
    purpose: str
    remote: bool
    archived: bool
    at_seconds: float | None
    # the delegation under which an acting Director viewed (R3), filled in by
    # ``projections.compliance.with_acting``; not stored
    acting: str = ""


@dataclass(frozen=True)
class CopyRow:
    path: str
    segment_id: str
    until: datetime
    made_at: datetime
    actor: str
    destroyed_at: datetime | None
    not_found: bool = False
    viewing: int = 0  # the notification id of the viewing that made it


@dataclass(frozen=True)
class StaffNoteRow:
    notification_id: int
    at: datetime
    segment_id: str
    actor: str
    act: str
    stated: str
    note: str


@dataclass(frozen=True)
class AccessReport:
    since: datetime | None
    until: datetime | None
    viewings: tuple[ViewingRow, ...]
    refused: tuple[RefusalRow, ...]
    staff_notes: tuple[StaffNoteRow, ...] = ()


class AccessProjection(Projection):
    name = "access"
    rebuild_cost = 14.5
    rebuild_rows = 0.64
    metadata = metadata
    kinds = frozenset(
        {"FootageCaptured", "FootageViewed", "FootageFlagged", "ViewingCopiesDestroyed"}
    )

    def __init__(self) -> None:
        # The page's segments by aggregate, read by ``prepare`` before any of the page's
        # writes and added to by ``handle`` (None: read per event). Reading the table
        # instead would first write the rows queued for it (``PageWriter``).
        self._known: dict[str, _Known] | None = None

    def prepare(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        wanted = sorted(
            {
                str(e.originator_id)
                for _i, e in events
                if isinstance(e, Segment.FootageViewed | Segment.FootageFlagged)
            }
        )
        k = known_segments.c
        q = select(k.aggregate_id, k.segment_id, k.camera_id)
        self._known = {
            r.aggregate_id: _Known(r.segment_id, r.camera_id)
            for r in rows_in(conn, q, k.aggregate_id, wanted)
        }

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Segment.FootageCaptured):
            insert_row(
                conn,
                known_segments,
                aggregate_id=str(event.originator_id),
                segment_id=event.segment_id,
                camera_id=event.camera_id,
            )
            if self._known is not None:
                self._known[str(event.originator_id)] = _Known(event.segment_id, event.camera_id)
        elif isinstance(event, Segment.ViewingCopiesDestroyed):
            absent = set(event.not_found or ())
            for path in event.copies:
                live = (copies.c.path == path) & copies.c.destroyed_at.is_(None)
                conn.execute(copies.update().where(live).values(
                    destroyed_at=event.timestamp, not_found=path in absent))  # fmt: skip
        elif isinstance(event, Segment.FootageFlagged):
            if event.staff_note:
                seg = self._segment(conn, event.originator_id)
                _staff_note(conn, notification_id, event, seg, "flag", event.incident)
        elif isinstance(event, Segment.FootageViewed):
            seg = self._segment(conn, event.originator_id)
            if event.copy_path is not None:
                # A live copy overwritten with --force is one live copy; a destroyed one
                # (or one not found) stays as it was recorded.
                live = (copies.c.path == event.copy_path) & copies.c.destroyed_at.is_(None)
                conn.execute(copies.delete().where(live))
                insert_row(
                    conn,
                    copies,
                    path=event.copy_path,
                    viewing=notification_id,
                    segment_id=seg.segment_id,
                    until=event.copy_until,
                    made_at=event.timestamp,
                    actor=event.actor,
                    destroyed_at=None,
                    not_found=False,
                )
            if event.staff_note:
                _staff_note(conn, notification_id, event, seg, event.kind, event.purpose)
            insert_row(
                conn,
                viewings,
                notification_id=notification_id,
                viewed_at=event.timestamp,
                segment_id=seg.segment_id,
                camera_id=seg.camera_id,
                actor=event.actor,
                actor_role=event.actor_role,
                kind=event.kind,
                reason=event.reason,
                purpose=event.purpose,
                remote=event.remote,
                archived=event.archived,
                at_seconds=event.at_seconds,
            )

    def _segment(self, conn: Connection, originator_id: Any) -> _Known:
        aggregate = str(originator_id)
        seg = None if self._known is None else self._known.get(aggregate)
        if seg is None:  # not read for this page: none is stored (the query raises)
            k = known_segments.c
            r = conn.execute(
                select(k.segment_id, k.camera_id).where(k.aggregate_id == aggregate)
            ).one()
            seg = _Known(r.segment_id, r.camera_id)
        return seg


def _staff_note(
    conn: Connection, notification_id: int, event: Any, seg: Any, act: str, what: str
) -> None:
    """A viewing or flag whose purpose named staff, with the Director's note (R16a)."""
    insert_row(
        conn, staff_notes, notification_id=notification_id, at=event.timestamp,
        segment_id=seg.segment_id, actor=event.actor, act=act,
        stated=f"{what}: {event.reason}", note=event.staff_note,
    )  # fmt: skip


@dataclass(frozen=True)
class _Known:
    segment_id: str
    camera_id: str


def live_copies(conn: Connection) -> list[CopyRow]:
    """Viewing copies the ledger holds as not destroyed, soonest end first (R16b)."""
    q = (
        select(*content(copies))
        .where(copies.c.destroyed_at.is_(None))
        .order_by(copies.c.until, copies.c.path)
    )
    return [CopyRow(**r._mapping) for r in conn.execute(q)]


def copies_not_found(conn: Connection) -> list[CopyRow]:
    """Viewing copies that were not there when they were to be destroyed (R16b): moved
    or deleted outside Custodes, oldest first."""
    q = (
        select(*content(copies))
        .where(copies.c.not_found.is_(True))
        .order_by(copies.c.destroyed_at, copies.c.path)
    )
    return [CopyRow(**r._mapping) for r in conn.execute(q)]


def staff_note_rows(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[StaffNoteRow]:
    """Viewings and flags allowed although their purpose named staff (R16a), oldest first."""
    q = select(*content(staff_notes)).order_by(staff_notes.c.notification_id)
    if since is not None:
        q = q.where(staff_notes.c.at >= since)
    if until is not None:
        q = q.where(staff_notes.c.at < until)
    return [StaffNoteRow(**r._mapping) for r in conn.execute(q)]


def access_report(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> AccessReport:
    """Viewings and refused footage attempts in ``[since, until)``, oldest first."""
    q = select(*content(viewings)).order_by(viewings.c.notification_id)
    if since is not None:
        q = q.where(viewings.c.viewed_at >= since)
    if until is not None:
        q = q.where(viewings.c.viewed_at < until)
    rows = tuple(ViewingRow(**r._mapping) for r in conn.execute(q))
    refused = tuple(r for r in refused_attempts(conn, since, until) if r.action in FOOTAGE_ACTIONS)
    notes = tuple(staff_note_rows(conn, since, until))
    return AccessReport(since, until, rows, refused, notes)
