"""The retention sweep (R13-R15): destroy what is due, confirm it is gone, then record it.

The candidates come from the retention projection (never a replay); for each one the
ledger decides again from the segment's own events (a hold placed a moment ago counts).

Order per segment, and what a crash at each point leaves:

1. ``check_purge``: still due, no active hold or flag. Crash: nothing happened.
2. ``Vault.destroy``: the data key is zeroed, fsynced and unlinked FIRST, then the
   encrypted blob is unlinked. Crash in between: the blob is unreadable ciphertext; the
   next run's destroy removes it.
3. Confirm blob and key are both gone; otherwise stop without recording anything (a
   purge is never recorded for a file that still exists).
4. Record ``FootagePurged`` -- for a batch of segments (``BATCH``) in one save, once
   each of them has been confirmed. Crash before it: the files are gone but no event
   exists; the segments are still due in the projection, so the next run finds blob and
   key gone and records the purge, marked ``completed_after_interruption``.

So after the next run there is never a deleted file without its event, and never an
event for a file that exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from capture.errors import CaptureError, DestroyIncomplete
from capture.vault import Vault
from ledger import sitetime
from ledger.app import Ledger
from ledger.errors import LedgerError
from ledger.retention_commands import SWEEPERS, PurgeBlocked, PurgeRecord
from ledger.rules import SERVICE_SCOPE

Status = Literal["purged", "completed", "skipped", "failed", "would purge"]
STEPS = ("checked", "destroyed", "confirmed", "recorded")
BATCH = 200  # purges recorded per save (one save per segment ran at ~370 segments/s)

METHOD = (
    "crypto-shred: per-segment data key zeroed, fsynced and unlinked; encrypted blob "
    "unlinked; both confirmed absent"
)
METHOD_FINISHED = (
    "crypto-shred completed after interruption: data key destroyed by an earlier "
    "interrupted sweep (finished now if it was still being shredded); encrypted blob "
    "unlinked now; both confirmed absent"
)
METHOD_COMPLETED = (
    "crypto-shred completed after interruption: data key and encrypted blob found already "
    "removed by an earlier interrupted sweep; both confirmed absent"
)


class PurgeCandidate(Protocol):
    """What the sweep needs of a due segment (a ``projections.retention.SegmentRow``)."""

    @property
    def segment_id(self) -> str: ...

    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True)
class PurgeOutcome:
    segment_id: str
    status: Status
    message: str


@dataclass(frozen=True)
class SweepResult:
    run_id: str
    dry_run: bool
    outcomes: tuple[PurgeOutcome, ...]

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def sweep(
    ledger: Ledger,
    vault: Vault,
    candidates: Sequence[PurgeCandidate],
    *,
    actor: str,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
    fail_at: Callable[[str, str], None] | None = None,
    batch: int = BATCH,
    interrupted: Sequence[PurgeCandidate] = (),
) -> SweepResult:
    """Purge each due candidate. ``fail_at(step, segment_id)`` is called after each step
    in ``STEPS`` (tests raise there to simulate a crash).

    ``interrupted`` are segments whose destroy an earlier run began (their keys are in
    the vault's ``shredding/``): they are finished and recorded first, whatever was
    decided since -- a hold placed after the destroy began cannot bring the footage back,
    and the ledger must say it is gone."""
    now = ledger.clock()
    ledger.authorize(actor, "retention sweep", SWEEPERS, SERVICE_SCOPE)  # once, before any file
    run_id = f"sweep-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    outcomes: list[PurgeOutcome] = []
    if not dry_run:
        outcomes += _finish_interrupted(ledger, vault, interrupted, actor, now, run_id)
    finished = {c.segment_id for c in interrupted}
    candidates = [c for c in candidates if c.segment_id not in finished]
    for first in range(0, len(candidates), max(1, batch)):
        chunk = candidates[first : first + max(1, batch)]
        outcomes += _sweep_batch(ledger, vault, chunk, actor, now, run_id, dry_run, fail_at)
        if progress is not None:
            for c in chunk:
                progress(c.segment_id)
    return SweepResult(run_id, dry_run, tuple(outcomes))


def _finish_interrupted(
    ledger: Ledger,
    vault: Vault,
    interrupted: Sequence[PurgeCandidate],
    actor: str,
    now: datetime,
    run_id: str,
) -> list[PurgeOutcome]:
    outcomes: dict[str, PurgeOutcome] = {}
    records = []
    for c in interrupted:
        try:
            report = vault.destroy(c.sha256)
        except (CaptureError, OSError) as e:
            outcomes[c.segment_id] = PurgeOutcome(
                c.segment_id, "failed", f"segment {c.segment_id}: {e}"
            )
            continue
        method = METHOD_FINISHED if report.blob_removed else METHOD_COMPLETED
        records.append(PurgeRecord(c.segment_id, method, report.blob_removed, False, True))
    # A key left shredding by an ingest that failed before recording has no segment.
    for sha in set(vault.interrupted_destroys()) - {c.sha256 for c in interrupted}:
        vault.destroy(sha)
    _record(ledger, records, run_id, actor, now, None, outcomes)
    return [outcomes[c.segment_id] for c in interrupted if c.segment_id in outcomes]


def _sweep_batch(
    ledger: Ledger,
    vault: Vault,
    chunk: Sequence[PurgeCandidate],
    actor: str,
    now: datetime,
    run_id: str,
    dry_run: bool,
    fail_at: Callable[[str, str], None] | None,
) -> list[PurgeOutcome]:
    """Destroy and confirm each segment of the chunk, then record the confirmed ones in
    one save. Outcomes come back in the chunk's order."""
    outcomes: dict[str, PurgeOutcome] = {}
    confirmed: list[PurgeRecord] = []
    for c in chunk:
        try:
            done = _destroy_one(ledger, vault, c, actor=actor, now=now, dry_run=dry_run,
                                fail_at=fail_at)  # fmt: skip
        except PurgeBlocked as e:
            outcomes[c.segment_id] = PurgeOutcome(c.segment_id, "skipped", str(e))
            continue
        except (LedgerError, CaptureError, OSError) as e:
            outcomes[c.segment_id] = PurgeOutcome(
                c.segment_id, "failed", f"segment {c.segment_id}: {e}"
            )
            continue
        if isinstance(done, PurgeOutcome):
            outcomes[c.segment_id] = done
        else:
            confirmed.append(done)
    _record(ledger, confirmed, run_id, actor, now, fail_at, outcomes)
    return [outcomes[c.segment_id] for c in chunk]


def _record(
    ledger: Ledger,
    records: Sequence[PurgeRecord],
    run_id: str,
    actor: str,
    now: datetime,
    fail_at: Callable[[str, str], None] | None,
    outcomes: dict[str, PurgeOutcome],
) -> None:
    """Record confirmed purges in one save; each one's outcome into ``outcomes``."""
    if not records:
        return
    try:
        recorded = set(ledger.record_purges(records, sweep_run=run_id, actor=actor))
    except (LedgerError, OSError) as e:
        for r in records:
            outcomes[r.segment_id] = PurgeOutcome(
                r.segment_id,
                "failed",
                f"segment {r.segment_id}: files destroyed but the purge was not recorded "
                f"({e}); the next sweep records it",
            )
        return
    for r in records:
        if fail_at is not None:
            fail_at("recorded", r.segment_id)
        if r.segment_id not in recorded:
            outcome = PurgeOutcome(
                r.segment_id, "skipped", f"segment {r.segment_id} is purged already"
            )
        elif r.completed_after_interruption:
            outcome = PurgeOutcome(
                r.segment_id,
                "completed",
                f"segment {r.segment_id}: purge completed after interruption",
            )
        else:
            outcome = PurgeOutcome(r.segment_id, "purged", f"segment {r.segment_id}: purged")
        outcomes[r.segment_id] = outcome


def _destroy_one(
    ledger: Ledger,
    vault: Vault,
    c: PurgeCandidate,
    *,
    actor: str,
    now: datetime,
    dry_run: bool,
    fail_at: Callable[[str, str], None] | None,
) -> PurgeOutcome | PurgeRecord:
    """Check, destroy and confirm one segment; what to record (or the dry run's answer)."""

    def step(name: str) -> None:
        if fail_at is not None:
            fail_at(name, c.segment_id)

    info = ledger.check_purge(c.segment_id, actor=actor)
    present = vault.has_any_file(info.sha256)
    if dry_run:
        what = "would purge" if present else "would record the purge of (files already gone)"
        return PurgeOutcome(
            c.segment_id,
            "would purge",
            f"{what} segment {c.segment_id} ({info.camera_id}, deadline "
            f"{sitetime.show(info.retention_deadline, ledger.site().zone)})",
        )
    step("checked")
    blob_removed = key_destroyed = False
    if present:
        report = vault.destroy(info.sha256)
        blob_removed, key_destroyed = report.blob_removed, report.key_destroyed
    step("destroyed")
    if vault.has_any_file(info.sha256):
        raise DestroyIncomplete(
            f"segment {c.segment_id}: a file is still present after destroy; nothing was "
            f"recorded. Check permissions under {vault.root} and run the sweep again."
        )
    step("confirmed")
    completed = not key_destroyed  # the key was gone before this run: an earlier run stopped
    method = METHOD if not completed else METHOD_FINISHED if blob_removed else METHOD_COMPLETED
    return PurgeRecord(c.segment_id, method, blob_removed, key_destroyed, completed)
