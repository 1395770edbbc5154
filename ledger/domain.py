"""Shared domain vocabulary: the attributed aggregate base and deterministic ids.

Every event records who did the act (actor and role, R23) and, besides the time it
was recorded (the event timestamp), the time the act happened as claimed (R24).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

NAMESPACE = UUID("6f2f1d1e-5b8a-4c43-9a57-1c2d0b7e9a10")


def stable_id(kind: str, key: str) -> UUID:
    """Deterministic aggregate id, so a name or a content hash finds its aggregate."""
    return uuid5(NAMESPACE, f"{kind}:{key}")


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    delegation: str | None = None  # acting Director: the delegation she acts under (R3)


class LedgerAggregate(Aggregate):
    class Event(Aggregate.Event):
        actor: str
        actor_role: str
        occurred_at: datetime | None

    class Created(Event, Aggregate.Created):
        pass
