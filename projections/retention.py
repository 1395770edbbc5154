"""Retention state per footage segment (R13-R15): deadline, flags, holds, status.

Rows keep what does not depend on the clock (deadline, ``keep_until`` after flags, the
number of active holds, purged); the status (retained, flagged, held, due, overdue,
purged, missing) is computed from ``now`` at query time, in SQL for filtering and in Python for
display, the two kept equal by tests. "Due for purge" is an indexed range query, so the
sweep never replays the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Index,
    Integer,
    Interval,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
)

from ledger.footage import FootageHold, Segment
from ledger.site import Site
from projections.base import Projection, UtcDateTime, insert_row, rows_in, update_row
from projections.seal import Bucketing, DayRange, day_after, day_of, first_rows, read_range
from projections.versions import content

if TYPE_CHECKING:
    from ledger.app import Ledger

# No "live" status: every recorded segment is archived footage (R16).
STATUSES = ("retained", "flagged", "held", "due", "overdue", "purged", "missing")
# A segment still unpurged a day after its deadline was missed by the daily sweep: a
# compliance violation in reports (R15).
OVERDUE_AFTER = timedelta(days=1)

# The segments' seal buckets (R29, ``projections.seal``), so a page checks only the rows it
# could show: "keep", unpurged segments by the UTC day their retention ends (after flags;
# NULL: an open-ended flag), purged ones by the day of their purge, those purged late
# (R15: a day or more after it) apart (the home page's overdue footage and the week's
# late purges); "recorded_hour", every segment by the UTC hour its
# recording starts (the footage list, oldest first: its first 500 rows are checked with
# the hours up to the 500th, not the whole first day, ~9,800 segments at 1M events;
# "recorded", by day, before); "camera_kept_recorded", unpurged
# segments by camera and the day their recording starts, purged ones by the day of their
# purge (the footage list filtered by a status of kept footage, of one camera or all: one
# camera's list checks only that camera's rows; "kept_recorded" before, all cameras').
SEGMENTS_BY_KEEP = Bucketing(
    "keep",
    "keep_until",
    kept_by="purged_at",
    late=("keep_until", "deadline"),
    late_after=OVERDUE_AFTER,
    narrow=lambda dialect: _maybe_late(dialect),
)
SEGMENTS_BY_RECORDING = Bucketing("recorded_hour", "recorded_start", hourly=True)
KEPT_BY_RECORDING = Bucketing(
    "camera_kept_recorded", "recorded_start", kept_by="purged_at", group="camera_id"
)

metadata = MetaData()
site_settings = Table(
    "proj_retention_site",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("retention_days", Integer, nullable=False),
    Column("live_window_hours", Integer, nullable=False),
)
segments = Table(
    "proj_retention_segments",
    metadata,
    Column("segment_id", String(12), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False),
    Column("camera_id", String(64), nullable=False, index=True),
    Column("recorded_start", UtcDateTime, nullable=False),
    Column("recorded_end", UtcDateTime, nullable=False),
    Column("captured_at", UtcDateTime, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    # The retention in force for the segment (R13, R28), recorded at capture: the days,
    # and the policy version whose days they are (NULL: captured before policy versions
    # existed); and by its purge: the days it applied and the version then in force.
    Column("retention_days", Integer, nullable=False),
    Column("retention_version", Integer, nullable=True),
    Column("purge_retention_days", Integer, nullable=True),
    Column("purge_policy_version", Integer, nullable=True),
    Column("keep_until", UtcDateTime, nullable=True),  # NULL: an open-ended flag
    Column("open_flags", Integer, nullable=False),
    Column("active_holds", Integer, nullable=False),
    Column("purged", Boolean, nullable=False),
    Column("purged_at", UtcDateTime, nullable=True),
    Column("notification_id", BigInteger, nullable=False),
    Index("ix_proj_retention_due", "purged", "active_holds", "keep_until"),
    # A period's report: segments recorded in it, segments purged in it.
    Index("ix_proj_retention_recorded", "recorded_start"),
    # SQLite only: on PostgreSQL ix_proj_retention_purged_due, which leads with purged_at,
    # serves the same ranges, and with this one beside it the planner took this one for
    # "unpurged and retention ended before X" (the home page's overdue footage), reading
    # every unpurged segment (~295,000 at 1M events, 66 ms) where the other reads 441.
    Index("ix_proj_retention_purged_at", "purged_at").ddl_if(dialect="sqlite"),
    info={"seal_buckets": (SEGMENTS_BY_KEEP, SEGMENTS_BY_RECORDING, KEPT_BY_RECORDING)},
)
flags = Table(
    "proj_retention_flags",
    metadata,
    Column("flag_id", String(16), primary_key=True),
    Column("segment_id", String(12), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("retain_until", UtcDateTime, nullable=True),
    Column("flagged_by", String(120), nullable=False),
    Column("flagged_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime, nullable=True, index=True),  # open flags: NULL
)
holds = Table(
    "proj_retention_holds",
    metadata,
    Column("hold_id", String(16), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("placed_by", String(120), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("review_by", UtcDateTime, nullable=True),
    Column("released_at", UtcDateTime, nullable=True, index=True),  # active holds: NULL
    Column("released_by", String(120), nullable=True),
    Column("segment_count", Integer, nullable=False),
)
# Segments whose files were found gone with no purge in progress (FootageFoundMissing):
# destroyed outside Custodes. Their status is "missing"; they are never due for purge.
missing = Table(
    "proj_retention_missing",
    metadata,
    Column("segment_id", String(12), primary_key=True),
    Column("camera_id", String(64), nullable=False),
    Column("recorded_start", UtcDateTime, nullable=False),
    Column("found_at", UtcDateTime, nullable=False),
    Column("blob_missing", Boolean, nullable=False),
    Column("key_missing", Boolean, nullable=False),
    Column("found_by", Text, nullable=False),
)
hold_segments = Table(
    "proj_retention_hold_segments",
    metadata,
    Column("hold_id", String(16), primary_key=True),
    Column("segment_id", String(12), primary_key=True, index=True),
)


@dataclass(frozen=True)
class SegmentRow:
    segment_id: str
    sha256: str
    camera_id: str
    recorded_start: datetime
    recorded_end: datetime
    deadline: datetime
    keep_until: datetime | None
    status: str
    holds: tuple[str, ...]
    flags: tuple[str, ...]
    purged_at: datetime | None
    retention_days: int = 0  # the retention in force for this segment (R13)


@dataclass(frozen=True)
class HoldRow:
    hold_id: str
    kind: str
    reason: str
    reference: str
    placed_by: str
    placed_at: datetime
    review_by: datetime | None
    released_at: datetime | None
    segment_count: int


def status_of(
    *,
    purged: bool,
    missing: bool = False,
    active_holds: int,
    open_flags: int,
    keep_until: datetime | None,
    now: datetime,
) -> str:
    """The one definition of a segment's retention status (mirrored by ``_status_clause``)."""
    if purged:
        return "purged"
    if missing:
        return "missing"
    if active_holds:
        return "held"
    if open_flags and (keep_until is None or now < keep_until):
        return "flagged"
    assert keep_until is not None  # no open flag: keep_until is the deadline
    if now >= keep_until + OVERDUE_AFTER:
        return "overdue"
    if now >= keep_until:
        return "due"
    return "retained"


