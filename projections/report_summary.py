"""Page 1 of the compliance report in plain words: what happened this period, what needs
the Director, and whether the ledger verified. Numbers only from the report itself, so
the summary can never say more than the pages after it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from projections.compliance_model import ComplianceReport


@dataclass(frozen=True)
class Summary:
    verdict: str  # whether the ledger verified, in a sentence
    period: tuple[tuple[str, str], ...]  # what happened: (topic, sentence)
    needs: str  # what needs the Director


def period_words(first: date, last: date) -> str:
    """``1–31 October 2026``, ``29 September to 3 November 2026``, ``2 March 2026``."""
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}\u2013{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"


def summarise(report: ComplianceReport) -> Summary:
    return Summary(_verdict(report), _period(report), _needs(report))


def _verdict(report: ComplianceReport) -> str:
    g = report.integrity
    if not g.verified:
        return f"THE LEDGER DID NOT VERIFY: {g.problem or 'verification failed'}."
    return (
        f"The ledger verified: all {_n(g.entries, 'recorded entry', 'recorded entries')} "
        "are intact, none changed, removed or reordered. The proof is at the end of this "
        "report."
    )


def _period(report: ComplianceReport) -> tuple[tuple[str, str], ...]:
    return (
        ("Cameras", _cameras(report)),
        ("Footage", _footage(report)),
        ("Access", _access(report)),
        ("Disclosure requests", _requests(report)),
        ("Refused attempts", _refused(report)),
    )


def _cameras(report: ComplianceReport) -> str:
    cams = report.cameras
    active = sum(1 for c in cams.rows if c.status == "active")
    refused = f"; {_n(len(cams.refused), 'registration')} refused" if cams.refused else ""
    return f"{_n(active, 'camera')} in service{refused}"


def _footage(report: ComplianceReport) -> str:
    n = report.retention.counts
    purged = n.purged_on_time + n.purged_late
    text = f"{_n(n.captured, 'segment')} recorded; {purged} purged"
    text += f" ({n.purged_late} late)" if n.purged_late else " on time" if purged else ""
    if n.overdue_at_period_end:
        text += f"; {n.overdue_at_period_end} overdue for purge at the end of the period"
    if n.overdue_now:
        text += f"; {n.overdue_now} overdue for purge now"
    if n.flagged or n.held:
        text += f"; {n.flagged} flagged and {n.held} on hold (kept while it lasts)"
    return text


def _access(report: ComplianceReport) -> str:
    viewings = report.access.viewings
    archived = [v for v in viewings if v.archived]
    if archived:
        people = len({v.name for v in archived})
        text = f"{_n(len(archived), 'viewing')} of archived footage by "
        text += _n(people, "person", "people")
    else:
        text = "no archived footage was viewed"
    recent = len(viewings) - len(archived)
    # Every recorded segment is archived footage (R16): a viewing recorded as not
    # archived comes from a former live window and is listed as such.
    return text + (
        f"; {_n(recent, 'viewing')} recorded as not archived (former live window)" if recent else ""
    )


def _requests(report: ComplianceReport) -> str:
    rows = report.disclosures.rows
    if not rows:
        return "none received"
    decisions = Counter(r.decision for r in rows)
    counted = ", ".join(f"{count} {decision}" for decision, count in sorted(decisions.items()))
    return f"{_n(len(rows), 'request')} received: {counted}"


def _refused(report: ComplianceReport) -> str:
    refused = len(report.refusals)
    return f"{refused} refused and recorded" if refused else "none"


def _needs(report: ComplianceReport) -> str:
    severities = Counter(item.severity for item in report.attention)
    if not severities:
        return "Nothing needs your attention in this period."
    parts = [_n(severities[s], s) for s in ("violation", "warning", "info") if severities[s]]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Needs your attention: {listed}, listed next."


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"
