"""What needs the Director's attention in a compliance report, most serious first.

Judged at the reference time (``as_of`` when given, else now): overdue and late purges,
a missing retention-schedule authority, FOIA clocks, open emergency follow-ups, holds
past their review day. Refused attempts are not repeated here: each was refused
already, and the report lists it once under Refused attempts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from ledger import rules, sitetime
from ledger.clock_commands import SetAsidePurge
from ledger.rules import Rule
from ledger.site import clock_correction_subject, set_aside_subject
from projections.access import copies_not_found
from projections.compliance_model import AttentionItem, Retention
from projections.disclosures import DisclosureRow as RegisterRow
from projections.disclosures import RegisterBrief
from projections.retention import hold_rows, missing_rows, segment_rows, segment_rows_by_id

FOIA_NEAR_BUSINESS_DAYS = 2
# most serious first: the order the report lists them in (and verify-report holds it to)
SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}


def business_days_between(today: date, due: date) -> int:
    """Monday-Friday days after ``today`` up to and including ``due`` (5 ILCS 140/3)."""
    days, d = 0, today
    while d < due:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days += 1
    return days


def needs_attention(
    conn: Connection,
    register: Sequence[RegisterRow | RegisterBrief],
    retention: Retention,
    ref: datetime,
    zone: ZoneInfo,
    unrecorded_missing: Sequence[tuple[str, str]] = (),
    overdue_shown: int | None = None,
    corrections: Sequence[Any] = (),
    set_aside: Sequence[SetAsidePurge] = (),
) -> list[AttentionItem]:
    """What the Director must act on at ``ref``, most serious first. ``unrecorded_missing``
    is footage the vault audit found gone just now, not recorded yet. ``overdue_shown``:
    only the first that many overdue segments (oldest recording first), for a page that
    shows no more and counts the rest (``overdue_count``); None: every one (the report).
    ``corrections``: the Director's clock corrections to name; ``set_aside``: the purges
    among the acts a correction set aside (``Ledger.set_aside_purges``)."""
    items = [
        *_missing_items(conn, zone, unrecorded_missing),
        *_copy_items(conn, zone),
        *_retention_items(conn, retention, ref, zone, overdue_shown),
        *(item for r in register for item in _request_items(r, ref, zone)),
        *_hold_items(conn, ref, zone),
        *(_clock_item(c, zone) for c in corrections),
        *_set_aside_items(conn, set_aside, ref, zone),
    ]
    return sorted(items, key=lambda i: SEVERITY_ORDER[i.severity])


def _missing_items(
    conn: Connection, zone: ZoneInfo, unrecorded: Sequence[tuple[str, str]]
) -> Iterator[AttentionItem]:
    """Footage destroyed outside Custodes (FOOTAGE-FOUND-MISSING): never a purge."""
    for gone in missing_rows(conn):
        what = (
            "encrypted file and key were"
            if gone.blob_missing and gone.key_missing
            else "encrypted file was"
            if gone.blob_missing
            else "key was"
        )
        yield _item(
            "violation",
            rules.FOOTAGE_FOUND_MISSING,
            f"Segment {gone.segment_id} ({gone.camera_id}, recorded "
            f"{sitetime.show(gone.recorded_start, zone)}): its {what} found missing on "
            f"{sitetime.show(gone.found_at, zone)} with no purge in progress or recorded "
            f"({gone.found_by}): footage destroyed outside Custodes. Find out how and by "
            "whom; it is not a purge under the retention schedule.",
            gone.segment_id,
        )
    for segment_id, text in unrecorded:
        yield _item(
            "violation",
            rules.FOOTAGE_FOUND_MISSING,
            f"Found while writing this report, not yet recorded: {text}.",
            segment_id,
        )


def _copy_items(conn: Connection, zone: ZoneInfo) -> Iterator[AttentionItem]:
    """Viewing copies not there when they were to be destroyed (FOOTAGE-VIEWING-COPY):
    moved or deleted outside Custodes; the ledger cannot say they were destroyed. One
    item per segment."""
    by_segment: dict[str, list[Any]] = {}
    for row in copies_not_found(conn):
        by_segment.setdefault(row.segment_id, []).append(row)
    for segment_id, rows in by_segment.items():
        listed = "; ".join(
            f"{r.path}, made by {r.actor} on {sitetime.show(r.made_at, zone)}, not there on "
            f"{sitetime.show(r.destroyed_at, zone)}"
            for r in rows
        )
        one = len(rows) == 1
        what, it = ("a decrypted viewing copy was", "it") if one else (
            "decrypted viewing copies were", "them")  # fmt: skip
        yield _item(
            "warning",
            rules.FOOTAGE_VIEWING_COPY,
            f"Segment {segment_id}: {what} not there when Custodes came to destroy {it} "
            f"({listed}): moved or deleted outside Custodes, so a copy may survive beyond the "
            "ledger's reach. Find out where it went.",
            segment_id,
        )


def _retention_items(
    conn: Connection, retention: Retention, ref: datetime, zone: ZoneInfo, shown: int | None
) -> Iterator[AttentionItem]:
    late = retention.counts.purged_late
    if late:
        yield _item(
            "violation",
            rules.FOOTAGE_RETENTION,
            f"{late} segment{'s were' if late != 1 else ' was'} purged late in this period "
            "(after the deadline and the sweep's grace day): check that the daily retention "
            "sweep runs (custodes retention sweep, see docs/FOOTAGE.md).",
            "retention",
        )
    at_end = retention.counts.overdue_at_period_end
    if at_end:
        yield _item(
            "violation",
            rules.FOOTAGE_RETENTION,
            f"{at_end} segment{'s were' if at_end != 1 else ' was'} kept more than a day past "
            "the deadline at the end of this period, with no flag or hold: a violation in "
            "this period, purged since or not. Run this report with --as-of the period's "
            "last day to list them.",
            "retention at period end",
        )
    if retention.settings.schedule_authority is None:
        # 50 ILCS 205/7: records are destroyed only under an approved schedule.
        yield _item(
            "warning",
            rules.FOOTAGE_RETENTION,
            "Schedule authority: NOT CONFIGURED. Purges cite no approved records retention "
            "schedule (50 ILCS 205/7). Record it once: custodes retention settings "
            "--schedule-id ID --schedule-item N --reason TEXT --as DIRECTOR.",
            "retention settings",
        )
    overdue = segment_rows(conn, ref, status="overdue", limit=shown)
    # the most overdue first (the rows come in seal-bucket order)
    for seg in sorted(overdue, key=lambda s: (s.keep_until or s.deadline, s.segment_id)):
        due = seg.keep_until or seg.deadline
        yield _item(
            "violation",
            rules.FOOTAGE_RETENTION,
            f"Segment {seg.segment_id} ({seg.camera_id}) was due for purge on "
            f"{sitetime.show(due, zone)} and is still kept ({(ref - due).days} days "
            "overdue): run the retention sweep (custodes retention sweep).",
            seg.segment_id,
        )


def _request_items(
    r: RegisterRow | RegisterBrief, ref: datetime, zone: ZoneInfo
) -> Iterator[AttentionItem]:
    if r.follow_up == "open":
        yield _item(
            "warning",
            rules.LRCA_EMERGENCY_FOLLOWUP,
            f"Emergency release {r.ref} has an open follow-up: seek judicial review or link "
            "the later court order (custodes request follow-up).",
            r.ref,
        )
    if r.foia_due is None:
        return
    due = sitetime.show(r.foia_due, zone)
    if r.decision == "pending" and ref > r.foia_due:
        yield _item(
            "violation",
            rules.FOIA_CLOCK,
            f"FOIA request {r.ref} was due {due} and is not answered (the deadline was "
            "missed); answer it now.",
            r.ref,
        )
    elif r.decision == "pending":
        left = business_days_between(
            sitetime.local_day(ref, zone), sitetime.local_day(r.foia_due, zone)
        )
        if left <= FOIA_NEAR_BUSINESS_DAYS:
            when = "today" if left == 0 else f"{left} business day{'s' if left != 1 else ''} left"
            yield _item(
                "warning",
                rules.FOIA_CLOCK,
                f"FOIA request {r.ref} is due {due} ({when}); answer or extend it.",
                r.ref,
            )
    elif r.decided_at is not None and r.decided_at > r.foia_due:
        yield _item(
            "violation",
            rules.FOIA_CLOCK,
            f"FOIA request {r.ref} was answered on {sitetime.show(r.decided_at, zone)}, "
            f"after its deadline {due}.",
            r.ref,
        )


def _hold_items(conn: Connection, ref: datetime, zone: ZoneInfo) -> Iterator[AttentionItem]:
    for hold in hold_rows(conn, active_only=True):
        if hold.review_by is not None and hold.review_by < ref:
            yield _item(
                "warning",
                rules.FOOTAGE_HOLD_BLOCKS_PURGE,
                f"Hold {hold.hold_id} ({hold.kind.replace('_', ' ')}, {hold.reference}) was "
                f"to be reviewed by {sitetime.show_date(hold.review_by, zone)}: review it "
                "and release it (Director) or keep it with a new review date.",
                hold.hold_id,
            )


def _clock_item(correction: Any, zone: ZoneInfo) -> AttentionItem:
    """The Director set aside the times a clock set ahead recorded (``Site.ClockCorrected``,
    R26): those acts' times, shown everywhere as recorded, are not when they happened."""
    c = correction
    set_aside = datetime.fromisoformat(c.set_aside.replace("Z", "+00:00"))
    return _item(
        "warning",
        rules.RECORDED_TIME,
        f"The ledger's clock was corrected on {sitetime.show(c.timestamp, zone)} by {c.actor}: "
        f"{'1 act' if c.acts == 1 else f'{c.acts} acts'} from entry {c.from_position} on "
        f"{'was' if c.acts == 1 else 'were'} recorded by a clock set ahead (up to "
        f"{sitetime.show(set_aside, zone)}) and {'keeps' if c.acts == 1 else 'keep'} "
        f"{'its time' if c.acts == 1 else 'those times'}, not when "
        f"{'it' if c.acts == 1 else 'they'} happened. Reason given: {c.reason}",
        clock_correction_subject(c.timestamp),
    )


