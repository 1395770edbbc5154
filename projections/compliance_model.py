"""The Director's compliance report as plain data, and what every renderer shares.

The report is filled from the read models by the report service; the renderers
(``render_html``, ``render_pdf``, ``render_data``) read only these frozen dataclasses, so
the same numbers reach the board (HTML, PDF) and machines (JSON, CSV). Times are
timezone-aware UTC here (as everywhere inside) and shown in the site's time zone on
screen and paper (R24). Field names are the JSON schema (docs/REPORTS.md): renaming one is a schema change.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger import sitetime
from ledger.outfiles import PRIVATE, OutputFailed, OutputRefused, write_bytes
from ledger.text import printable

SCHEMA_VERSION = "custodes-compliance-report/2"
SEVERITIES = ("violation", "warning", "info")


class ReportError(Exception):
    """Base error of the projections package: a report could not be built or written."""

    def __str__(self) -> str:
        return printable(super().__str__(), keep_newlines=True)  # issue 14, ledger.text


class InvalidReport(ReportError):
    """The report data breaks the model's rules (naive time, unknown severity, zone)."""


class OutputNotWritable(ReportError):
    """The report could not be written where asked; nothing was left behind."""


@dataclass(frozen=True)
class ReportHeader:
    library: str
    site_timezone: str  # IANA name, e.g. "America/Chicago"
    period_from: date  # first day of the period, site-local, inclusive
    period_to: date  # last day of the period, site-local, inclusive
    generated_at: datetime
    as_of: datetime | None  # None: the current state; else the state replayed to this time
    generated_by: str


@dataclass(frozen=True)
class AttentionItem:
    severity: str  # violation | warning | info
    rule_id: str
    rule_source: str
    text: str
    subject_id: str


@dataclass(frozen=True)
class Integrity:
    verified: bool
    entries: int
    chain_head: str  # hex
    tree_size: int
    merkle_root: str  # hex
    checkpoint: str  # the signed note, C2SP tlog-checkpoint + signed-note, verbatim
    key_fingerprint: str
    problem: str | None = None  # what verification found, when not verified


@dataclass(frozen=True)
class CameraRow:
    camera_id: str
    location: str
    zone: str
    signage_attested: bool
    status: str  # active | retired
    registered_at: datetime


@dataclass(frozen=True)
class RefusedCamera:
    camera_id: str
    actor: str
    at: datetime
    zone: str
    rule_id: str
    message: str


@dataclass(frozen=True)
class Cameras:
    rows: tuple[CameraRow, ...]
    refused: tuple[RefusedCamera, ...]


@dataclass(frozen=True)
class RetentionSettings:
    retention_days: int
    schedule_authority: str | None  # e.g. "Local Records Commission schedule 12-034, item 7"


@dataclass(frozen=True)
class RetentionCounts:
    captured: int
    purged_on_time: int
    purged_late: int
    overdue_now: int
    flagged: int
    held: int
    # Kept more than a day past their deadline (after flags and holds) at the end of the
    # period, read as of then; None when the report's reference time is within the period
    # (``overdue_now`` is that state). Red team, session 14: a period's report made after
    # a later sweep purged its overdue footage said nothing of it.
    overdue_at_period_end: int | None = None


@dataclass(frozen=True)
class HeldSegment:
    segment_id: str
    camera_id: str
    recorded_start: datetime
    recorded_end: datetime
    reason: str
    kind: str  # "flag" or the hold's kind (legal_hold, le_preservation, investigation, foia)
    reference: str
    age_days: int
    review_by: datetime | None
    # the retention in force for the segment, recorded at capture (R13, R28)
    retention_days: int = 0
    retention_version: int | None = None
    deadline: datetime | None = None  # the retention deadline, before flags and holds
    # when the flag or hold was placed: one placed more than a day after the deadline held
    # footage that was overdue by then (red team, session 14: the report showed it as any
    # other held segment, and its violation was gone from the overdue list)
    placed_at: datetime | None = None


@dataclass(frozen=True)
class OverdueSegment:
    segment_id: str
    camera_id: str
    deadline: datetime
    days_overdue: int
    retention_days: int = 0
    retention_version: int | None = None


@dataclass(frozen=True)
class RetentionGroup:
    """Segments recorded in the period under one policy version's days (R13, R28)."""

    version: int | None  # None: captured before policy versions existed
    retention_days: int
    segments: int
    purged: int  # of them, purged since
    first_deadline: datetime
    last_deadline: datetime


