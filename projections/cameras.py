"""The camera registry (R12) and the site's retention-schedule authority (R15), as read
models: the compliance report reads them here instead of loading aggregates, so that
``--as-of`` shows the registry exactly as it was then.

Refused camera registrations are not copied: they are the ``camera add`` rows of
``proj_refusals``. The refusal event does not carry the zone, so it is read back from the
rule's message (``no camera may be placed in a restroom``); a refusal for another reason
(an actor who is not the Director) has no zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from ledger.footage import ZONES, Camera
from ledger.site import Site
from projections.base import Projection, UtcDateTime, insert_row
from projections.refusals import RefusalRow, refused_attempts

metadata = MetaData()
cameras = Table(
    "proj_cameras",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("location", Text, nullable=False),
    Column("zone", String(32), nullable=False),
    Column("signage_posted", Boolean, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("registered_by", String(120), nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
    Column("retired_reason", Text, nullable=True),
    Column("notification_id", BigInteger, nullable=False),
)
schedule = Table(
    "proj_site_schedule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("authority", Text, nullable=True),  # JSON object or NULL: not configured
)
CAMERA_ACTIONS = ("camera add",)


@dataclass(frozen=True)
class CameraRecord:
    camera_id: str
    location: str
    zone: str
    signage_posted: bool
    registered_at: datetime
    registered_by: str
    retired_at: datetime | None


@dataclass(frozen=True)
class RefusedRegistration:
    camera_id: str
    actor: str
    at: datetime
    zone: str  # "" when the refusal did not concern the zone
    rule_id: str
    message: str


class CamerasProjection(Projection):
    name = "cameras"
    rebuild_cost = 0.7
    metadata = metadata
    kinds = frozenset(
        {"CameraRegistered", "CameraRetired", "SiteInitialised", "SiteSettingsChanged"}
    )

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Camera.CameraRegistered):
            insert_row(
                conn,
                cameras,
                camera_id=event.camera_id,
                aggregate_id=str(event.originator_id),
                location=event.location,
                zone=event.zone,
                signage_posted=event.signage_posted,
                registered_at=event.timestamp,
                registered_by=event.actor,
                retired_at=None,
                retired_reason=None,
                notification_id=notification_id,
            )
        elif isinstance(event, Camera.CameraRetired):
            conn.execute(
                cameras.update()
                .where(cameras.c.aggregate_id == str(event.originator_id))
                .values(retired_at=event.timestamp, retired_reason=event.reason)
            )
        elif isinstance(event, Site.SiteInitialised | Site.SiteSettingsChanged):
            authority = getattr(event, "schedule_authority", None)
            value = json.dumps(authority, sort_keys=True) if authority else None
            if (
                conn.execute(
                    schedule.update().where(schedule.c.id == 1).values(authority=value)
                ).rowcount
                == 0
            ):
                conn.execute(schedule.insert().values(id=1, authority=value))


def camera_records(conn: Connection) -> list[CameraRecord]:
    q = select(cameras).order_by(cameras.c.camera_id)
    return [
        CameraRecord(
            r.camera_id,
            r.location,
            r.zone,
            r.signage_posted,
            r.registered_at,
            r.registered_by,
            r.retired_at,
        )
        for r in conn.execute(q)
    ]


def refused_registrations(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[RefusedRegistration]:
    return [
        RefusedRegistration(r.subject, r.actor, r.recorded_at, _zone(r), r.rule_id, r.message)
        for r in refused_attempts(conn, since, until)
        if r.action in CAMERA_ACTIONS
    ]


def _zone(row: RefusalRow) -> str:
    text = row.message.casefold()
    for zone in ZONES:
        if zone.replace("_", " ") in text and zone != "public":
            return zone
    return ""


def schedule_authority(conn: Connection) -> dict[str, str] | None:
    value = conn.execute(select(schedule.c.authority).where(schedule.c.id == 1)).scalar()
    return json.loads(value) if value else None


def authority_text(authority: dict[str, str] | None) -> str | None:
    """``schedule 25-012, item 7; disposal certificate LRA-DC-2026`` (None: not configured)."""
    if not authority:
        return None
    parts = []
    if authority.get("schedule_id"):
        parts.append(f"schedule {authority['schedule_id']}")
    if authority.get("item"):
        parts.append(f"item {authority['item']}")
    text = ", ".join(parts)
    if authority.get("disposal_certificate"):
        text = f"{text}; disposal certificate {authority['disposal_certificate']}".lstrip("; ")
    return f"Local Records Commission {text}" if text else None
