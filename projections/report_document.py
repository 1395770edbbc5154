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
from datetime import datetime
from zoneinfo import ZoneInfo

from ledger import sitetime
from ledger.footage_policy import FLAG_MAX_DAYS
from ledger.policy_params import ARCHIVE_ROLES
from projections import charts
from projections.compliance_model import (
    AttentionItem,
    ComplianceReport,
    HeldSegment,
    PolicyVersionRow,
    RefusalRow,
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
from projections.retention import OVERDUE_AFTER


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
                # judged when the report is made (or at --as-of), not at the period's end:
                # a segment that fell due after the period is overdue now
                "Items for the Director as of "
                f"{sitetime.show(report.header.as_of or report.header.generated_at, zone)}, "
                "most serious first",
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
    at_end = n.overdue_at_period_end
    dt = lambda m: local_datetime(m, zone)  # noqa: E731
    return Section(
        "retention",
        SECTION_TITLES[3],
        (
            Facts(
                "Retention settings",
                (
                    ("Retention", _retention_days(report, s.retention_days)),
                    ("Flags", _flag_bound(report)),
                    ("Archived footage", _archive_roles(report)),
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
                    *(("Overdue at its end",) if at_end is not None else ()),
                    "Overdue now",
                    "Flagged",
                    "Held",
                ),
                (1,) * (6 if at_end is None else 7),
                [
                    [
                        str(x)
                        for x in (
                            n.captured,
                            n.purged_on_time,
                            n.purged_late,
                            *((at_end,) if at_end is not None else ()),
                            n.overdue_now,
                            n.flagged,
                            n.held,
                        )
                    ]
                ],
            ),
            _table(
                "Segments recorded in the period, by the policy version in force when each "
                "recording began (R13, R28)",
                ("Policy version", "Retention", "Segments", "Purged since", "Deadlines"),
                (1.2, 1.1, 0.9, 1.0, 3.8),
                (
                    (
                        _version_text(g.version),
                        f"{g.retention_days} days",
                        str(g.segments),
                        str(g.purged),
                        _deadlines(g.first_deadline, g.last_deadline, zone),
                    )
                    for g in r.by_version
                ),
                empty="No footage was recorded in this period.",
            ),
            _table(
                "Purges recorded in the period, by the retention each segment was kept under",
                (
                    "Policy version at capture",
                    "Retention at capture",
                    "Retention the purge applied",
                    "Segments purged",
                ),
                (1.8, 1.6, 1.9, 1.2),
                (
                    (
                        _version_text(g.version),
                        f"{g.retention_days} days",
                        "not recorded (before issue 12)"
                        if g.purge_retention_days is None
                        else f"{g.purge_retention_days} days",
                        str(g.segments),
                    )
                    for g in r.purges
                ),
                empty="No footage was purged in this period.",
            ),  # fmt: skip
            *_segment_list_pointer(len(r.segments)),
            Chart(
                charts.retention_timeline(r.timeline, zone, h.period_from, h.period_to),
                "Timeline per camera of recorded segments, shaded by status: retained, "
                "purged, flagged, held or overdue. The tables below list every flagged, "
                "held and overdue segment.",
            ),
            _table(
                "Overdue purges (compliance violations, 50 ILCS 205)",
                ("Segment", "Camera", "Retention", "Purge deadline", "Days overdue"),
                (1.2, 1.2, 1.6, 1.8, 0.9),
                (
                    (
                        o.segment_id,
                        o.camera_id,
                        _kept(o.retention_days, o.retention_version),
                        dt(o.deadline),
                        str(o.days_overdue),
                    )
                    for o in r.overdue
                ),  # fmt: skip
                empty="No purge is overdue.",
            ),
            _table(
                "Flagged and held segments",
                (
                    "Segment",
                    "Camera",
                    "Recorded",
                    "Kind and reference",
                    "Reason",
                    "Kept under",
                    "Age",
                    "Review by",
                ),
                (1.2, 0.9, 1.3, 1.55, 1.75, 1.2, 0.5, 1.0),
                (
                    (
                        x.segment_id,
                        x.camera_id,
                        local_span(x.recorded_start, x.recorded_end, zone),
                        f"{x.kind.replace('_', ' ')}: {x.reference}",
                        x.reason + _placed_late(x, zone),
                        _kept(x.retention_days, x.retention_version, x.deadline, zone),
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
                f"Archived-footage viewings: {_archive_viewers(report)} only (R16)",
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
                "attempt to view, export or download footage",
                "attempts to view, export or download footage",
            ),
        ),
    )


def role_shown(role: str, acting: str) -> str:
    """``director (acting, D-20261102-2b14f7)`` for an acting Director's act (R3)."""
    shown = role.replace("_", " ")
    return f"{shown} (acting, {acting})" if acting else shown


def _viewing_row(v: Viewing, zone: ZoneInfo) -> tuple[str, ...]:
    return (
        v.name,
        role_shown(v.role, v.acting),
        local_date(v.viewed_at, zone),
        local_time(v.viewed_at, zone),
        f"{v.purpose.replace('_', ' ')}: {v.reason}",
        yes_no(v.remote),
        v.segment_id
        if v.retention_days is None
        else f"{v.segment_id}\n{_kept(v.retention_days, v.retention_version)}",
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


def _placed_late(x: HeldSegment, zone: ZoneInfo) -> str:
    """Said of a flag or hold placed more than a day after the segment's deadline: the
    footage was overdue before it (R15), however well it is held now."""
    if x.placed_at is None or x.deadline is None or x.placed_at < x.deadline + OVERDUE_AFTER:
        return ""
    days = (x.placed_at - x.deadline).days
    return (
        f" (placed {local_date(x.placed_at, zone)}, {days} day{'s' if days != 1 else ''} "
        "after the deadline: overdue until then)"
    )


def _refused_role(x: RefusalRow) -> str:
    """The role an attempt was made under; "(not signed in)" when its name's key was not
    unlocked, so the service signed its record and nothing shows the person made it."""
    role = role_shown(x.role, x.acting)
    return role if x.signed_in else f"{role} (not signed in)"


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
                    (dt(x.at), x.actor, _refused_role(x), x.action, x.rule_id, x.message)
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


def _in_force(report: ComplianceReport) -> list[PolicyVersionRow]:
    return [v for v in report.policy.versions if v.in_force_in_period]


def _flag_bound(report: ComplianceReport) -> str:
    """The flag bound of each version in force, in its own numbers (R13, R28)."""
    versions = _in_force(report)
    bound = (
        "; ".join(f"{v.flag_max_days} days (policy version {v.version})" for v in versions)
        if versions
        else f"{FLAG_MAX_DAYS} days"
    )
    return f"name the incident; end within {bound}; only the Director extends one"


def _roles(roles: Iterable[str]) -> str:
    """``Director and Business Manager``: the Director first, as the policy names them."""
    ordered = sorted(
        roles,
        key=lambda r: (
            r not in ARCHIVE_ROLES,
            ARCHIVE_ROLES.index(r) if r in ARCHIVE_ROLES else 0,
            r,
        ),
    )
    names = [r.replace("_", " ").capitalize() for r in ordered]
    names = [n.replace("Business manager", "Business Manager") for n in names]
    return " and ".join(names) if len(names) < 3 else ", ".join(names)


def _archive_roles(report: ComplianceReport) -> str:
    """Who views archived footage under each version in force (R16, R28)."""
    versions = _in_force(report)
    who = (
        "; ".join(
            f"the {_roles(v.archive_viewer_roles)} (policy version {v.version})" for v in versions
        )
        if versions
        else f"the {_roles(ARCHIVE_ROLES)}"
    )
    return (
        "every recorded segment (no live window); viewed, copied, exported or released "
        f"only by {who}"
    )


def _archive_viewers(report: ComplianceReport) -> str:
    """The roles that may view archived footage under the versions in force in the period,
    for the viewings table's title (red team, session 14: it named the Director and the
    Business Manager under a Director-only version too)."""
    versions = _in_force(report)
    if not versions:
        return _roles(ARCHIVE_ROLES)
    named = {_roles(v.archive_viewer_roles) for v in versions}
    if len(named) == 1:
        return named.pop()
    return "; ".join(f"{_roles(v.archive_viewer_roles)} (version {v.version})" for v in versions)


def _version_text(version: int | None) -> str:
    return "none recorded" if version is None else f"version {version}"


def _kept(
    days: int | None,
    version: int | None,
    deadline: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> str:
    """``30 days (v1)``, with the deadline when given: the retention in force for one
    segment, recorded at its capture."""
    if not days:
        return ""
    text = f"{days} days" + ("" if version is None else f" (policy v{version})")
    if deadline is not None and zone is not None:
        text += f"; deadline {local_date(deadline, zone)}"
    return text


def _deadlines(first: datetime, last: datetime, zone: ZoneInfo) -> str:
    a, b = local_datetime(first, zone), local_datetime(last, zone)
    return a if a == b else f"{a} to {b}"


def _segment_list_pointer(count: int) -> tuple[Block, ...]:
    if not count:
        return ()
    return (
        Para(
            f"Each of the {count:,} segments recorded, purged or viewed in the period, or "
            "flagged, held or overdue now, is listed with its retention days, policy "
            "version, deadline and status (and, once purged, the days its purge applied) "
            "in this report's JSON (retention.segments) and CSV (retention_segments.csv)."
        ),
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
                (0.7, 1.2, 1.5, 1.3, 1.6, 0.95, 1.65),
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
                "What each version sets, and the footage recorded under it in the period",
                ("Version", "Footage kept", "Flags end within", "Archived footage viewed by",
                 "Counsel review gates release", "Segments recorded"),
                (0.8, 1.1, 1.1, 2.0, 1.2, 1.0),
                (
                    (
                        str(v.version),
                        f"{v.retention_days} days",
                        f"{v.flag_max_days} days",
                        _roles(v.archive_viewer_roles),
                        yes_no(v.counsel_review_gates_release),
                        str(v.segments_captured),
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
