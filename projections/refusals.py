"""Refused attempts (R23): who tried what, when, and which rule refused it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from projections.base import Projection, UtcDateTime, insert_row
from projections.seal import Bucketing, DayRange, day_after, day_of, read_range
from projections.versions import content

# The seal's buckets (R29, ``projections.seal``): refused attempts by the UTC day they were
# recorded, so a page listing a period's refusals (the home page's week) checks only
# the rows of those days, not every refusal ever recorded.
REFUSALS_BY_DAY = Bucketing("recorded", "recorded_at")

metadata = MetaData()
refusals = Table(
    "proj_refusals",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False, index=True),
    # Text, not String(120): a refused attempt keeps the name it was made under, whatever
    # its length (a 1,050-character unknown --as name stopped this read model on
    # PostgreSQL, issue 14). Staff names are bounded at entry; attempts are not chosen.
    Column("actor", Text, nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("action", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("message", Text, nullable=False),
    # False: the attempt was made under a name whose key was not unlocked (a wrong or no
    # passphrase), so the service identity signed its record, not the person named (R25).
    Column("authenticated", Boolean, nullable=False),
    info={"seal_buckets": (REFUSALS_BY_DAY,)},
)


@dataclass(frozen=True)
class RefusalRow:
    notification_id: int
    recorded_at: datetime
    actor: str
    actor_role: str
    action: str
    subject: str
    rule_id: str
    message: str
    authenticated: bool
    acting: str = ""  # an acting Director's delegation (R3), as ``ViewingRow.acting``


class RefusalsProjection(Projection):
    name = "refusals"
    rebuild_cost = 2.0
    metadata = metadata
    kinds = frozenset({"AccessDenied"})

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        insert_row(
            conn,
            refusals,
            notification_id=notification_id,
            recorded_at=event.timestamp,
            actor=event.actor,
            actor_role=event.actor_role,
            action=event.action,
            subject=event.subject,
            rule_id=event.rule_id,
            message=event.message,
            authenticated=bool(event.authenticated),
        )


def refused_attempts(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[RefusalRow]:
    """The refused attempts recorded in [since, until) (None: no bound), in the order
    recorded. Bounded, they are read in the seal buckets of those UTC days only
    (``read_range``: a checked read checks those rows)."""
    q = select(*content(refusals)).order_by(refusals.c.notification_id)
    if since is not None:
        q = q.where(refusals.c.recorded_at >= since)
    if until is not None:
        q = q.where(refusals.c.recorded_at < until)
    if since is None and until is None:
        return [RefusalRow(**row._mapping) for row in conn.execute(q)]
    days = DayRange(
        REFUSALS_BY_DAY,
        None if since is None else day_of(since),
        None if until is None else day_after(until),
    )
    return [RefusalRow(**row._mapping) for row in read_range(conn, q, refusals, days)]