def _status_clause(status: str, now: datetime) -> ColumnElement[bool]:
    s = segments.c
    found = s.segment_id.in_(select(missing.c.segment_id))
    stored = and_(s.purged == false(), ~found)
    unpurged = and_(stored, s.active_holds == 0)
    flagged = and_(s.open_flags > 0, or_(s.keep_until.is_(None), s.keep_until > now))
    kept = and_(unpurged, s.open_flags == 0, s.keep_until > now)
    clauses: dict[str, ColumnElement[bool]] = {
        "purged": s.purged == true(),
        "missing": and_(s.purged == false(), found),
        "held": and_(stored, s.active_holds > 0),
        "flagged": and_(unpurged, flagged),
        "overdue": and_(unpurged, s.keep_until <= now - OVERDUE_AFTER),
        "due": and_(unpurged, s.keep_until <= now, s.keep_until > now - OVERDUE_AFTER),
        "retained": kept,
    }
    return clauses[status]


class RetentionProjection(Projection):
    name = "retention"
    rebuild_cost = 67.0
    rebuild_rows = 0.99
    metadata = metadata
    kinds = frozenset(
        {
            "SiteInitialised",
            "SiteSettingsChanged",
            "FootageCaptured",
            "FootageFlagged",
            "FlagExtended",
            "FlagCleared",
            "HoldPlaced",
            "HoldReleased",
            "HoldApplied",
            "HoldLifted",
            "FootagePurged",
            "FootageFoundMissing",
        }
    )
    # The handlers find a segment's flags by the page's own lookups (``prepare``); the
    # index serves the lookup of a page's stored flags. Every other lookup is by a primary
    # key or a unique column (not an index here).
    lookup_indexes = frozenset({"ix_proj_retention_flags_segment_id"})

    def __init__(self) -> None:
        # What the page's handlers look up, read by ``prepare`` before any of the page's
        # writes and kept up to date by ``handle`` (None: read per event).
        self._page: _Page | None = None

    def prepare(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        self._page = _Page.read(conn, [e for _i, e in events])

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        page = self._page if self._page is not None else _Page.read(conn, [event])
        if isinstance(event, Site.SiteInitialised | Site.SiteSettingsChanged):
            values = dict(
                retention_days=event.retention_days, live_window_hours=event.live_window_hours
            )
            if (
                conn.execute(
                    site_settings.update().where(site_settings.c.id == 1).values(**values)
                ).rowcount
                == 0
            ):
                conn.execute(site_settings.insert().values(id=1, **values))
        elif isinstance(event, Segment.FootageCaptured):
            deadline = deadline_in_force(event)
            aggregate = str(event.originator_id)
            insert_row(
                conn,
                segments,
                segment_id=event.segment_id,
                aggregate_id=aggregate,
                sha256=event.sha256,
                camera_id=event.camera_id,
                recorded_start=event.recorded_start,
                recorded_end=event.recorded_end,
                captured_at=event.timestamp,
                size=event.size,
                # never less than the policy's days, whatever was set then (R13)
                deadline=deadline,
                retention_days=event.retention_days,
                retention_version=event.retention_version,
                purge_retention_days=None,
                purge_policy_version=None,
                keep_until=deadline,
                open_flags=0,
                active_holds=0,
                purged=False,
                purged_at=None,
                notification_id=notification_id,
            )
            page.segments[aggregate] = _Seg(event.segment_id, deadline, 0)
        elif isinstance(event, Segment.FootageFlagged):
            seg = page.segment(conn, event.originator_id)
            insert_row(
                conn,
                flags,
                flag_id=event.flag_id,
                segment_id=seg.segment_id,
                # the incident first: the report's flag rows name it (R13)
                reason=f"{event.incident}: {event.reason}" if event.incident else event.reason,
                retain_until=event.retain_until,
                flagged_by=event.actor,
                flagged_at=event.timestamp,
                cleared_at=None,
            )
            page.flags[event.flag_id] = _Flag(seg.segment_id, event.retain_until, None)
            _refresh_keep_until(conn, page, seg)
        elif isinstance(event, Segment.FlagExtended):
            update_row(conn, flags, "flag_id", event.flag_id, retain_until=event.retain_until)
            if (flag := page.flags.get(event.flag_id)) is not None:
                flag.retain_until = event.retain_until
            _refresh_keep_until(conn, page, page.segment(conn, event.originator_id))
        elif isinstance(event, Segment.FlagCleared):
            update_row(conn, flags, "flag_id", event.flag_id, cleared_at=event.timestamp)
            if (flag := page.flags.get(event.flag_id)) is not None:
                flag.cleared_at = event.timestamp
            _refresh_keep_until(conn, page, page.segment(conn, event.originator_id))
        elif isinstance(event, FootageHold.HoldPlaced):
            insert_row(
                conn,
                holds,
                hold_id=event.hold_id,
                aggregate_id=str(event.originator_id),
                kind=event.kind,
                reason=event.reason,
                reference=event.reference,
                placed_by=event.actor,
                placed_at=event.timestamp,
                review_by=event.review_by,
                released_at=None,
                released_by=None,
                segment_count=len(event.segments),
            )
            page.holds[str(event.originator_id)] = event.hold_id
            for sid in event.segments:
                insert_row(conn, hold_segments, hold_id=event.hold_id, segment_id=sid)
        elif isinstance(event, FootageHold.HoldReleased):
            update_row(
                conn,
                holds,
                "hold_id",
                page.hold_id(conn, event.originator_id),
                released_at=event.timestamp,
                released_by=event.actor,
            )
        elif isinstance(event, Segment.HoldApplied | Segment.HoldLifted):
            seg = page.segment(conn, event.originator_id)
            seg.active_holds += 1 if isinstance(event, Segment.HoldApplied) else -1
            update_row(conn, segments, "segment_id", seg.segment_id, active_holds=seg.active_holds)
            if isinstance(event, Segment.HoldApplied):
                seg.holds[event.hold_id] = (event.timestamp, None)
            else:
                placed, _ = seg.holds.get(event.hold_id, (event.timestamp, None))
                seg.holds[event.hold_id] = (placed, event.timestamp)
                _refresh_keep_until(conn, page, seg)
        elif isinstance(event, Segment.FootageFoundMissing):
            insert_row(
                conn,
                missing,
                segment_id=event.segment_id,
                camera_id=event.camera_id,
                recorded_start=event.recorded_start,
                found_at=event.timestamp,
                blob_missing=event.blob_missing,
                key_missing=event.key_missing,
                found_by=event.found_by,
            )
        elif isinstance(event, Segment.FootagePurged):
            update_row(
                conn,
                segments,
                "segment_id",
                event.segment_id,
                purged=True,
                purged_at=event.timestamp,
                purge_retention_days=event.retention_days,
                purge_policy_version=getattr(event, "policy_version", None),
            )


@dataclass
class _Seg:
    """What the handlers look up of a segment: its id, its deadline (never changed once
    captured), its active holds, and each hold's (placed, lifted) times (lifted None: still
    active)."""

    segment_id: str
    deadline: datetime
    active_holds: int
    holds: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)


