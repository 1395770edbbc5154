"""Events in clear where an auditor needs them, encrypted everywhere else (R22, R25).

The staff key events (``ledger.staff.CLEAR_TOPICS``: key enrolments and revocations,
delegations to an acting Director) are stored as plain JSON, so ``custodes verify`` and
an outside verifier can tell which key was in force at each position without the events
key. They hold staff names, roles and public keys, nothing about patrons. Every other
event is JSON encrypted with the events key (AES-256-GCM), as before.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from ledger.staff import CLEAR_TOPICS


class LedgerMapper(Mapper[Any]):
    """The application's mapper (MAPPER_TOPIC=ledger.mapper:LedgerMapper)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clear = Mapper[Any](transcoder=self.transcoder)

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        if get_topic(type(domain_event)) in CLEAR_TOPICS:
            return self._clear.to_stored_event(domain_event)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        if stored_event.topic in CLEAR_TOPICS:
            return self._clear.to_domain_event(stored_event)
        return super().to_domain_event(stored_event)
