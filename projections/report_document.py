"""The compliance report as a document: display blocks (strings in site time) that the HTML
and PDF renderers both lay out, so the two say the same thing in the same order.

Page 1 is for the Director: a plain-language summary (``report_summary``) and what needs
her attention. Then the evidence by topic, each refused attempt once (under Refused
attempts), and the technical proof (hashes, Merkle root, the signed checkpoint) last.
One function per section.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ledger.footage_policy import FLAG_MAX_DAYS
from projections import charts
from projections.compliance_model import (
    AttentionItem,
    ComplianceReport,
    Viewing,
    local_date,
    local_datetime,
    local_span,
    local_time,
    period_text,
    site_zone,
    yes_no,
)
from projections.report_summary import period_words, summarise


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
    "Summary",
    "Needs your attention",
    "Cameras",
    "Footage retention",
    "Footage access",
    "Disclosures",
    "Refused attempts",
    "Policy in force",
    "Proof of integrity",
)


def report_title(report: ComplianceReport) -> str:
    # No dash: the PDF's core font would print an em dash as "--".
    return f"Compliance report: {report.header.library}"


def header_facts(report: ComplianceReport) -> Facts:
    h, zone = report.header, site_zone(report)
    items = [
        ("Period", f"{period_words(h.period_from, h.period_to)} ({period_text(report)})"),
        ("Times", f"site time, {h.site_timezone}; each time carries its zone label"),
        ("Prepared", f"{local_datetime(h.generated_at, zone)} by {h.generated_by}"),
    ]
    if h.as_of:
        items.append(("State as of", f"{local_datetime(h.as_of, zone)} (replayed)"))
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
    """The report's sections in reading order: the summary first, the proof last."""
    zone = site_zone(report)
    return tuple(section(report, zone) for section in _SECTIONS)


def _summary(report: ComplianceReport, zone: ZoneInfo) -> Section:
    summary = summarise(report)
    return Section(
        "summary",
        SECTION_TITLES[0],
        (
            Para(summary.verdict, strong=True),
            Facts("This period", summary.period),
            Para(summary.needs, strong=True),
        ),
    )


def _attention(report: ComplianceReport, zone: ZoneInfo) -> Section:
    return Section(
        "attention",
        SECTION_TITLES[1],
        (
            _table(
                "Items for the Director, most serious first",
                ("Severity", "What to do", "Rule"),
                (0.9, 4.6, 1.9),
                (
                    (i.severity.upper(), i.text, f"{i.rule_id}\n({i.rule_source})")
                    for i in sorted(report.attention, key=_severity_rank)
                ),
                empty="Nothing needs your attention in this period.",
            ),
        ),
    )


