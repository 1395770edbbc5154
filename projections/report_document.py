"""The compliance report as a document: display blocks (strings in site time) that the HTML
and PDF renderers both lay out, so the two say the same thing in the same order: what
needs the Director's attention first, the signed checkpoint last. One function per
section.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from projections import charts
from projections.compliance_model import (
    ComplianceReport,
    local_date,
    local_datetime,
    local_span,
    local_time,
    period_text,
    site_zone,
    yes_no,
)


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths (PDF)
    empty: str = "None in this period."
    compact: bool = False  # a narrow table (two columns of counts)


@dataclass(frozen=True)
class Facts:
    """Label/value pairs (a definition list on screen, a two-column block on paper)."""

    caption: str
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt: str


@dataclass(frozen=True)
class Para:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Pre:
    text: str
    label: str


Block = Table | Facts | Chart | Para | Pre


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


SECTION_TITLES = (
    "Needs your attention",
    "Ledger integrity",
    "Cameras",
    "Footage retention",
    "Archived-footage access",
    "Disclosures",
    "Refused attempts",
    "Signed checkpoint",
)


def report_title(report: ComplianceReport) -> str:
    return f"Compliance report \u2014 {report.header.library}"


def header_facts(report: ComplianceReport) -> Facts:
    h, zone = report.header, site_zone(report)
    items = [
        ("Period", period_text(report)),
        ("Site time zone", f"{h.site_timezone} (times below are site time)"),
        ("Generated", f"{local_datetime(h.generated_at, zone)} by {h.generated_by}"),
        (
            "State as of",
            local_datetime(h.as_of, zone) if h.as_of else "current (not replayed)",
        ),
        ("Schema", report.schema_version),
    ]
    return Facts("Report", tuple(items))


def _table(
    caption: str,
    headers: tuple[str, ...],
    widths: tuple[float, ...],
    rows: Iterable[Iterable[str]],
    empty: str = "None in this period.",
    compact: bool = False,
) -> Table:
    return Table(caption, headers, tuple(tuple(r) for r in rows), widths, empty, compact)


def report_sections(report: ComplianceReport) -> tuple[Section, ...]:
    """The report's sections in reading order: attention first, the checkpoint last."""
    zone = site_zone(report)
    return tuple(section(report, zone) for section in _SECTIONS)


def _attention(report: ComplianceReport, zone: ZoneInfo) -> Section:
    return Section(
        "attention",
        SECTION_TITLES[0],
        (
            _table(
                "Items for the Director, most serious first",
                ("Severity", "Rule", "Subject", "What"),
                (0.9, 1.9, 1.1, 3.4),
                (
                    (i.severity.upper(), f"{i.rule_id}\n({i.rule_source})", i.subject_id, i.text)
                    for i in sorted(report.attention, key=_severity_rank)
                ),
                empty="Nothing needs your attention in this period.",
            ),
        ),
    )


def _integrity(report: ComplianceReport, zone: ZoneInfo) -> Section:
    g = report.integrity
    verdict = (
        "Verified: every entry's hash chain and the Merkle tree check out."
        if g.verified
        else f"NOT VERIFIED: {g.problem or 'verification failed'}"
    )
    return Section(
        "integrity",
        SECTION_TITLES[1],
        (
            Para(verdict, strong=True),
            Facts(
                "Ledger state",
                (
                    ("Entries", f"{g.entries:,}"),
                    ("Chain head", g.chain_head),
                    ("Merkle tree size", f"{g.tree_size:,}"),
                    ("Merkle root", g.merkle_root),
                    ("Public key fingerprint", g.key_fingerprint),
                ),
            ),
            Para("The signed checkpoint is printed in full at the end of this report."),
        ),
    )


