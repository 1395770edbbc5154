"""The staff directory: who may act, in which role (R23)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ledger.domain import LedgerAggregate, stable_id

ROLES = ("director", "business_manager", "staff", "counsel")


def staff_id(name: str) -> UUID:
    return stable_id("staff", name.strip().casefold())


class StaffMember(LedgerAggregate):
    class StaffMemberAdded(LedgerAggregate.Created):
        name: str
        role: str

    class StaffMemberDeactivated(LedgerAggregate.Event):
        reason: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.active = False

    def __init__(
        self, name: str, role: str, actor: str, actor_role: str, occurred_at: datetime | None
    ) -> None:
        self.name = name
        self.role = role
        self.active = True
        self.added_by = actor
