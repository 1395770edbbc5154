"""``--as-of T`` as a query on the read models, not a replay of the log (issue 18).

Two read models make it possible, both kept by the catch-up in the same transaction as
the other read models, sealed (R29), rebuilt and checked like them:

* the **time index** (``proj_time_index``, ``TimeIndexProjection``): per hour of
  recorded time (UTC), the first and last notification id recorded in it, the earliest
  and latest recorded time and the number of events. Times and positions only, the
  same times the signed act records carry in the clear: no content. Recorded times are
  monotonic up to the clock rule's tolerance (R26), and an event's time is read before
  its save takes the lock, so two writers may interleave a little; the index bounds the
  few events whose order is in doubt;
* the **row versions** of every other read model (``projections.versions``): each row's
  content with the log positions between which it held.

``resolve`` turns T into the log position P such that the events recorded at or before T
are exactly those at or before P: from the index, every event before the first hour
that has one recorded after T is in, every event after the last hour that has one
recorded at or before T is out, and only the events between (about an hour's) are
decrypted to find the boundary. Should those not split into a prefix (a clock stepped
back across T), there is no such P and the as-of views are replayed from the log as
before. Then the read models as of P are the version tables filtered by position, read
through temporary views that carry the read models' own names, so every report and
listing query runs unchanged (``Views.at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, Table, func, select

from ledger.app import Ledger
from projections.base import (
    Projection,
    UtcDateTime,
    Views,
    insert_row,
    tracked_position,
    unversioned,
    update_row,
)

metadata = MetaData()
time_index = Table(
    "proj_time_index",
    metadata,
    Column("hour", BigInteger, primary_key=True),  # hours since 1970-01-01T00:00Z
    Column("first_id", BigInteger, nullable=False),
    Column("last_id", BigInteger, nullable=False),
    Column("min_at", UtcDateTime, nullable=False, index=True),
    Column("max_at", UtcDateTime, nullable=False, index=True),
    Column("events", Integer, nullable=False),
)


def _hour(at: datetime) -> int:
    return int(at.timestamp() // 3600)


class TimeIndexProjection(Projection):
    """Recorded time -> log position, per hour (content-free)."""

    name = "time_index"
    rebuild_cost = 3.0
    metadata = metadata
    versioned = False

    def prepare(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        hours: dict[int, list[Any]] = {}
        for i, e in events:
            at = e.timestamp
            h = hours.get(_hour(at))
            if h is None:
                hours[_hour(at)] = [i, i, at, at, 1]
            else:
                h[0], h[1] = min(h[0], i), max(h[1], i)
                h[2], h[3] = min(h[2], at), max(h[3], at)
                h[4] += 1
        t = time_index.c
        stored = {
            r.hour: r for r in conn.execute(select(time_index).where(t.hour.in_(sorted(hours))))
        }
        for hour, (first, last, low, high, n) in sorted(hours.items()):
            old = stored.get(hour)
            if old is None:
                insert_row(
                    conn,
                    time_index,
                    hour=hour,
                    first_id=first,
                    last_id=last,
                    min_at=low,
                    max_at=high,
                    events=n,
                )
            else:
                update_row(
                    conn,
                    time_index,
                    "hour",
                    hour,
                    first_id=min(first, old.first_id),
                    last_id=max(last, old.last_id),
                    min_at=min(low, old.min_at),
                    max_at=max(high, old.max_at),
                    events=old.events + n,
                )

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        pass  # ``prepare`` indexed the page


def resolve(ledger: Ledger, views: Views, as_of: datetime) -> int | None:
    """The log position P whose events (all those at or before it) are exactly the events
    recorded at or before ``as_of``, within what ``views`` have read; None when there is
    no such position (recorded times out of order across ``as_of``)."""
    t = time_index.c
    with views.engine.connect() as conn:
        reached = tracked_position(conn, TimeIndexProjection.name)
        first_after = conn.execute(select(func.min(t.first_id)).where(t.max_at > as_of)).scalar()
        last_in = conn.execute(select(func.max(t.last_id)).where(t.min_at <= as_of)).scalar()
    low = reached if first_after is None else int(first_after) - 1  # all in up to here
    high = int(last_in or 0)  # all out after here
    if high <= low:
        return low
    notifications = ledger.recorder.select_notifications(low + 1, high - low, stop=high)
    position, out = low, False
    for n in notifications:
        at = ledger.mapper.to_domain_event(n).timestamp  # type: ignore[attr-defined]
        if at <= as_of:
            if out:
                return None  # an event in after one out: not a prefix of the log
            position = n.id
        else:
            out = True
    return position


def views_as_of(ledger: Ledger, projections: Sequence[Projection], as_of: datetime) -> Views:
    """The read models ``projections`` as they were at ``as_of``: the kept views read at
    the position ``as_of`` resolves to, or (no such position, or versions not kept for
    the whole log) replayed from the log in memory. Caught up and ready to read."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    index = TimeIndexProjection()
    wanted = list(projections)
    if not any(isinstance(p, TimeIndexProjection) for p in wanted):
        wanted.append(index)
    views = Views(ledger, wanted)
    try:
        views.catch_up()
        position = None if unversioned(views) else resolve(ledger, views, as_of)
    except BaseException:
        views.close()
        raise
    if position is None:
        views.close()
        replay = Views(ledger, projections, as_of=as_of)
        replay.catch_up()
        return replay
    views.at(position)
    return views