@dataclass
class _Flag:
    segment_id: str
    retain_until: datetime | None
    cleared_at: datetime | None


# The events whose handlers look up their segment, and a hold's release its hold.
_FINDS_SEGMENT = (
    Segment.FootageFlagged,
    Segment.FlagExtended,
    Segment.FlagCleared,
    Segment.HoldApplied,
    Segment.HoldLifted,
)


@dataclass
class _Page:
    """A page's lookups (segments by aggregate, their flags, holds by aggregate), read
    in a few queries before the page's writes are queued and kept up to date by the
    handlers. A handler that read its own table instead would first write every row
    queued for it (``PageWriter``): in a rebuild in several processes on SQLite, that
    first write takes the write lock for the rest of the page's handlers (R29's seals and
    the versions are written as before: the same rows, found by key)."""

    segments: dict[str, _Seg]
    flags: dict[str, _Flag]
    holds: dict[str, str]

    @classmethod
    def read(cls, conn: Connection, events: Sequence[Any]) -> _Page:
        # The segments the page's flags and holds name, less those the page captures (not
        # stored yet): compared as UUIDs, a page's ~20,000 captures not made text.
        finds = {e.originator_id for e in events if isinstance(e, _FINDS_SEGMENT)}
        if finds:
            finds -= {e.originator_id for e in events if isinstance(e, Segment.FootageCaptured)}
        wanted = sorted(str(o) for o in finds)
        s = segments.c
        q = select(s.aggregate_id, s.segment_id, s.deadline, s.active_holds)
        found = {
            r.aggregate_id: _Seg(r.segment_id, r.deadline, r.active_holds)
            for r in rows_in(conn, q, s.aggregate_id, wanted)
        }
        _read_lifts(conn, found.values())
        f = flags.c
        q = select(f.flag_id, f.segment_id, f.retain_until, f.cleared_at)
        known = sorted(seg.segment_id for seg in found.values())
        stored = {r.flag_id: _Flag(r.segment_id, r.retain_until, r.cleared_at)
                  for r in rows_in(conn, q, f.segment_id, known)}  # fmt: skip
        # A flag named by an event of another segment (never written so): found too.
        others = sorted(
            {e.flag_id for e in events if isinstance(e, Segment.FlagExtended | Segment.FlagCleared)}
            - stored.keys()
        )
        for r in rows_in(conn, q, f.flag_id, others):
            stored[r.flag_id] = _Flag(r.segment_id, r.retain_until, r.cleared_at)
        h = holds.c
        released = sorted(
            {str(e.originator_id) for e in events if isinstance(e, FootageHold.HoldReleased)}
        )
        held = dict(rows_in(conn, select(h.aggregate_id, h.hold_id), h.aggregate_id, released))
        return cls(found, stored, held)

    def segment(self, conn: Connection, originator_id: Any) -> _Seg:
        aggregate = str(originator_id)
        seg = self.segments.get(aggregate)
        if seg is None:  # not read for this page: none was stored (the query raises)
            s = segments.c
            r = conn.execute(
                select(s.segment_id, s.deadline, s.active_holds).where(s.aggregate_id == aggregate)
            ).one()
            seg = self.segments[aggregate] = _Seg(r.segment_id, r.deadline, r.active_holds)
            _read_lifts(conn, [seg])
        return seg

    def hold_id(self, conn: Connection, originator_id: Any) -> str:
        aggregate = str(originator_id)
        if aggregate not in self.holds:
            self.holds[aggregate] = str(
                conn.execute(
                    select(holds.c.hold_id).where(holds.c.aggregate_id == aggregate)
                ).scalar_one()
            )
        return self.holds[aggregate]


