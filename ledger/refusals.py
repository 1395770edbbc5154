"""Refused attempts are audit data too (R23): each is recorded with the rule that refused it."""

from __future__ import annotations

from datetime import datetime

from ledger.domain import LedgerAggregate


class Refusal(LedgerAggregate):
    class AccessDenied(LedgerAggregate.Created):
        action: str
        subject: str
        rule_id: str
        rule_source: str
        message: str
        authenticated: bool  # False: the claimed name did not unlock a key (R25)

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        action: str,
        subject: str,
        rule_id: str,
        rule_source: str,
        message: str,
        authenticated: bool,
    ) -> None:
        self.actor = actor
        self.action = action
        self.rule_id = rule_id
        self.message = message
