"""Which whole-chain verification passed, when and by whom (R21, R23).

A verification that passed is recorded as an act like any other (signed by the member who
asked for it, or by the service identity for an unattended ``custodes verify``), so the
dashboard's "last verified" survives a restart and is shared with cron: it cannot be
made to read "OK" without a staff or service key, and removing one breaks the chain. A
failed one is never appended to the chain it found damaged (an entry after a truncated
tail would change how the damage shows): it is kept in the data directory
(``ledger.verification_commands.keep_failure``).
"""

from __future__ import annotations

from datetime import datetime

from ledger.domain import LedgerAggregate


class VerificationRecord(LedgerAggregate):
    class LedgerVerified(LedgerAggregate.Created):
        entries: int  # entries that verified: every one before this record
        acts: int
        head: str  # hex entry hash of the last entry that verified
        deep: bool
        via: str  # "web" or "command line"
        os_user: str  # the OS account that ran the check

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        entries: int,
        acts: int,
        head: str,
        deep: bool,
        via: str,
        os_user: str,
    ) -> None:
        self.entries = entries