# Declared after the projection, so its version tables do not mirror them (they serve the
# current state's pages, not ``--as-of`` reads, and the version tables' indexes, numbered
# in name order, stay as they were); ``Views`` creates them in a ledger made before them.
# A period's purges and the possibly late ones, from the index alone (``purges_in``):
Index(
    "ix_proj_retention_purged_due", segments.c.purged_at, segments.c.keep_until, segments.c.deadline
)
# A camera's segments by status (the footage page filtered by camera and status): without
# it a camera's retained segments were picked from every camera's.
Index(
    "ix_proj_retention_camera_due",
    func.lower(segments.c.camera_id),
    segments.c.purged,
    segments.c.active_holds,
    segments.c.keep_until,
)
# A camera's kept footage in its own seal buckets (``camera_kept_recorded``: ``camera_id =``
# and ``purged_at IS NULL``, then the status): the page's rows and R29's check of them from
# one index. With only the one above, SQLite's planner left it for ``ix_proj_retention_due``
# (every camera's) once the bucket's ``camera_id =`` was added: 7x slower at 100k events.
Index(
    "ix_proj_retention_camera_kept",
    segments.c.camera_id,
    segments.c.purged_at,
    segments.c.purged,
    segments.c.active_holds,
    segments.c.keep_until,
)


