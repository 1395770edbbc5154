"""Read models: SQLAlchemy tables kept from the ledger's notification log.

Each projection owns its tables and writes its rows and its tracking position in ONE
transaction, so a crash never leaves rows without the position that produced them (or
the reverse). ``eventsourcing``'s ``ProjectionRunner`` needs ``subscribe()``, which the
SQLAlchemy recorder lacks on SQLite, so we catch up by polling
``select_notifications`` (NOTES-eventsourcing.md). The events are read first and the
view's transaction opened afterwards: eventsourcing-sqlalchemy keeps its current
transaction in a context variable.

Any projection can be dropped and rebuilt from the log; a rebuild equals the one kept
incrementally (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    TypeDecorator,
    create_engine,
    select,
)
from sqlalchemy.pool import StaticPool

from ledger.app import Ledger


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


TRACKING_METADATA = MetaData()
tracking = Table(
    "proj_tracking",
    TRACKING_METADATA,
    Column("projection", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

PAGE = 1000


class Projection:
    """Subclasses set ``name`` and ``metadata`` (their tables) and implement ``handle``.

    ``handle(conn, notification_id, event)`` must be deterministic: the same events in
    the same order give the same rows (rebuild == incremental). Errors propagate: a
    projection never swallows one (STYLE.md).
    """

    name: ClassVar[str]
    metadata: ClassVar[MetaData]
    # Event class names this projection reads; empty means all.
    kinds: ClassVar[frozenset[str]] = frozenset()

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        raise NotImplementedError


class Views:
    """Engine and catch-up for a set of projections over one ledger."""

    def __init__(
        self,
        ledger: Ledger,
        projections: Sequence[Projection],
        *,
        as_of: datetime | None = None,
    ) -> None:
        """Views kept in the ledger's database or, ``as_of`` a past time, rebuilt in memory.

        The as-of views replay only events recorded at or before ``as_of``: the state
        exactly as it was then (event sourcing gives it for free), never stored.
        """
        self.ledger = ledger
        self.projections = list(projections)
        self.as_of = as_of
        if as_of is None:
            url = ledger.chained_recorder.datastore.engine.url  # type: ignore[union-attr]
            self.engine: Engine = create_engine(url)
        else:
            if as_of.tzinfo is None:
                raise ValueError("as_of must be timezone-aware")
            self.engine = create_engine("sqlite://", poolclass=StaticPool)
        TRACKING_METADATA.create_all(self.engine)
        for p in self.projections:
            p.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def position(self, projection: Projection) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(tracking.c.position).where(tracking.c.projection == projection.name)
            ).scalar()
        return int(value or 0)

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        stop: int | None = None,
    ) -> int:
        """Apply every event not yet seen; returns how many notifications were read."""
        positions = {p.name: self.position(p) for p in self.projections}
        if not positions:
            return 0
        start = min(positions.values()) + 1
        read = 0
        while True:
            # Read first (the ledger's own transaction ends), then write the views.
            notifications = self.ledger.recorder.select_notifications(start, PAGE, stop=stop)
            if not notifications:
                return read
            events = [(n.id, self.ledger.mapper.to_domain_event(n)) for n in notifications]
            if self.as_of is not None:
                events = [(i, e) for i, e in events if e.timestamp <= self.as_of]  # type: ignore[attr-defined]
            for p in self.projections:
                self._apply(p, positions[p.name], events)
                positions[p.name] = notifications[-1].id
            read += len(notifications)
            if progress is not None:
                progress(len(notifications))
            start = notifications[-1].id + 1

    def _apply(self, p: Projection, done: int, events: Iterable[tuple[int, Any]]) -> None:
        todo = [(i, e) for i, e in events if i > done]
        if not todo:
            return
        with self.engine.begin() as conn:
            for notification_id, event in todo:
                if not p.kinds or type(event).__name__ in p.kinds:
                    p.handle(conn, notification_id, event)
            last = todo[-1][0]
            updated = conn.execute(
                tracking.update()
                .where(tracking.c.projection == p.name)
                .where(tracking.c.position == done)
                .values(position=last)
            ).rowcount
            if updated == 0:
                if done != 0:
                    raise RuntimeError(
                        f"projection {p.name!r} moved on concurrently from {done}; retry"
                    )
                conn.execute(tracking.insert().values(projection=p.name, position=last))

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop every table of these projections and replay the whole log into them."""
        with self.engine.begin() as conn:
            for p in self.projections:
                p.metadata.drop_all(conn)
                conn.execute(tracking.delete().where(tracking.c.projection == p.name))
            for p in self.projections:
                p.metadata.create_all(conn)
        return self.catch_up(progress=progress)

    def connect(self) -> Connection:
        return self.engine.connect()