def _proof(report: ComplianceReport, zone: ZoneInfo) -> Section:
    g = report.integrity
    verdict = (
        "Verified: every entry's hash chain and the Merkle tree check out."
        if g.verified
        else f"NOT VERIFIED: {g.problem or 'verification failed'}"
    )
    return Section(
        "proof",
        SECTION_TITLES[8],
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
                    ("Report schema", report.schema_version),
                ),
            ),
            Para(
                "The ledger's signed checkpoint (C2SP tlog-checkpoint in a signed note, "
                "Ed25519). Keep it: anyone holding the library's public key can later "
                "prove that the ledger still contains exactly these entries "
                "(custodes verify --against FILE)."
            ),
            Pre(g.checkpoint, "Signed checkpoint"),
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
            *_see_refused(
                len(cams.refused),
                "camera registration",
                "camera registrations",
                ", ".join(sorted({c.camera_id for c in cams.refused})),
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
                    ("Retention", _retention_days(report, s.retention_days)),
                    (
                        "Flags",
                        "name the incident; end within the policy version's bound (the seed "
                        f"policy's {FLAG_MAX_DAYS} days); only the Director extends one",
                    ),
                    (
                        "Archived footage",
                        "every recorded segment (no live window): the roles the policy "
                        "version names, at most the Director and the Business Manager",
                    ),
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
                (1.35, 0.9, 1.4, 1.1, 1.65, 1.2, 0.55, 1.05),
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
    archived = sorted((v for v in a.viewings if v.archived), key=lambda v: v.viewed_at)
    recent = sorted((v for v in a.viewings if not v.archived), key=lambda v: v.viewed_at)
    headers = ("Name", "Role", "Date", "Time", "Purpose and reason", "Remote", "Segment")
    widths = (1.2, 1.2, 1.0, 0.9, 2.45, 0.75, 1.15)
    return Section(
        "access",
        SECTION_TITLES[4],
        (
            Chart(
                charts.viewings_per_week(archived, zone),
                "Bar chart of archived-footage viewings per person per week; the table "
                "below lists each viewing.",
            ),
            _table(
                "Archived-footage viewings: Director and Business Manager only (R16)",
                headers,
                widths,
                (_viewing_row(v, zone) for v in archived),
                empty="No archived footage was viewed.",
            ),
            _table(
                "Viewings recorded as not archived (a former live window; none is allowed, R16)",
                headers,
                widths,
                (_viewing_row(v, zone) for v in recent),
                empty="None: every viewing was of archived footage.",
            ),
            _table(
                "Purposes that named staff, allowed on the Director's note (R16a)",
                ("Name", "Date", "Act", "Segment", "Stated purpose", "Director's note"),
                (1.1, 1.0, 0.6, 1.1, 2.3, 2.3),
                (
                    (n.name, local_date(n.at, zone), n.act, n.segment_id, n.stated, n.note)
                    for n in a.staff_notes
                ),
                empty="No viewing or flag named staff.",
            ),
            *_see_refused(
                len(a.refused),
                "attempt to view or export footage",
                "attempts to view or export footage",
            ),
        ),
    )


def _viewing_row(v: Viewing, zone: ZoneInfo) -> tuple[str, ...]:
    return (
        v.name,
        v.role.replace("_", " "),
        local_date(v.viewed_at, zone),
        local_time(v.viewed_at, zone),
        f"{v.purpose.replace('_', ' ')}: {v.reason}",
        yes_no(v.remote),
        v.segment_id,
    )


def _see_refused(count: int, one: str, many: str, which: str = "") -> tuple[Block, ...]:
    """A pointer, not a copy: each refused attempt is listed once, under Refused attempts."""
    if not count:
        return ()
    named = f" ({which})" if which else ""
    what = f"{one} was" if count == 1 else f"{many} were"
    return (Para(f"{count} {what} refused{named}: see Refused attempts."),)


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
            _table(
                "What each release was checked against (R7, R10)",
                (
                    "Request",
                    "Legal basis: order and its scope, or the signed form",
                    "Refused at intake",
                    "Footage",
                ),
                (1.15, 3.6, 1.6, 1.1),
                (
                    (
                        x.request_id,
                        x.legal_basis or "none recorded",
                        ", ".join(x.refused_at_intake) or "",
                        x.footage_redaction or "",
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


def _retention_days(report: ComplianceReport, days: int) -> str:
    """The days of each policy version in force in the period (R28)."""
    versions = [v for v in report.policy.versions if v.in_force_in_period]
    if not versions:
        return f"{days} days from the end of recording"
    return "; ".join(
        f"{v.retention_days} days from the end of recording (policy version {v.version}, "
        f"for footage captured from {local_date(v.effective_at, site_zone(report))})"
        for v in versions
    )


def _policy(report: ComplianceReport, zone: ZoneInfo) -> Section:
    """The versions in force in the period with their approval, those adopted in it, and
    the words of each rule a refusal cited (R28)."""
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    p = report.policy
    return Section(
        "policy",
        SECTION_TITLES[7],
        (
            _table(
                "Policy versions in force or adopted in the period",
                ("Version", "Approved by", "Approval", "In force from", "Adopted",
                 "Retention", "Text SHA-256"),
                (0.7, 1.3, 1.6, 1.3, 1.6, 0.8, 1.6),
                (
                    (
                        str(v.version) + ("" if v.in_force_in_period else " (adopted, not yet in force)"),
                        v.approved_by,
                        v.approval_ref,
                        dt(v.effective_at),
                        f"{dt(v.adopted_at)} by {v.adopted_by}"
                        + (" (in this period)" if v.adopted_in_period else ""),
                        f"{v.retention_days} days",
                        v.text_sha256[:16],
                    )
                    for v in p.versions
                ),
                empty="No adopted policy version is recorded (a ledger made before R28).",
            ),
            _table(
                "The rules refused attempts cited, in their words",
                ("Rule", "Source", "What it says"),
                (1.4, 1.6, 4.0),
                ((c.rule_id, c.source, c.summary) for c in p.cited_rules),
                empty="Nothing was refused in this period.",
            ),
        ),
    )  # fmt: skip


_SECTIONS = (
    _summary,
    _attention,
    _cameras,
    _retention,
    _access,
    _disclosures,
    _refusals,
    _policy,
    _proof,
)


def _severity_rank(item: AttentionItem) -> tuple[int, str]:
    order = {"violation": 0, "warning": 1, "info": 2}
    return (order[item.severity], item.subject_id)