def deadline_in_force(event: Any) -> datetime:
    days = event.retention_days
    return max(event.retention_deadline, event.recorded_end + timedelta(days=days))


def _read_lifts(conn: Connection, found: Iterable[_Seg]) -> None:
    """When each hold of these segments was placed and lifted (its hold released)."""
    by_id = {seg.segment_id: seg for seg in found}
    if not by_id:
        return
    hs, h = hold_segments.c, holds.c
    q = select(hs.segment_id, h.hold_id, h.placed_at, h.released_at).join_from(
        hold_segments, holds, hs.hold_id == h.hold_id
    )
    for segment_id, hold_id, placed, lifted in rows_in(conn, q, hs.segment_id, sorted(by_id)):
        by_id[segment_id].holds[hold_id] = (placed, lifted)


def _after_holds(
    keep: datetime | None, held: Iterable[tuple[datetime, datetime | None]]
) -> datetime | None:
    """``keep`` moved on by the lifted holds that kept the segment with authority: each
    placed before it was overdue (within ``OVERDUE_AFTER`` of what kept it until then) runs
    to its lift. A hold placed on footage already overdue does not: the Director may hold
    it, but holding and releasing it must not make its late purge read as on time."""
    for placed, lifted in sorted(held):
        if keep is not None and lifted is not None and placed < keep + OVERDUE_AFTER:
            keep = max(keep, lifted)
    return keep


def _refresh_keep_until(conn: Connection, page: _Page, seg: _Seg) -> None:
    """A segment's ``keep_until`` and ``open_flags`` from its flags and holds (R13): the
    latest of its deadline, its open flags' dates, the end of each cleared flag (its date,
    or when it was cleared if that came first) and the lift of each hold placed before it
    was overdue (``_after_holds``); NULL while an open flag is open-ended. Footage kept under a flag or a hold was kept with
    authority until then: before session 14 a flag cleared or a hold lifted after the
    deadline made the segment read as overdue since the deadline, and its purge as late
    (red team: a board was told of a violation that never happened)."""
    mine = [f for f in page.flags.values() if f.segment_id == seg.segment_id]
    open_until = [f.retain_until for f in mine if f.cleared_at is None]
    kept = [seg.deadline]
    for f in mine:
        if f.cleared_at is not None:
            kept.append(
                f.cleared_at if f.retain_until is None else min(f.retain_until, f.cleared_at)
            )
    keep: datetime | None = max(kept + [u for u in open_until if u is not None])
    if any(u is None for u in open_until):
        keep = None
    else:
        keep = _after_holds(keep, seg.holds.values())
    update_row(
        conn,
        segments,
        "segment_id",
        seg.segment_id,
        keep_until=keep,
        open_flags=len(open_until),
    )