def _cameras(report: ComplianceReport, zone: ZoneInfo) -> Section:
    cams = report.cameras
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    return Section(
        "cameras",
        SECTION_TITLES[2],
        (
            _table(
                "Camera registry",
                ("Camera", "Location", "Zone", "Signage attested", "Status", "Registered"),
                (1.1, 2.0, 1.1, 1.2, 0.8, 1.4),
                (
                    (
                        c.camera_id,
                        c.location,
                        c.zone,
                        yes_no(c.signage_attested),
                        c.status,
                        dt(c.registered_at),
                    )
                    for c in cams.rows
                ),
                empty="No cameras are registered.",
            ),
            _table(
                "Refused camera registrations",
                ("Camera", "Who", "When", "Zone", "Rule", "Message"),
                (0.9, 1.1, 1.1, 0.9, 1.7, 2.6),
                (
                    (c.camera_id, c.actor, dt(c.at), c.zone, c.rule_id, c.message)
                    for c in cams.refused
                ),
            ),
        ),
    )


def _retention(report: ComplianceReport, zone: ZoneInfo) -> Section:
    h, r = report.header, report.retention
    s, n = r.settings, r.counts
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    return Section(
        "retention",
        SECTION_TITLES[3],
        (
            Facts(
                "Retention settings",
                (
                    ("Retention", f"{s.retention_days} days from the end of recording"),
                    ("Live window", f"{s.live_window_hours} hours"),
                    (
                        "Schedule authority",
                        s.schedule_authority
                        or "NOT CONFIGURED: purges cite no approved retention schedule",
                    ),
                ),
            ),
            _table(
                "Segments in the period",
                (
                    "Captured",
                    "Purged on time",
                    "Purged late",
                    "Overdue now",
                    "Flagged",
                    "Held",
                ),
                (1, 1, 1, 1, 1, 1),
                [
                    [
                        str(x)
                        for x in (
                            n.captured,
                            n.purged_on_time,
                            n.purged_late,
                            n.overdue_now,
                            n.flagged,
                            n.held,
                        )
                    ]
                ],
            ),
            Chart(
                charts.retention_timeline(r.timeline, zone, h.period_from, h.period_to),
                "Timeline per camera of recorded segments, shaded by status: retained, "
                "purged, flagged, held or overdue. The tables below list every flagged, "
                "held and overdue segment.",
            ),
            _table(
                "Overdue purges (compliance violations, 50 ILCS 205)",
                ("Segment", "Camera", "Purge deadline", "Days overdue"),
                (1.2, 1.4, 2.0, 1.0),
                (
                    (o.segment_id, o.camera_id, dt(o.deadline), str(o.days_overdue))
                    for o in r.overdue
                ),
                empty="No purge is overdue.",
            ),
            _table(
                "Flagged and held segments",
                (
                    "Segment",
                    "Camera",
                    "Recorded",
                    "Kind",
                    "Reason",
                    "Reference",
                    "Age",
                    "Review by",
                ),
                (1.15, 0.9, 1.4, 1.1, 1.85, 1.2, 0.55, 1.05),
                (
                    (
                        x.segment_id,
                        x.camera_id,
                        local_span(x.recorded_start, x.recorded_end, zone),
                        x.kind.replace("_", " "),
                        x.reason,
                        x.reference,
                        f"{x.age_days} d",
                        local_date(x.review_by, zone) if x.review_by else "",
                    )
                    for x in r.held
                ),
                empty="No segment is flagged or held.",
            ),
        ),
    )


def _access(report: ComplianceReport, zone: ZoneInfo) -> Section:
    a = report.access
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    return Section(
        "access",
        SECTION_TITLES[4],
        (
            Chart(
                charts.viewings_per_week(a.viewings, zone),
                "Bar chart of archived-footage viewings per person per week; the table "
                "below lists each viewing.",
            ),
            _table(
                "Archived-footage viewings (R16)",
                ("Name", "Role", "Date", "Time", "Purpose and reason", "Remote", "Segment"),
                (1.2, 1.2, 1.0, 0.9, 2.45, 0.75, 1.15),
                (
                    (
                        v.name,
                        v.role.replace("_", " "),
                        local_date(v.viewed_at, zone),
                        local_time(v.viewed_at, zone),
                        f"{v.purpose.replace('_', ' ')}: {v.reason}",
                        yes_no(v.remote),
                        v.segment_id,
                    )
                    for v in sorted(a.viewings, key=lambda v: v.viewed_at)
                ),
                empty="No archived footage was viewed.",
            ),
            _table(
                "Refused footage-access attempts",
                ("Name", "Role", "When", "Rule", "Message"),
                (1.1, 1.0, 1.1, 1.9, 3.0),
                (
                    (x.name, x.role.replace("_", " "), dt(x.at), x.rule_id, x.message)
                    for x in a.refused
                ),
            ),
        ),
    )


