"""The footage access log (R16): every viewing with name, role, time, reason, purpose and
whether it was remote, plus refused attempts to view footage (from ``proj_refusals``)."""

from __future__ import annotations

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
from projections.base import Projection, UtcDateTime, insert_row
from projections.refusals import RefusalRow, refused_attempts

# Attempts to see footage: a viewing or still ("footage view") and an export. A refused
# ingest (audio, CAMERA-NO-AUDIO) or flag is no access to footage: it is a refused
# attempt all the same, listed with every other one (projections.refusals).
FOOTAGE_ACTIONS = ("footage view", "export footage")

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


@dataclass(frozen=True)
class AccessReport:
    since: datetime | None
    until: datetime | None
    viewings: tuple[ViewingRow, ...]
    refused: tuple[RefusalRow, ...]


class AccessProjection(Projection):
    name = "access"
    metadata = metadata
    kinds = frozenset({"FootageCaptured", "FootageViewed"})

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Segment.FootageCaptured):
            insert_row(
                conn,
                known_segments,
                aggregate_id=str(event.originator_id),
                segment_id=event.segment_id,
                camera_id=event.camera_id,
            )
        elif isinstance(event, Segment.FootageViewed):
            seg = conn.execute(
                select(known_segments).where(
                    known_segments.c.aggregate_id == str(event.originator_id)
                )
            ).one()
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


def access_report(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> AccessReport:
    """Viewings and refused footage attempts in ``[since, until)``, oldest first."""
    q = select(viewings).order_by(viewings.c.notification_id)
    if since is not None:
        q = q.where(viewings.c.viewed_at >= since)
    if until is not None:
        q = q.where(viewings.c.viewed_at < until)
    rows = tuple(ViewingRow(**r._mapping) for r in conn.execute(q))
    refused = tuple(r for r in refused_attempts(conn, since, until) if r.action in FOOTAGE_ACTIONS)
    return AccessReport(since, until, rows, refused)
