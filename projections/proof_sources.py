"""The log entries behind the compliance report's one-event rows (a viewing, a refused
attempt, a staff note): their notification ids, read by the same queries that fill those
rows, in the same order, so ``ledger.report_proofs.prove_rows`` proves each row's own
event. Rows about a subject (a request, a camera, a segment, a hold) need none: their
entries are found from the subject's id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from projections.access import access_report
from projections.refusals import refused_attempts


def event_sources(conn: Connection, start: datetime, end: datetime) -> dict[str, list[int]]:
    """table (``report_proofs.EVENTS``) -> the notification ids of its rows, in order."""
    access = access_report(conn, start, end)
    return {
        "viewings": [v.notification_id for v in access.viewings],
        "access_refused": [r.notification_id for r in access.refused],
        "staff_notes": [n.notification_id for n in access.staff_notes],
        "refusals": [r.notification_id for r in refused_attempts(conn, start, end)],
    }
