"""The footage vault audited against the ledger (issue 14, finding 2; R15).

Every segment the ledger holds as stored (captured, neither purged nor recorded missing)
must have its encrypted file and its key in the vault -- unless a purge is in progress,
which the sweep marks by keeping the segment's (zeroed) key in ``shredding/`` until the
purge is recorded. A file or key gone without that mark was destroyed outside Custodes
(by hand, a script, a disk fault): that is what the audit reports. The retention sweep
records each finding once as ``FootageFoundMissing`` -- never as a purge, never as
"completed after interruption" -- and `custodes verify` and the compliance report show
what is found and not yet recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from capture.vault import Vault, open_vault
from ledger.retention_commands import MissingRecord


class Stored(Protocol):
    """A segment the ledger holds as stored (a ``projections.retention.DueSegment``)."""

    @property
    def segment_id(self) -> str: ...

    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True)
class VaultFinding:
    segment_id: str
    sha256: str
    blob_missing: bool
    key_missing: bool

    @property
    def what(self) -> str:
        if self.blob_missing and self.key_missing:
            return "its encrypted file and its key are"
        return "its encrypted file is" if self.blob_missing else "its key is"

    def describe(self) -> str:
        return (
            f"segment {self.segment_id}: {self.what} missing from the vault and no purge is "
            "in progress or recorded: the footage was destroyed outside Custodes "
            "(FOOTAGE-FOUND-MISSING, R15). Find out how; the retention sweep records it as "
            "FootageFoundMissing, never as a purge"
        )


def audit_vault(vault: Vault, stored: Iterable[Stored]) -> list[VaultFinding]:
    """The stored segments whose blob or key is gone with no purge in progress."""
    blobs, keys, in_progress = vault.inventory()
    findings = []
    seen: set[str] = set()
    for segment in stored:
        sha = segment.sha256
        if sha in seen or sha in in_progress:
            continue
        seen.add(sha)
        blob, key = sha in blobs, sha in keys
        if not (blob and key):
            findings.append(VaultFinding(segment.segment_id, sha, not blob, not key))
    return findings


def unrecorded_findings(ledger: Any, stored: Sequence[Stored]) -> list[VaultFinding]:
    """The vault audited against the ledger: ``stored`` (the retention read model's
    stored segments) whose file or key is gone with no purge in progress, and not yet
    recorded as purged or missing (the ledger itself decides: a purge recorded since the
    read model was read is fine)."""
    if not stored:
        return []
    findings = audit_vault(open_vault(ledger), stored)
    return [
        f
        for f in findings
        if not ledger.segment_info(f.segment_id).purged
        and not ledger.segment_info(f.segment_id).missing
    ]


def record_findings(
    ledger: Any, stored: Callable[[], Sequence[Stored]], *, actor: str, found_by: str
) -> list[str]:
    """What the vault audit finds now (``unrecorded_findings`` of ``stored()``), recorded
    ``FootageFoundMissing`` by ``actor`` in one save when they may record it (the
    Director, an acting Director, the service: ``may_record_found_missing``, asked without
    a refusal recorded); the segment ids recorded, none for anyone else.

    ``stored()`` must be read checked against the seals (R29), as the sweep reads it: a
    row forged in the read model (another ``sha256``) would otherwise record intact
    footage as destroyed, never to be purged (red team, session 28). Nothing is recorded
    when every stored segment is gone at once (more than one): a vault not mounted reads
    so.

    A compliance report records what it finds (once its read checked out) and reads
    again, so each finding rests on an event its checkpoint signs and ``verify-report
    --events`` holds the report to it: a finding taken out of the report fails (a
    finding only listed, "not yet recorded", rests on no event and could be taken out
    unseen)."""
    if not ledger.may_record_found_missing(actor):
        return []  # the stored segments not even read
    segments = stored()
    found = unrecorded_findings(ledger, segments)
    if not found or (len(found) > 1 and len(found) == len({s.sha256 for s in segments})):
        # every stored segment gone at once: the vault is more likely unmounted or moved
        # than destroyed; a report records nothing then and lists them (the sweep judges)
        return []
    records = [MissingRecord(f.segment_id, f.blob_missing, f.key_missing) for f in found]
    return list(ledger.record_found_missing(records, found_by=found_by, actor=actor))
