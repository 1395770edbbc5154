"""Recording which compliance report or disclosure register was handed out (R23, R24).
The aggregates are ``ledger.report_records.IssuedReport`` and ``IssuedRegister``, imported
where they are used: a command that issues no report (a footage act) does not build
their event classes (issue 16).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from ledger import rules
from ledger.application import LedgerBase
from ledger.permissions import REPORT_ROLES


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
            REPORT_ROLES,
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

    def record_register_issued(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        as_of: datetime | None,
        output_sha256: str,
        checkpoint_size: int,
        checkpoint_root: str,
        refs: list[str],
        actor: str,
    ) -> None:
        """Record a disclosure register handed out (``report disclosures --json --prove``):
        what it covers, the requests it listed, its SHA-256 and checkpoint. Its rows are
        proven entry by entry; nothing but this record and the ledger's own requests shows
        that a request was left out of it (an outside review, F6)."""
        from ledger.report_records import IssuedRegister

        now = self.clock()
        who = self.authorize(actor, "report disclosures", REPORT_ROLES, rules.STAFF_ROLE)
        register = IssuedRegister._create(
            IssuedRegister.DisclosureRegisterIssued,
            id=uuid4(),
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            since=since,
            until=until,
            as_of=as_of,
            output_sha256=output_sha256,
            checkpoint_size=checkpoint_size,
            checkpoint_root=checkpoint_root,
            refs=refs,
        )
        self.save(register)

    def register_issued_as(self, output_sha256: str) -> Any:
        """The ``DisclosureRegisterIssued`` of the register whose file has this SHA-256, or
        None: ``verify-report --events`` matches the file a lawyer holds to it."""
        from ledger.report_records import IssuedRegister

        return next(
            (
                e
                for e in self._events_seen(IssuedRegister.DisclosureRegisterIssued)
                if e.output_sha256 == output_sha256  # type: ignore[attr-defined]
            ),
            None,
        )

    def report_issued_as(self, output_sha256: str) -> dict[str, object] | None:
        """The issuance of the compliance report whose file has this SHA-256 (who, when,
        its period and checkpoint), or None: ``verify-report --events`` binds a whole
        file by it. Reads only those events (their topic), not the whole log."""
        from ledger.report_records import IssuedReport

        for e in self._events_seen(IssuedReport.ComplianceReportIssued):
            if e.output_sha256 == output_sha256:  # type: ignore[attr-defined]
                return _issued(e)
        return None

    def last_report_issued(self) -> dict[str, object] | None:
        """The latest compliance report handed out and the checkpoint it was signed over
        (the web dashboard's integrity panel), or None."""
        from ledger.report_records import IssuedReport

        issued = self._events_seen(IssuedReport.ComplianceReportIssued)
        return _issued(issued[-1]) if issued else None


def _issued(e: Any) -> dict[str, object]:
    """A ``ComplianceReportIssued`` as the commands show it."""
    return {
        "at": e.timestamp,
        "by": e.actor,
        "period_from": e.period_from,
        "period_to": e.period_to,
        "checkpoint_size": e.checkpoint_size,
        "checkpoint_root": e.checkpoint_root,
        "entry": (e.originator_id, e.originator_version),  # where the log records it
    }
