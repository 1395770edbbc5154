"""The retention in force per footage segment (R13, R28): the days and the policy version
recorded at capture, the deadline they give, and what the purge applied.

Kept as its own read model (``retention_terms``) beside ``proj_retention_segments``, so
a ledger recorded before it existed fills it from the log on the next catch-up (a new
projection starts at position 0) instead of needing a rebuild. The compliance report
reads it to show, per segment and grouped by version, the retention each segment was
kept under (docs/REPORTS.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)

from ledger.footage import Segment
from projections.base import Projection, UtcDateTime, insert_row, rows_in, update_row
from projections.retention import deadline_in_force, segments
from projections.versions import content

metadata = MetaData()
terms = Table(
    "proj_retention_terms",
    metadata,
    Column("segment_id", String(12), primary_key=True),
    Column("camera_id", String(64), nullable=False),
    Column("recorded_start", UtcDateTime, nullable=False),
    Column("recorded_end", UtcDateTime, nullable=False),
    # recorded at capture: the days, and the policy version whose days they are (R28;
    # NULL for footage captured before policy versions existed)
    Column("retention_days", Integer, nullable=False),
    Column("retention_version", Integer, nullable=True),
    Column("deadline", UtcDateTime, nullable=False),
    # recorded by the purge: the days it applied and the version in force when it ran
    Column("purged_at", UtcDateTime, nullable=True),
    Column("purge_retention_days", Integer, nullable=True),
    Column("purge_policy_version", Integer, nullable=True),
    Index("ix_proj_retention_terms_recorded", "recorded_start"),
    Index("ix_proj_retention_terms_purged", "purged_at"),
)


class RetentionTermsProjection(Projection):
    name = "retention_terms"
    rebuild_cost = 48.0
    rebuild_rows = 0.98
    metadata = metadata
    kinds = frozenset({"FootageCaptured", "FootagePurged"})
    lookup_indexes = frozenset[str]()  # rows found by primary key only

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Segment.FootageCaptured):
            insert_row(
                conn,
                terms,
                segment_id=event.segment_id,
                camera_id=event.camera_id,
                recorded_start=event.recorded_start,
                recorded_end=event.recorded_end,
                retention_days=event.retention_days,
                retention_version=event.retention_version,
                deadline=deadline_in_force(event),
                purged_at=None,
                purge_retention_days=None,
                purge_policy_version=None,
            )
        elif isinstance(event, Segment.FootagePurged):
            update_row(
                conn,
                terms,
                "segment_id",
                event.segment_id,
                purged_at=event.timestamp,
                purge_retention_days=event.retention_days,
                purge_policy_version=getattr(event, "policy_version", None),
            )


@dataclass(frozen=True)
class Terms:
    segment_id: str
    camera_id: str
    recorded_start: datetime
    recorded_end: datetime
    retention_days: int
    retention_version: int | None
    deadline: datetime
    purged_at: datetime | None
    purge_retention_days: int | None
    purge_policy_version: int | None


def terms_of(conn: Connection, ids: Iterable[str]) -> dict[str, Terms]:
    """The retention terms of these segments, by segment id."""
    wanted = sorted(set(ids))
    out: dict[str, Terms] = {}
    for row in rows_in(conn, select(*content(terms)), terms.c.segment_id, wanted):
        out[row.segment_id] = Terms(**row._mapping)
    return out


def terms_recorded(conn: Connection, start: datetime, end: datetime) -> list[Terms]:
    """The terms of every segment whose recording began in the period (one range query)."""
    t = terms.c
    q = select(*content(terms)).where(t.recorded_start >= start, t.recorded_start < end)
    return [Terms(**row._mapping) for row in conn.execute(q)]


def terms_purged(
    conn: Connection, start: datetime, end: datetime
) -> list[tuple[Terms, datetime | None]]:
    """The terms of every segment whose purge was recorded in the period, with its
    ``keep_until`` (after flags) from the retention read model (one range query)."""
    t = terms.c
    q = (
        select(*content(terms), segments.c.keep_until)
        .join(segments, segments.c.segment_id == t.segment_id)
        .where(t.purged_at >= start, t.purged_at < end)
    )
    out = []
    for row in conn.execute(q):
        values = dict(row._mapping)
        keep = values.pop("keep_until")
        out.append((Terms(**values), keep))
    return out


@dataclass(frozen=True)
class RecordedGroup:
    """Segments recorded in the period under one policy version and number of days."""

    version: int | None
    retention_days: int
    segments: int
    purged: int  # of them, purged since (as the read models stand: now, or as of)
    first_deadline: datetime
    last_deadline: datetime


@dataclass(frozen=True)
class PurgeGroup:
    """Purges recorded in the period, by the retention recorded at capture and the days
    the purge applied."""

    version: int | None
    retention_days: int
    purge_retention_days: int | None
    segments: int


def recorded_groups(conn: Connection, start: datetime, end: datetime) -> list[RecordedGroup]:
    t = terms.c
    q = (
        select(
            t.retention_version,
            t.retention_days,
            func.count(),
            func.count(t.purged_at),
            func.min(t.deadline),
            func.max(t.deadline),
        )
        .where(t.recorded_start >= start, t.recorded_start < end)
        .group_by(t.retention_version, t.retention_days)
    )
    rows = [RecordedGroup(v, d, int(n), int(p), lo, hi) for v, d, n, p, lo, hi in conn.execute(q)]
    return sorted(rows, key=lambda g: (g.version or 0, g.retention_days))


def purge_groups(conn: Connection, start: datetime, end: datetime) -> list[PurgeGroup]:
    t = terms.c
    q = (
        select(t.retention_version, t.retention_days, t.purge_retention_days, func.count())
        .where(t.purged_at >= start, t.purged_at < end)
        .group_by(t.retention_version, t.retention_days, t.purge_retention_days)
    )
    rows = [PurgeGroup(v, d, p, int(n)) for v, d, p, n in conn.execute(q)]
    return sorted(
        rows, key=lambda g: (g.version or 0, g.retention_days, g.purge_retention_days or 0)
    )
