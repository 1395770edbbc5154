"""Which compliance report or disclosure register was handed out, over which signed
checkpoint (R23, R24).

A lawyer reading the history years later can match the document the board was given
(by its SHA-256) to the ledger state it described (the checkpoint's size and root).
"""

from __future__ import annotations

from datetime import datetime

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


class IssuedRegister(LedgerAggregate):
    """A disclosure register handed out (``report disclosures --json --prove``): what it
    covers and which requests it listed, so that a register a lawyer holds is matched to
    its issuance, and one that left a request out shows it beside the ledger's requests."""

    class DisclosureRegisterIssued(LedgerAggregate.Created):
        # the requests opened at or after ``since`` and before ``until`` (None: no bound)
        since: datetime | None
        until: datetime | None
        as_of: datetime | None
        output_sha256: str
        checkpoint_size: int
        checkpoint_root: str
        refs: list[str]  # the requests it listed, in its order

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        since: datetime | None,
        until: datetime | None,
        as_of: datetime | None,
        output_sha256: str,
        checkpoint_size: int,
        checkpoint_root: str,
        refs: list[str],
    ) -> None:
        self.output_sha256 = output_sha256