def _set_aside_items(
    conn: Connection, purges: Sequence[SetAsidePurge], ref: datetime, zone: ZoneInfo
) -> Iterator[AttentionItem]:
    """A purge a sweep recorded by a clock set ahead (R26, then R13): when the footage
    was destroyed the ledger knows only that it was before the correction. Destroyed early
    (a violation) when it was to be kept past the correction; else it may have been."""
    if not purges:
        return
    rows = {r.segment_id: r for r in segment_rows_by_id(conn, {p.segment_id for p in purges}, ref)}
    for p in purges:
        row = rows.get(p.segment_id)
        keep = None if row is None else (row.keep_until or row.deadline)
        told = (
            f"a sweep run by a clock set ahead purged it, recorded "
            f"{sitetime.show(p.recorded, zone)}, a time the Director set aside on "
            f"{sitetime.show(p.correction, zone)}"
        )
        counted = (
            " Reports count the purge by its recorded time, as the ledger holds it, not "
            "when it happened. Find out what set the sweep's clock ahead, and keep its host "
            "on NTP."
        )
        subject = set_aside_subject(p.segment_id, p.correction)
        if keep is not None and keep >= p.correction:
            yield _item(
                "violation",
                rules.FOOTAGE_RETENTION,
                f"Segment {p.segment_id} ({p.camera_id}) was destroyed before its retention "
                f"ended: {told}; it was to be kept until {sitetime.show(keep, zone)}.{counted}",
                subject,
            )
            continue
        after = (
            f", and its purge was recorded after the act of {sitetime.show(p.after, zone)}"
            if p.after is not None
            else ""
        )
        until = f" (it was to be kept until {sitetime.show(keep, zone)})" if keep else ""
        yield _item(
            "warning",
            rules.FOOTAGE_RETENTION,
            f"Segment {p.segment_id} ({p.camera_id}) may have been destroyed before its "
            f"retention ended{until}: {told}. The ledger shows only that it was destroyed "
            f"before then{after}.{counted}",
            subject,
        )


def _item(severity: str, rule: Rule, text: str, subject: str) -> AttentionItem:
    return AttentionItem(severity, rule.id, rule.source, text, subject)
