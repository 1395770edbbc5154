"""Refused attempts (R23): who tried what, when, and which rule refused it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from projections.base import Projection, UtcDateTime, insert_row

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


class RefusalsProjection(Projection):
    name = "refusals"
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
        )


def refused_attempts(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[RefusalRow]:
    q = select(refusals).order_by(refusals.c.notification_id)
    if since is not None:
        q = q.where(refusals.c.recorded_at >= since)
    if until is not None:
        q = q.where(refusals.c.recorded_at < until)
    return [RefusalRow(**row._mapping) for row in conn.execute(q)]