# ---- queries ----------------------------------------------------------------------------


def segment_rows(
    conn: Connection,
    now: datetime,
    *,
    status: str | None = None,
    camera: str | None = None,
    limit: int | None = None,
    recorded_from: datetime | None = None,
    recorded_until: datetime | None = None,
) -> list[SegmentRow]:
    """Segments with their retention status, oldest recording first; ``recorded_from`` /
    ``recorded_until`` keep those whose recording starts in that range (until exclusive);
    ``camera``: the registered camera id as segments store it (``listed_segments`` finds it
    from what was typed). Read in the seal buckets that can hold them (``_buckets_for``;
    R29 checks those)."""
    q = select(segments).order_by(segments.c.recorded_start, segments.c.segment_id)
    if recorded_from is not None:
        q = q.where(segments.c.recorded_start >= recorded_from)
    if recorded_until is not None:
        q = q.where(segments.c.recorded_start < recorded_until)
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
        q = q.where(_status_clause(status, now))
    if camera is not None:
        q = q.where(func.lower(segments.c.camera_id) == camera.casefold())
    rng = _buckets_for(status, now, recorded_from, recorded_until, camera)
    if limit is None:
        rows = list(read_range(conn, q, segments, rng))
    elif rng.bucketing.kept_by is None or rng.bucketing is KEPT_BY_RECORDING:
        rows = first_rows(conn, q, segments, rng, segments.c.recorded_start, limit)
    else:
        rows = list(read_range(conn, q.limit(limit), segments, rng))
    return _rows(conn, rows, now)


def _buckets_for(
    status: str | None,
    now: datetime,
    first: datetime | None,
    until: datetime | None,
    camera: str | None = None,
) -> DayRange:
    """The seal buckets holding every segment of this status recorded in [first, until):
    overdue and due footage by the day its retention ends (at most a day after ``now``),
    the other kept statuses among the unpurged by recording day (of ``camera`` only, when
    given: its own buckets), the rest by recording day (every status but "purged" is of
    unpurged footage: ``_status_clause``)."""
    if status in ("overdue", "due"):
        last = now - OVERDUE_AFTER if status == "overdue" else now
        return DayRange(SEGMENTS_BY_KEEP, end=day_of(last) + timedelta(days=1))
    start = None if first is None else day_of(first)
    end = None if until is None else day_after(until)
    if status is not None and status != "purged":
        return DayRange(KEPT_BY_RECORDING, start, end, group=camera)
    return DayRange(SEGMENTS_BY_RECORDING, start, end)


def overdue_count(conn: Connection, now: datetime) -> int:
    """How many segments are overdue for purge at ``now`` (``segment_rows``' "overdue"),
    counted in the same seal buckets it reads them in (R29 checks those rows)."""
    q = select(func.count()).select_from(segments).where(_status_clause("overdue", now))
    return int(read_range(conn, q, segments, _buckets_for("overdue", now, None, None)).scalar_one())


def listed_segments(
    ledger: Ledger,
    now: datetime,
    *,
    status: str | None = None,
    camera: str | None = None,
    limit: int | None = None,
    recorded_from: datetime | None = None,
    recorded_until: datetime | None = None,
    as_of: datetime | None = None,
) -> list[SegmentRow]:
    """``segment_rows`` read from the read models checked against their seals (R29):
    ``custodes footage list`` and the dashboard's footage page. An unknown camera is
    named (NotFound, with a suggestion), not an empty list."""
    from projections.registry import read_views

    if camera is not None:
        camera = ledger.camera_info(camera).camera_id  # as registered, as segments store it
    return read_views(
        ledger,
        lambda conn: segment_rows(
            conn, now, status=status, camera=camera, limit=limit,
            recorded_from=recorded_from, recorded_until=recorded_until,
        ),
        as_of=as_of,
        checked=True,
    )  # fmt: skip


def segment_rows_by_id(conn: Connection, ids: Iterable[str], now: datetime) -> list[SegmentRow]:
    """These segments with their retention status (unknown ids are left out)."""
    wanted = sorted(set(ids))
    rows = list(rows_in(conn, select(segments), segments.c.segment_id, wanted))
    return _rows(conn, rows, now)