@dataclass(frozen=True)
class PurgeGroup:
    """Purges recorded in the period, by the retention recorded at capture and the days
    the purge applied (``FootagePurged.retention_days``; None before issue 12)."""

    version: int | None
    retention_days: int
    purge_retention_days: int | None
    segments: int


@dataclass(frozen=True)
class SegmentRetention:
    """One segment of the period and the retention in force for it (JSON and CSV only:
    a month holds thousands; the HTML and PDF group them)."""

    segment_id: str
    camera_id: str
    recorded_start: datetime
    recorded_end: datetime
    retention_days: int
    retention_version: int | None
    deadline: datetime
    keep_until: datetime | None  # after flags; None: an open-ended flag (older ledgers)
    status: str
    purged_at: datetime | None
    purge_retention_days: int | None
    purge_policy_version: int | None
    # why it is listed: recorded, purged, viewed, flagged, held (in the period or now)
    listed_for: tuple[str, ...]


TIMELINE_STATUSES = ("retained", "purged", "flagged", "held", "overdue")


@dataclass(frozen=True)
class TimelineBar:
    recorded_start: datetime
    recorded_end: datetime
    status: str  # one of TIMELINE_STATUSES


@dataclass(frozen=True)
class CameraTimeline:
    camera_id: str
    bars: tuple[TimelineBar, ...]


@dataclass(frozen=True)
class Retention:
    settings: RetentionSettings
    counts: RetentionCounts
    held: tuple[HeldSegment, ...]
    overdue: tuple[OverdueSegment, ...]
    timeline: tuple[CameraTimeline, ...]
    by_version: tuple[RetentionGroup, ...] = ()
    purges: tuple[PurgeGroup, ...] = ()
    segments: tuple[SegmentRetention, ...] = ()


@dataclass(frozen=True)
class Viewing:
    name: str
    role: str
    viewed_at: datetime
    purpose: str
    reason: str
    remote: bool
    segment_id: str
    # Every recorded segment is archived footage (R16); ledgers from before issue 12 may
    # hold a staff member's view of a recent segment recorded as not archived.
    archived: bool
    # the retention in force for the segment viewed (R13, R28)
    retention_days: int | None = None
    retention_version: int | None = None
    # the delegation the viewer acted under as acting Director (R3); "" when none
    acting: str = ""


@dataclass(frozen=True)
class StaffNote:
    """A viewing or flag whose purpose named staff, allowed on the Director's note (R16a)."""

    name: str
    at: datetime
    act: str
    segment_id: str
    stated: str
    note: str


@dataclass(frozen=True)
class RefusedAccess:
    name: str
    role: str
    at: datetime
    rule_id: str
    message: str
    # False: made under a name whose key was not unlocked; the service signed the record
    # (R25). Shown "(not signed in)" beside the role (red team, session 14).
    signed_in: bool = True


@dataclass(frozen=True)
class Access:
    viewings: tuple[Viewing, ...]
    refused: tuple[RefusedAccess, ...]
    staff_notes: tuple[StaffNote, ...] = ()


@dataclass(frozen=True)
class DisclosureRow:
    request_id: str
    received_at: datetime
    requester_kind: str
    basis: str
    decision: str
    decided_at: datetime | None
    hours_to_decision: float | None
    reasons: str
    released_fields: tuple[str, ...]
    acknowledgement: str
    follow_up: str
    foia_due: datetime | None
    legal_basis: str = ""  # the order's structured scope (R7) or the signed Appendix 9 (R10)
    refused_at_intake: tuple[str, ...] = ()  # asked, refused on intake by rule (R9, R10)
    footage_redaction: str | None = None


@dataclass(frozen=True)
class Disclosures:
    rows: tuple[DisclosureRow, ...]
    by_requester_kind: dict[str, int]
    by_basis: dict[str, int]


@dataclass(frozen=True)
class RefusalRow:
    at: datetime
    actor: str
    role: str
    action: str
    rule_id: str
    message: str
    signed_in: bool = True  # as ``RefusedAccess.signed_in``
    acting: str = ""  # as ``Viewing.acting``


