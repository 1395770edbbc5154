"""Recording which compliance report was handed out (R23, R24). The aggregate is
``ledger.report_records.IssuedReport``, imported where it is used: a command that issues
no report (a footage act) does not build its event classes (issue 16).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

from ledger import rules
from ledger.application import LedgerBase


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
        from ledger.report_records import IssuedReport

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

    def report_issued_as(self, output_sha256: str) -> dict[str, object] | None:
        """The issuance of the compliance report whose file has this SHA-256 (who, when,
        its period and checkpoint), or None: ``verify-report --events`` binds a whole
        file by it. Reads only those events (their topic), not the whole log."""
        from ledger.report_records import IssuedReport

        for e in self._events_seen(IssuedReport.ComplianceReportIssued):
            if e.output_sha256 == output_sha256:  # type: ignore[attr-defined]
                return {
                    "at": e.timestamp,  # type: ignore[attr-defined]
                    "by": e.actor,  # type: ignore[attr-defined]
                    "period_from": e.period_from,  # type: ignore[attr-defined]
                    "period_to": e.period_to,  # type: ignore[attr-defined]
                    "checkpoint_size": e.checkpoint_size,  # type: ignore[attr-defined]
                }
        return None

    def last_report_issued(self) -> dict[str, object] | None:
        """The latest compliance report handed out and the checkpoint it was signed over
        (the web dashboard's integrity panel), or None."""
        from ledger.report_records import IssuedReport

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
