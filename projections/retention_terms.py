"""The retention in force per footage segment (R13, R28): the days and the policy version
recorded at capture, the deadline they give, and what the purge applied.

Read from the retention read model's segment rows (``proj_retention_segments``), which
carry these columns. They were a read model of their own (``proj_retention_terms``) until
session 24: one row per segment beside the segment's own row, written, sealed and
merged again by every rebuild (a fifth of a rebuild's work at 1M events). A ledger
whose read models predate that is told to rebuild them once (``ReadModelsOutdated``),
which also drops the old table. The compliance report reads these terms to show, per
segment and grouped by version, the retention each segment was kept under
(docs/REPORTS.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection, func, select

from projections.base import rows_in
from projections.retention import segments


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


# The segment row's columns a ``Terms`` holds.
_COLUMNS = [segments.c[f.name] for f in fields(Terms)]


def terms_of(conn: Connection, ids: Iterable[str]) -> dict[str, Terms]:
    """The retention terms of these segments, by segment id."""
    wanted = sorted(set(ids))
    out: dict[str, Terms] = {}
    for row in rows_in(conn, select(*_COLUMNS), segments.c.segment_id, wanted):
        out[row.segment_id] = Terms(**row._mapping)
    return out


def terms_recorded(conn: Connection, start: datetime, end: datetime) -> list[Terms]:
    """The terms of every segment whose recording began in the period (one range query)."""
    s = segments.c
    q = select(*_COLUMNS).where(s.recorded_start >= start, s.recorded_start < end)
    return [Terms(**row._mapping) for row in conn.execute(q)]


def terms_purged(
    conn: Connection, start: datetime, end: datetime
) -> list[tuple[Terms, datetime | None]]:
    """The terms of every segment whose purge was recorded in the period, each with its
    ``keep_until`` after flags (one range query)."""
    s = segments.c
    q = select(*_COLUMNS, s.keep_until).where(s.purged_at >= start, s.purged_at < end)
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
    t = segments.c
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
    t = segments.c
    q = (
        select(t.retention_version, t.retention_days, t.purge_retention_days, func.count())
        .where(t.purged_at >= start, t.purged_at < end)
        .group_by(t.retention_version, t.retention_days, t.purge_retention_days)
    )
    rows = [PurgeGroup(v, d, p, int(n)) for v, d, p, n in conn.execute(q)]
    return sorted(
        rows, key=lambda g: (g.version or 0, g.retention_days, g.purge_retention_days or 0)
    )