def _disclosures(report: ComplianceReport, zone: ZoneInfo) -> Section:
    d = report.disclosures
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    return Section(
        "disclosures",
        SECTION_TITLES[5],
        (
            _table(
                "Requests by requester kind",
                ("Requester kind", "Requests"),
                (3, 1),
                ((k.replace("_", " "), str(v)) for k, v in sorted(d.by_requester_kind.items())),
                compact=True,
            ),
            _table(
                "Requests by legal basis",
                ("Legal basis", "Requests"),
                (3, 1),
                ((k.replace("_", " "), str(v)) for k, v in sorted(d.by_basis.items())),
                compact=True,
            ),
            Chart(
                charts.requests_by_basis(d.by_basis),
                "Bar chart of disclosure requests per legal basis; the same counts are in "
                "the table above.",
            ),
            _table(
                "Decisions",
                (
                    "Request",
                    "Received",
                    "Requester",
                    "Basis",
                    "Decision",
                    "Decided",
                    "Hours",
                    "Reasons",
                ),
                (1.3, 1.05, 1.05, 1.05, 0.85, 1.05, 0.65, 2.15),
                (
                    (
                        x.request_id,
                        dt(x.received_at),
                        x.requester_kind.replace("_", " "),
                        x.basis.replace("_", " "),
                        x.decision,
                        dt(x.decided_at),
                        "" if x.hours_to_decision is None else f"{x.hours_to_decision:.1f}",
                        x.reasons,
                    )
                    for x in d.rows
                ),
                empty="No disclosure requests in this period.",
            ),
            _table(
                "Releases, acknowledgements, follow-ups and FOIA clocks",
                ("Request", "Released", "Acknowledgement", "Follow-up", "FOIA deadline"),
                (1.15, 2.6, 1.4, 1.1, 1.3),
                (
                    (
                        x.request_id,
                        ", ".join(x.released_fields) or "nothing",
                        x.acknowledgement,
                        x.follow_up,
                        dt(x.foia_due),
                    )
                    for x in d.rows
                ),
                empty="No disclosure requests in this period.",
            ),
        ),
    )


def _refusals(report: ComplianceReport, zone: ZoneInfo) -> Section:
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    return Section(
        "refusals",
        SECTION_TITLES[6],
        (
            _table(
                "Every refused attempt, in order (R23)",
                ("When", "Actor", "Role", "Action", "Rule", "Message"),
                (1.1, 1.2, 1.0, 1.1, 1.8, 2.8),
                (
                    (dt(x.at), x.actor, x.role.replace("_", " "), x.action, x.rule_id, x.message)
                    for x in sorted(report.refusals, key=lambda x: x.at)
                ),
                empty="Nothing was refused in this period.",
            ),
        ),
    )


def _checkpoint(report: ComplianceReport, zone: ZoneInfo) -> Section:
    g = report.integrity
    return Section(
        "checkpoint",
        SECTION_TITLES[7],
        (
            Para(
                "The ledger's signed checkpoint (C2SP tlog-checkpoint in a signed note, "
                "Ed25519). Keep it: anyone holding the library's public key can later "
                "prove that the ledger still contains exactly these entries."
            ),
            Pre(g.checkpoint, "Signed checkpoint"),
        ),
    )


_SECTIONS = (
    _attention,
    _integrity,
    _cameras,
    _retention,
    _access,
    _disclosures,
    _refusals,
    _checkpoint,
)


def _severity_rank(item) -> tuple[int, str]:
    order = {"violation": 0, "warning": 1, "info": 2}
    return (order[item.severity], item.subject_id)
