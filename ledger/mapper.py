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
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic

from ledger.staff import CLEAR_TOPICS


class LedgerMapper(Mapper[Any]):
    """The application's mapper (MAPPER_TOPIC=ledger.mapper:LedgerMapper)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clear = Mapper[Any](transcoder=self.transcoder)

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable, so worker processes can decode events (the read models' rebuild):
        the JSON transcoder's compiled scanner is not, so a copy is built from its
        registered transcodings, with the same cipher (its key) and compressor."""
        assert isinstance(self.transcoder, JSONTranscoder)
        transcodings = list(self.transcoder.names.values())
        return (_rebuilt, (type(self), transcodings, self.cipher, self.compressor))

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        if get_topic(type(domain_event)) in CLEAR_TOPICS:
            return self._clear.to_stored_event(domain_event)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        if stored_event.topic in CLEAR_TOPICS:
            return self._clear.to_domain_event(stored_event)
        return super().to_domain_event(stored_event)


def _rebuilt(
    cls: type[LedgerMapper], transcodings: list[Transcoding], cipher: Any, compressor: Any
) -> LedgerMapper:
    transcoder = JSONTranscoder()
    for transcoding in transcodings:
        transcoder.register(transcoding)
    return cls(transcoder=transcoder, cipher=cipher, compressor=compressor)