def due_for_purge(conn: Connection, now: datetime, limit: int | None = None) -> list[SegmentRow]:
    """Unpurged segments past their deadline (after flags) with no active hold."""
    s = segments.c
    q = (
        select(segments)
        .where(s.purged == false(), s.active_holds == 0, s.keep_until <= now, _not_missing())
        .order_by(s.keep_until, s.segment_id)
    )
    if limit is not None:
        q = q.limit(limit)
    return _rows(conn, list(conn.execute(q)), now)


def _not_missing() -> ColumnElement[bool]:
    return ~segments.c.segment_id.in_(select(missing.c.segment_id))


@dataclass(frozen=True)
class DueSegment:
    segment_id: str
    sha256: str


def due_segment_ids(conn: Connection, now: datetime) -> list[DueSegment]:
    """What the sweep needs of every due segment, without the display columns."""
    s = segments.c
    q = (
        select(s.segment_id, s.sha256)
        .where(s.purged == false(), s.active_holds == 0, s.keep_until <= now, _not_missing())
        .order_by(s.keep_until, s.segment_id)
    )
    return [DueSegment(sid, sha) for sid, sha in conn.execute(q)]


def stored_segments(conn: Connection) -> list[DueSegment]:
    """Every segment the ledger holds as stored (neither purged nor found missing): what
    the vault audit checks (``capture.audit``)."""
    s = segments.c
    q = select(s.segment_id, s.sha256).where(s.purged == false(), _not_missing())
    return [DueSegment(sid, sha) for sid, sha in conn.execute(q.order_by(s.segment_id))]


@dataclass(frozen=True)
class MissingRow:
    segment_id: str
    camera_id: str
    recorded_start: datetime
    found_at: datetime
    blob_missing: bool
    key_missing: bool
    found_by: str


def missing_rows(conn: Connection) -> list[MissingRow]:
    """Segments recorded as found missing (FootageFoundMissing), oldest finding first."""
    q = select(*content(missing)).order_by(missing.c.found_at, missing.c.segment_id)
    return [MissingRow(**r._mapping) for r in conn.execute(q)]


def unpurged_segments_with(conn: Connection, shas: Iterable[str]) -> list[DueSegment]:
    """The unpurged segments stored under these content hashes (interrupted destroys)."""
    wanted = list(shas)
    if not wanted:
        return []
    s = segments.c
    q = (
        select(s.segment_id, s.sha256)
        .where(s.purged == false(), s.sha256.in_(wanted))
        .order_by(s.segment_id)
    )
    return [DueSegment(sid, sha) for sid, sha in conn.execute(q)]


def status_counts(conn: Connection, now: datetime) -> dict[str, int]:
    # One pass over the segments for every status (each its own count before).
    row = conn.execute(
        select(
            *(
                func.coalesce(func.sum(case((_status_clause(st, now), 1), else_=0)), 0)
                for st in STATUSES
            )
        )
    ).one()
    return {st: int(n) for st, n in zip(STATUSES, row, strict=True)}


def purges_in(conn: Connection, start: datetime, end: datetime) -> tuple[int, int]:
    """Segments purged in [start, end), and how many of them late: at or after their
    deadline (after flags) plus ``OVERDUE_AFTER`` (R15). The database counts them and
    picks the purges that may be late (a minute's margin for its date arithmetic); each is
    then judged here exactly as before, so a period's purges are never all read."""
    s = segments.c
    period = and_(s.purged_at.is_not(None), s.purged_at >= start, s.purged_at < end)
    # the seal buckets of the purges of those days (R29 checks only those)
    days = DayRange(SEGMENTS_BY_KEEP, day_of(start), day_after(end), kept=True)
    total = read_range(
        conn, select(func.count()).select_from(segments).where(period), segments, days
    ).scalar_one()
    q = select(s.purged_at, s.keep_until, s.deadline).where(period)
    maybe_late = _maybe_late(conn.dialect.name)
    if maybe_late is not None:
        q = q.where(maybe_late)
    late = sum(
        1
        for p in read_range(conn, q, segments, days)
        if p.purged_at >= (p.keep_until or p.deadline) + OVERDUE_AFTER
    )
    return int(total), late


_LATE_MARGIN = timedelta(minutes=1)


