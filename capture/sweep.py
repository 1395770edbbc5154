"""The retention sweep (R13-R15): destroy what is due, confirm it is gone, then record it.

The candidates come from the retention projection (never a replay); for each one the
ledger decides again from the segment's own events (a hold placed a moment ago counts).

Order per segment, and what a crash at each point leaves:

0. Audit: every stored segment's blob and key must be in the vault unless a purge is in
   progress (``capture.audit``); one gone without that is recorded ``FootageFoundMissing``
   (FOOTAGE-FOUND-MISSING) -- never as a purge -- and is not purged.
1. ``check_purge``: still due, no active hold or flag, not recorded missing. Crash:
   nothing happened.
2. ``Vault.destroy(keep_marker=True)``: the data key moves to ``shredding/`` and is zeroed
   there FIRST, then the encrypted blob is unlinked; the zeroed key stays in
   ``shredding/`` as the note "purge in progress". Crash anywhere from the move on: the
   note is there.
3. Confirm blob and key are both gone (the note zeroed); otherwise stop without
   recording anything (a purge is never recorded for a file that still exists).
4. Record ``FootagePurged`` -- for a batch of segments (``BATCH``) in one save, once
   each of them has been confirmed -- then remove the notes. Crash before the save: the
   next run finds the notes, finishes the destroys and records them, marked
   ``completed_after_interruption``; crash after it: the next run removes the notes.

So after the next run there is never a deleted file without its event, never an event
for a file that exists, and a file deleted by hand is never taken for a purge.

Viewing copies (R16b): before step 2 every decrypted copy of the segment still tracked
is taken (``capture.viewing.take_copies``: renamed beside itself) and confirmed gone from
its path (else nothing is destroyed), recorded with the purge, and removed once recorded;
a stop before step 2 puts the copies back, one after it leaves them taken for the run
that completes the purge to find and record.
``capture.viewing.sweep_copies`` runs first in the same command: copies whose viewing
session ended are destroyed and recorded, and files in ``viewing/`` the ledger does not
hold as copies (strays) removed and reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from capture.audit import VaultFinding, audit_vault
from capture.errors import CaptureError, DestroyIncomplete
from capture.vault import Vault
from capture.viewing import discard_copies, put_back_copies, take_copies
from ledger import sitetime
from ledger.app import Ledger
from ledger.errors import (
    NOTHING_DESTROYED,
    NOTHING_RECORDED,
    ClockBehind,
    ClockDisagrees,
    LedgerError,
    ServerClockReplaced,
)
from ledger.retention_commands import SWEEPERS, MissingRecord, PurgeBlocked, PurgeRecord
from ledger.rules import SERVICE_SCOPE
from ledger.text import counted

Status = Literal[
    "purged", "completed", "missing", "skipped", "failed", "would purge", "would record missing"
]
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
    # why the run stopped between batches (the clock changed), its outcomes so far kept
    stopped: str | None = None

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
    stored: Sequence[PurgeCandidate] = (),
) -> SweepResult:
    """Purge each due candidate. ``fail_at(step, segment_id)`` is called after each step
    in ``STEPS`` (tests raise there to simulate a crash).

    ``interrupted`` are segments whose purge an earlier run began (their keys are in
    the vault's ``shredding/``): they are finished and recorded first, whatever was
    decided since -- a hold placed after the destroy began cannot bring the footage back,
    and the ledger must say it is gone. ``stored`` are the other segments the ledger
    holds as stored: audited with the candidates, none of them touched."""
    # before any file: a clock the ledger would not record by, or that another contradicts
    now = ledger.check_clock_to_destroy()
    ledger.authorize(actor, "retention sweep", SWEEPERS, SERVICE_SCOPE)  # once, before any file
    run_id = f"sweep-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    outcomes: list[PurgeOutcome] = []
    if not dry_run:
        outcomes += _finish_interrupted(ledger, vault, interrupted, actor, now, run_id)
    finished = {c.segment_id for c in interrupted} | {o.segment_id for o in outcomes}
    findings = audit_vault(
        vault, [c for c in (*candidates, *stored) if c.segment_id not in finished]
    )
    outcomes += _record_missing(ledger, findings, run_id, actor, dry_run)
    missing = {f.segment_id for f in findings}
    candidates = [c for c in candidates if c.segment_id not in finished | missing]
    for first in range(0, len(candidates), max(1, batch)):
        chunk = candidates[first : first + max(1, batch)]
        if first:  # and again before each batch: a clock stepped meanwhile (NTP) stops the run
            try:
                now = ledger.check_clock_to_destroy()
            except (ClockBehind, ClockDisagrees, ServerClockReplaced) as e:
                # what the earlier batches did stands, and is reported (the session 18
                # review: a refusal here hid their purges behind "nothing was destroyed")
                return SweepResult(
                    run_id, dry_run, tuple(outcomes), _stopped(e, candidates[first:])
                )
        outcomes += _sweep_batch(ledger, vault, chunk, actor, now, run_id, dry_run, fail_at)
        if progress is not None:
            for c in chunk:
                progress(c.segment_id)
    return SweepResult(run_id, dry_run, tuple(outcomes))


def _stopped(error: LedgerError, left: Sequence[PurgeCandidate]) -> str:
    """Why a run stopped before its next batch, saying what was and was not done."""
    done = (
        f"the sweep stopped before its next batch: what is listed above was done and "
        f"recorded, and the {counted(len(left), 'segment')} still due were not touched"
    )
    text = str(error)
    for said in (NOTHING_DESTROYED, NOTHING_RECORDED):
        text = text.replace(said, done)
    return text


def _record_missing(
    ledger: Ledger, findings: Sequence[VaultFinding], run_id: str, actor: str, dry_run: bool
) -> list[PurgeOutcome]:
    """Record what the audit found gone with no purge in progress, in one save."""
    if not findings:
        return []
    if dry_run:
        return [PurgeOutcome(f.segment_id, "would record missing", f.describe()) for f in findings]
    found = [(MissingRecord(f.segment_id, f.blob_missing, f.key_missing), f.describe())
             for f in findings]  # fmt: skip
    return _save_missing(ledger, found, run_id, actor, "recorded")


def _save_missing(
    ledger: Ledger,
    found: Sequence[tuple[MissingRecord, str]],
    run_id: str,
    actor: str,
    recorded_as: str,
) -> list[PurgeOutcome]:
    """Record segments found gone with no purge (each a record and what was found), in
    one save; the outcomes say what was found and whether it was recorded."""
    try:
        recorded = set(ledger.record_found_missing([r for r, _ in found], found_by=run_id,
                                                   actor=actor))  # fmt: skip
    except (LedgerError, OSError) as e:
        return [PurgeOutcome(r.segment_id, "failed", f"{what}; not recorded ({e})")
                for r, what in found]  # fmt: skip
    return [
        PurgeOutcome(r.segment_id, "missing", f"{what}; {recorded_as}")
        for r, what in found
        if r.segment_id in recorded
    ]


def _finish_interrupted(
    ledger: Ledger,
    vault: Vault,
    interrupted: Sequence[PurgeCandidate],
    actor: str,
    now: datetime,
    run_id: str,
) -> list[PurgeOutcome]:
    outcomes: dict[str, PurgeOutcome] = {}
    pending: dict[str, PurgeCandidate] = {c.sha256: c for c in interrupted}
    for sha in vault.interrupted_destroys():
        if sha in pending:
            continue
        info = ledger.find_segment(sha)
        if info is None or info.purged or info.sha256 != sha:
            # A note left by a run that stopped after recording its purge, or a key left
            # shredding by an ingest that failed before recording (no segment): finish it.
            vault.destroy(sha)
        else:
            pending[sha] = _Interrupted(info.segment_id, sha)
    # one recorded missing already stays as it was found; one no sweep can have begun (its
    # key moved by hand) is recorded missing, never completed as a purge
    interrupted = [c for c in pending.values() if not ledger.segment_info(c.segment_id).missing]
    by_hand = {
        c.segment_id: why
        for c in interrupted
        if (why := ledger.purge_not_begun_by_a_sweep(c.segment_id)) is not None
    }
    if by_hand:
        found = [
            (
                MissingRecord(c.segment_id, not vault.has_blob(c.sha256), True),
                f"segment {c.segment_id}: its key is in shredding/ but no sweep can have begun "
                f"its purge ({by_hand[c.segment_id]}): moved there outside Custodes",
            )
            for c in interrupted
            if c.segment_id in by_hand
        ]
        for o in _save_missing(ledger, found, run_id, actor,
                               "recorded missing, not purged, and left as found"):  # fmt: skip
            outcomes[o.segment_id] = o
        interrupted = [c for c in interrupted if c.segment_id not in by_hand]
    records: list[PurgeRecord] = []
    for c in interrupted:
        try:
            report = vault.destroy(c.sha256, keep_marker=True)
        except (CaptureError, OSError) as e:
            outcomes[c.segment_id] = PurgeOutcome(
                c.segment_id, "failed", f"segment {c.segment_id}: {e}"
            )
            continue
        method = METHOD_FINISHED if report.blob_removed else METHOD_COMPLETED
        # copies the stopped run took (R16b) are found taken; any still there are taken now
        copies = take_copies(sorted(ledger.viewing_copies(c.segment_id)))
        records.append(PurgeRecord(c.segment_id, method, report.blob_removed, False, True,
                                   tuple(copies.gone), copies.not_found))  # fmt: skip
    shas = {c.segment_id: c.sha256 for c in interrupted}
    _record(ledger, vault, shas, records, run_id, actor, now, None, outcomes)
    return list(outcomes.values())


@dataclass(frozen=True)
class _Interrupted:
    segment_id: str
    sha256: str


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
    shas = {c.segment_id: c.sha256 for c in chunk}
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
    _record(ledger, vault, shas, confirmed, run_id, actor, now, fail_at, outcomes)
    return [outcomes[c.segment_id] for c in chunk]


def _record(
    ledger: Ledger,
    vault: Vault,
    shas: dict[str, str],
    records: Sequence[PurgeRecord],
    run_id: str,
    actor: str,
    now: datetime,
    fail_at: Callable[[str, str], None] | None,
    outcomes: dict[str, PurgeOutcome],
) -> None:
    """Record confirmed purges in one save, then remove their notes in ``shredding/``;
    each one's outcome into ``outcomes``."""
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
        vault.release(shas[r.segment_id])  # recorded (now or before): no longer in progress
        discard_copies(r.copies_destroyed)  # taken by ``take_copies``; recorded now
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
    copies = sorted(ledger.viewing_copies(c.segment_id))
    in_progress = vault.is_shredding(info.sha256)
    if not in_progress and not (vault.has_key(info.sha256) and vault.has_blob(info.sha256)):
        raise DestroyIncomplete(  # the audit found it whole a moment ago
            f"segment {c.segment_id}: a file vanished during the sweep; nothing was "
            "recorded. The next run audits it again."
        )
    if dry_run:
        return PurgeOutcome(
            c.segment_id,
            "would purge",
            f"segment {c.segment_id} ({info.camera_id}, deadline "
            f"{sitetime.show(info.retention_deadline, ledger.site().zone)})",
        )
    step("checked")
    removed = take_copies(copies)  # R16b: at the latest with the purge
    try:
        if removed.left:
            raise DestroyIncomplete(
                f"segment {c.segment_id}: its viewing copy {', '.join(removed.left)} could "
                "not be removed; nothing was destroyed or recorded"
            )
        report = vault.destroy(info.sha256, keep_marker=True)
        step("destroyed")
        if not vault.destroyed(info.sha256):
            raise DestroyIncomplete(
                f"segment {c.segment_id}: a file is still present after destroy; nothing "
                f"was recorded. Check permissions under {vault.root} and run the sweep again."
            )
        step("confirmed")
    except BaseException:
        put_back_copies(removed.removed)
        raise
    completed = in_progress  # an earlier run began this purge and stopped
    method = (
        METHOD if not completed else METHOD_FINISHED if report.blob_removed else METHOD_COMPLETED
    )
    return PurgeRecord(
        c.segment_id, method, report.blob_removed, report.key_destroyed, completed,
        tuple(removed.gone), removed.not_found,
    )  # fmt: skip
