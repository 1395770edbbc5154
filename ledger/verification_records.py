"""Which whole-chain verification ran, when, by whom and with what outcome (R21, R23).

A verification is recorded as an act like any other (signed by the member who asked
for it, or by the service identity for an unattended ``custodes verify``), so the
dashboard's "last verified" survives a restart and is shared with cron: it cannot be
made to read "ok" without a staff or service key, and removing one breaks the chain.
"""

from __future__ import annotations

from datetime import datetime

from ledger.domain import LedgerAggregate


class VerificationRecord(LedgerAggregate):
    class LedgerVerified(LedgerAggregate.Created):
        ok: bool
        entries: int  # entries that verified (before the damage, when there is some)
        acts: int
        head: str  # hex entry hash of the last entry that verified
        deep: bool
        problem: str  # "" when ok; else the first damage, as `custodes verify` prints it
        via: str  # "web" or "command line"
        os_user: str  # the OS account that ran the check

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        ok: bool,
        entries: int,
        acts: int,
        head: str,
        deep: bool,
        problem: str,
        via: str,
        os_user: str,
    ) -> None:
        self.ok = ok
        self.entries = entries