def late_purges_in(conn: Connection, start: datetime, end: datetime) -> int:
    """``purges_in``'s late purges alone (the home page's attention list). A checked read
    takes the count from the seal itself when [start, end) is whole UTC hours (a site's
    days are): the late purges' buckets are per hour, so the sealed counts of its hours
    are the count, under the seal's HMAC and position, and no row is read. Otherwise
    the rows are read in the seal buckets of late purges of those days only, judged as
    ``purges_in`` judges them, which is how their buckets were chosen
    (``Bucketing.is_late``), so R29 checks exactly the rows counted."""
    sealed = getattr(conn, "sealed_late_count", None)
    if sealed is not None:
        count = sealed(segments, SEGMENTS_BY_KEEP, start, end)
        if count is not None:
            return int(count)
    s = segments.c
    days = DayRange(SEGMENTS_BY_KEEP, day_of(start), day_after(end), late=True)
    q = select(s.purged_at, s.keep_until, s.deadline).where(s.purged_at >= start, s.purged_at < end)
    return sum(
        1
        for p in read_range(conn, q, segments, days)
        if SEGMENTS_BY_KEEP.is_late(p.purged_at, p.keep_until, p.deadline)
    )


def _maybe_late(dialect: str) -> ColumnElement[bool] | None:
    """Purges at least ``OVERDUE_AFTER`` less a minute after their deadline (a superset of
    the late ones), in the database's own date arithmetic; None: no filter."""
    s = segments.c
    due = func.coalesce(s.keep_until, s.deadline)
    if dialect == "sqlite":  # stored as ISO text; julianday: days, as a double
        days = (OVERDUE_AFTER - _LATE_MARGIN) / timedelta(days=1)
        return func.julianday(s.purged_at) - func.julianday(due) >= days
    if dialect == "postgresql":
        plain = func.coalesce(s.keep_until, s.deadline, type_=DateTime)
        return s.purged_at >= plain + literal(OVERDUE_AFTER - _LATE_MARGIN, Interval())
    return None


def hold_rows(conn: Connection, *, active_only: bool = False) -> list[HoldRow]:
    q = select(*content(holds)).order_by(holds.c.placed_at, holds.c.hold_id)
    if active_only:
        q = q.where(holds.c.released_at.is_(None))
    return [
        HoldRow(**{k: v for k, v in r._mapping.items() if k not in ("released_by", "aggregate_id")})
        for r in conn.execute(q)
    ]


def _rows(conn: Connection, rows: Sequence[Any], now: datetime) -> list[SegmentRow]:
    held = _grouped(
        conn,
        select(hold_segments.c.segment_id, hold_segments.c.hold_id)
        .join(holds, holds.c.hold_id == hold_segments.c.hold_id)
        .where(holds.c.released_at.is_(None)),
        hold_segments.c.segment_id,
        [r.segment_id for r in rows if r.active_holds],
    )
    flagged = _grouped(
        conn,
        select(flags.c.segment_id, flags.c.flag_id).where(flags.c.cleared_at.is_(None)),
        flags.c.segment_id,
        [r.segment_id for r in rows if r.open_flags],
    )
    gone = _grouped(
        conn,
        select(missing.c.segment_id, missing.c.segment_id),
        missing.c.segment_id,
        [r.segment_id for r in rows if not r.purged],
    )
    return [
        SegmentRow(
            segment_id=r.segment_id,
            sha256=r.sha256,
            camera_id=r.camera_id,
            recorded_start=r.recorded_start,
            recorded_end=r.recorded_end,
            deadline=r.deadline,
            keep_until=r.keep_until,
            status=status_of(
                purged=r.purged,
                missing=r.segment_id in gone,
                active_holds=r.active_holds,
                open_flags=r.open_flags,
                keep_until=r.keep_until,
                now=now,
            ),
            holds=tuple(sorted(held.get(r.segment_id, ()))),
            flags=tuple(sorted(flagged.get(r.segment_id, ()))),
            purged_at=r.purged_at,
            retention_days=(r.deadline - r.recorded_end).days,
        )
        for r in rows
    ]


def _grouped(conn: Connection, q: Any, column: Any, ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sid, value in rows_in(conn, q, column, list(ids)):
        out.setdefault(sid, []).append(value)
    return out


def footage_projections() -> list[Projection]:
    """The footage read models, registered in ``projections.registry``."""
    from projections.access import AccessProjection

    return [RetentionProjection(), AccessProjection()]
