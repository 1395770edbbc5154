"""Evidence exports (R17, R18): what left the library, for which request, derived how.

An export is its own aggregate whose id commits to the exported content
(``ledger.evidence.export_id``). Its events record the chain of custody: the request and
recipient, each clip's source hash -> derived hash with the redaction parameters, the
exporter. The package itself is built in ``capture.export``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.domain import LedgerAggregate


def exported_at(now: datetime) -> str:
    """The export time as it appears in the manifest and the content digest."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EvidenceExport(LedgerAggregate):
    class EvidenceExported(LedgerAggregate.Created):
        request_ref: str
        case_number: str | None
        recipient: str
        content_digest: str
        segments: list[str]
        reason: str
        release_inventory_sha256: str

    class ClipDerived(LedgerAggregate.Event):
        segment_id: str
        original_sha256: str
        sha256: str
        file: str
        redaction: dict[str, Any] | None

        def apply(self, aggregate: EvidenceExport) -> None:
            aggregate.clips.append(
                {
                    "segment_id": self.segment_id,
                    "original_sha256": self.original_sha256,
                    "sha256": self.sha256,
                    "file": self.file,
                    "redaction": self.redaction,
                }
            )

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        request_ref: str,
        case_number: str | None,
        recipient: str,
        content_digest: str,
        segments: list[str],
        reason: str,
        release_inventory_sha256: str,
    ) -> None:
        self.request_ref = request_ref
        self.recipient = recipient
        self.content_digest = content_digest
        self.release_inventory_sha256 = release_inventory_sha256
        self.segments = segments
        self.clips: list[dict[str, Any]] = []
