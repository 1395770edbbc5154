"""Which compliance report was handed out, over which signed checkpoint (R23, R24).

A lawyer reading the history years later can match the document the board was given
(by its SHA-256) to the ledger state it described (the checkpoint's size and root).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

from ledger import rules
from ledger.application import LedgerBase
from ledger.domain import LedgerAggregate


class IssuedReport(LedgerAggregate):
    class ComplianceReportIssued(LedgerAggregate.Created):
        # ISO dates (site calendar days): the transcoder stores datetimes, not dates.
        period_from: str
        period_to: str
        as_of: datetime | None
        format: str
        output_sha256: str
        checkpoint_size: int
        checkpoint_root: str

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        period_from: str,
        period_to: str,
        as_of: datetime | None,
        format: str,  # noqa: A002 - the event's field name
        output_sha256: str,
        checkpoint_size: int,
        checkpoint_root: str,
    ) -> None:
        self.output_sha256 = output_sha256


class ReportCommands(LedgerBase):
    def record_report_issued(
        self,
        *,
        period_from: date,
        period_to: date,
        as_of: datetime | None,
        format: str,  # noqa: A002
        output_sha256: str,
        checkpoint_size: int,
        checkpoint_root: str,
        actor: str,
    ) -> None:
        now = self.clock()
        who = self.authorize(
            actor,
            "report compliance",
            ("director", "business_manager", "counsel"),
            rules.STAFF_ROLE,
            subject=f"{period_from}..{period_to}",
        )
        report = IssuedReport._create(
            IssuedReport.ComplianceReportIssued,
            id=uuid4(),
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            period_from=period_from.isoformat(),
            period_to=period_to.isoformat(),
            as_of=as_of,
            format=format,
            output_sha256=output_sha256,
            checkpoint_size=checkpoint_size,
            checkpoint_root=checkpoint_root,
        )
        self.save(report)

    def last_report_issued(self) -> dict[str, object] | None:
        """The latest compliance report handed out and the checkpoint it was signed over
        (the web dashboard's integrity panel), or None."""
        issued = self._events_seen(IssuedReport.ComplianceReportIssued)
        if not issued:
            return None
        last = issued[-1]
        return {
            "at": last.timestamp,  # type: ignore[attr-defined]
            "by": last.actor,  # type: ignore[attr-defined]
            "period_from": last.period_from,  # type: ignore[attr-defined]
            "period_to": last.period_to,  # type: ignore[attr-defined]
            "checkpoint_size": last.checkpoint_size,  # type: ignore[attr-defined]
            "checkpoint_root": last.checkpoint_root,  # type: ignore[attr-defined]
        }
