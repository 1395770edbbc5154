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
4. Record ``FootagePurged``. Crash before it: the files are gone but no event exists;
   the segment is still due in the projection, so the next run finds blob and key gone
   and records the purge, marked ``completed_after_interruption``.

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
from ledger.app import Ledger
from ledger.errors import LedgerError
from ledger.retention_commands import PurgeBlocked
from ledger.rules import STAFF_ACTIVE

Status = Literal["purged", "completed", "skipped", "failed", "would purge"]
STEPS = ("checked", "destroyed", "confirmed", "recorded")

METHOD = (
    "crypto-shred: per-segment data key zeroed, fsynced and unlinked; encrypted blob "
    "unlinked; both confirmed absent"
)
METHOD_FINISHED = (
    "crypto-shred completed after interruption: data key already destroyed by an earlier "
    "interrupted sweep; encrypted blob unlinked now; both confirmed absent"
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
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
    fail_at: Callable[[str, str], None] | None = None,
) -> SweepResult:
    """Purge each due candidate. ``fail_at(step, segment_id)`` is called after each step
    in ``STEPS`` (tests raise there to simulate a crash)."""
    ledger.authorize(actor, "retention sweep", (), STAFF_ACTIVE, now)  # once, before any file
    run_id = f"sweep-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    outcomes = []
    for c in candidates:
        try:
            outcomes.append(
                _purge_one(
                    ledger,
                    vault,
                    c,
                    actor=actor,
                    now=now,
                    run_id=run_id,
                    dry_run=dry_run,
                    fail_at=fail_at,
                )
            )
        except PurgeBlocked as e:
            outcomes.append(PurgeOutcome(c.segment_id, "skipped", str(e)))
        except (LedgerError, CaptureError, OSError) as e:
            outcomes.append(PurgeOutcome(c.segment_id, "failed", f"segment {c.segment_id}: {e}"))
        if progress is not None:
            progress(c.segment_id)
    return SweepResult(run_id, dry_run, tuple(outcomes))


def _purge_one(
    ledger: Ledger,
    vault: Vault,
    c: PurgeCandidate,
    *,
    actor: str,
    now: datetime,
    run_id: str,
    dry_run: bool,
    fail_at: Callable[[str, str], None] | None,
) -> PurgeOutcome:
    def step(name: str) -> None:
        if fail_at is not None:
            fail_at(name, c.segment_id)

    info = ledger.check_purge(c.segment_id, actor=actor, now=now)
    present = vault.has_blob(info.sha256) or vault.has_key(info.sha256)
    if dry_run:
        what = "would purge" if present else "would record the purge of (files already gone)"
        return PurgeOutcome(
            c.segment_id,
            "would purge",
            f"{what} segment {c.segment_id} ({info.camera_id}, deadline {info.retention_deadline:%Y-%m-%d})",
        )
    step("checked")
    blob_removed = key_destroyed = False
    if present:
        report = vault.destroy(info.sha256)
        blob_removed, key_destroyed = report.blob_removed, report.key_destroyed
    step("destroyed")
    if vault.has_blob(info.sha256) or vault.has_key(info.sha256):
        raise DestroyIncomplete(
            f"segment {c.segment_id}: a file is still present after destroy; nothing was "
            f"recorded. Check permissions under {vault.root} and run the sweep again."
        )
    step("confirmed")
    completed = not key_destroyed  # the key was gone before this run: an earlier run stopped
    ledger.record_purge(
        c.segment_id,
        method=METHOD if not completed else METHOD_FINISHED if blob_removed else METHOD_COMPLETED,
        blob_removed=blob_removed,
        key_destroyed=key_destroyed,
        completed_after_interruption=completed,
        sweep_run=run_id,
        actor=actor,
        now=now,
    )
    step("recorded")
    if completed:
        return PurgeOutcome(
            c.segment_id, "completed", f"segment {c.segment_id}: purge completed after interruption"
        )
    return PurgeOutcome(c.segment_id, "purged", f"segment {c.segment_id}: purged")