@dataclass(frozen=True)
class PolicyVersionRow:
    """An adopted policy version that was in force in the period or adopted in it (R28)."""

    version: int
    profile: str
    approved_by: str
    approval_ref: str
    effective_date: date
    effective_at: datetime
    adopted_at: datetime
    adopted_by: str
    text_sha256: str
    params_sha256: str
    retention_days: int
    in_force_in_period: bool
    adopted_in_period: bool
    # what the version sets for footage, as the report prints it (R13, R16)
    flag_max_days: int = 0
    archive_viewer_roles: tuple[str, ...] = ()
    counsel_review_gates_release: bool = False
    # segments whose recording began in the period and that were captured under it
    segments_captured: int = 0


@dataclass(frozen=True)
class CitedRule:
    """A rule a refusal of the period cited, with its words (``custodes rules``)."""

    rule_id: str
    source: str
    summary: str


@dataclass(frozen=True)
class Policy:
    versions: tuple[PolicyVersionRow, ...] = ()
    cited_rules: tuple[CitedRule, ...] = ()


@dataclass(frozen=True)
class ComplianceReport:
    header: ReportHeader
    attention: tuple[AttentionItem, ...]
    integrity: Integrity
    cameras: Cameras
    retention: Retention
    access: Access
    disclosures: Disclosures
    refusals: tuple[RefusalRow, ...]
    schema_version: str = field(default=SCHEMA_VERSION)
    policy: Policy = field(default_factory=Policy)  # the versions in force (R28)
    # For each disclosure row, its log entries with inclusion proofs against the
    # integrity checkpoint (ledger.report_proofs; JSON only, docs/REPORTS.md).
    proofs: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.check_valid()

    def check_valid(self) -> None:
        try:
            ZoneInfo(self.header.site_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidReport(
                f"Site time zone {self.header.site_timezone!r} is not an IANA zone name "
                "(e.g. 'America/Chicago')."
            ) from None
        if self.header.period_from > self.header.period_to:
            raise InvalidReport(
                f"Report period starts {self.header.period_from} after it ends "
                f"{self.header.period_to}."
            )
        for item in self.attention:
            if item.severity not in SEVERITIES:
                raise InvalidReport(
                    f"Attention item {item.subject_id!r} has severity {item.severity!r}; "
                    f"use one of {', '.join(SEVERITIES)}."
                )
        for line in self.retention.timeline:
            for bar in line.bars:
                if bar.status not in TIMELINE_STATUSES:
                    raise InvalidReport(
                        f"Timeline bar of camera {line.camera_id!r} has status "
                        f"{bar.status!r}; use one of {', '.join(TIMELINE_STATUSES)}."
                    )
        _check_aware(self, "report")


_SEGMENT_TIMES = ("recorded_start", "recorded_end", "deadline", "keep_until", "purged_at")


def _check_aware(value: Any, where: str) -> None:
    # R24: times are UTC inside; a naive time would be shown in the wrong zone.
    if isinstance(value, SegmentRetention):  # thousands a month: its times directly
        for name in _SEGMENT_TIMES:
            moment = getattr(value, name)
            if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
                raise InvalidReport(
                    f"{where}.{name} is a naive datetime; give it a time zone (UTC)."
                )
        return
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidReport(f"{where} is a naive datetime; give it a time zone (UTC).")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _check_aware(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            _check_aware(item, f"{where}[{i}]")


# --- Shared by the renderers ------------------------------------------------------------


def site_zone(report: ComplianceReport) -> ZoneInfo:
    return ZoneInfo(report.header.site_timezone)


# A no-break space keeps a time with its zone label when a narrow table cell wraps.
NBSP = "\u00a0"


def local_datetime(moment: datetime | None, zone: ZoneInfo) -> str:
    """``2026-10-14 09:05 CDT``: site time with the label in force then (R24)."""
    return sitetime.show(moment, zone, sep=NBSP)


def local_date(moment: datetime, zone: ZoneInfo) -> str:
    return sitetime.show_date(moment, zone)


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return sitetime.show_time(moment, zone, sep=NBSP)


def local_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """A recording's span, with seconds when it has them (a five-second clip)."""
    return sitetime.show_span(start, end, zone, sep=NBSP)


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def period_text(report: ComplianceReport) -> str:
    h = report.header
    return f"{h.period_from.isoformat()} to {h.period_to.isoformat()}"


def write_atomically(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> Path:
    """Write a report file by the rules of ``ledger.outfiles``: never through a symbolic
    link, never over an existing file unless ``force``, whole or not at all, 0600 (a
    report holds names and reasons)."""
    try:
        return write_bytes(path, data, force=force, mode=PRIVATE)
    except (OutputRefused, OutputFailed) as e:
        raise OutputNotWritable(f"Cannot write the report: {e}") from e
