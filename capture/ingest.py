"""Ingest camera segment files: probe, refuse, hash and encrypt into the vault, record.

Order per file, so that nothing is half-recorded (R12, R13):

1. probe (decodes, has frames, no audio); footage with audio is a refused *attempt* and
   is recorded as such (CAMERA-NO-AUDIO); other bad files are reported, nothing recorded;
2. work out the recording start (``--recorded-at``, else the container's creation time,
   else the file name, see :func:`capture.probe.recorded_start_from_name`);
3. hash + encrypt into the vault in one pass (the source stays in place);
4. record ``FootageCaptured``; if recording fails the just-stored blob and key are
   destroyed again;
5. only then remove the source (unless ``keep_source``).

A crash between 3 and 4 leaves a stored blob without an event: ingesting the same file
again finds the blob (same content) and records it ("recorded after interruption").
The same content ingested again when it is recorded already is reported, not duplicated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from capture.errors import (
    AlreadyStored,
    AudioPresent,
    CaptureError,
    NotTheFootage,
    SourceIsLink,
    SourceVanished,
)
from capture.probe import MediaInfo, probe, recorded_start_from_name
from capture.vault import Vault, open_vault
from ledger import sitetime
from ledger.app import Ledger
from ledger.errors import InvalidInput, LedgerError
from ledger.footage import MediaFacts
from ledger.footage_commands import CaptureItem
from ledger.footage_policy import check_audio
from ledger.footage_queries import SegmentInfo

Status = Literal["ingested", "recovered", "duplicate", "refused"]
Hook = Callable[[str], None]

# A file may hold at most this much more than its video stream's own bytes (container
# indexes and headers: about 1-2% for MP4, up to 15% for MPEG-TS) plus PADDING_SLACK for
# the fixed headers of tiny clips. A 2-second clip padded to gigabytes would otherwise be
# stored, hashed and kept as footage (issue 14).
MAX_SIZE_RATIO = 2.0
PADDING_SLACK = 1 << 20
# How far --recorded-at may move a clip from the time it carries (a camera clock off by
# hours); further is bad input (it would keep the clip longer, or take in one past its days).
OVERRIDE_LIMIT = timedelta(days=1)


@dataclass(frozen=True)
class IngestOutcome:
    path: Path
    status: Status
    segment_id: str | None
    message: str


@dataclass(frozen=True)
class IngestSummary:
    outcomes: tuple[IngestOutcome, ...]

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def refused(self) -> tuple[IngestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "refused")


def segment_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the visible regular files directly inside named folders."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            found.append(path)
    return found


def ingest_paths(
    ledger: Ledger,
    paths: Sequence[Path],
    *,
    camera: str,
    actor: str,
    recorded_at: datetime | None = None,
    keep_source: bool = False,
    progress: Callable[[Path], None] | None = None,
    fail_at: Hook | None = None,
    vault: Vault | None = None,
) -> IngestSummary:
    """Ingest files and folders; one bad file neither stops nor half-records the others."""
    ledger.check_capture(camera, actor=actor)
    files = segment_files(paths)
    if recorded_at is not None and len(files) > 1:
        raise InvalidInput(
            "--recorded-at gives the start of ONE recording; for several files the start "
            "comes from each file's metadata or name"
        )
    vault = vault or open_vault(ledger)
    outcomes = []
    for path in files:
        try:
            outcomes.append(
                ingest_file(
                    ledger,
                    vault,
                    path,
                    camera=camera,
                    actor=actor,
                    recorded_at=recorded_at,
                    keep_source=keep_source,
                    fail_at=fail_at,
                )
            )
        except (CaptureError, LedgerError) as e:
            outcomes.append(IngestOutcome(path, "refused", None, str(e)))
        if progress is not None:
            progress(path)
    return IngestSummary(tuple(outcomes))


def ingest_file(
    ledger: Ledger,
    vault: Vault,
    path: Path,
    *,
    camera: str,
    actor: str,
    recorded_at: datetime | None = None,
    keep_source: bool = False,
    fail_at: Hook | None = None,
) -> IngestOutcome:
    """Ingest one file, or raise a CaptureError / LedgerError naming it."""
    now = ledger.clock()
    path = Path(path)
    if path.is_symlink():
        raise SourceIsLink(
            f"{path} is a symbolic link (to {os.readlink(path)}); only real files are "
            "ingested, so that the plaintext removed afterwards is the file that was stored. "
            "Ingest the file it points to instead; nothing was recorded"
        )
    try:
        info = probe(path)
    except AudioPresent:
        decision = check_audio(True)
        message = (
            f"{path.name}: {decision.reason}; turn audio off on the camera or recorder and "
            "export the segment again. Nothing was ingested"
        )
        ledger.refuse_capture(decision.rule, message, subject=path.name, actor=actor)
        raise  # pragma: no cover - refuse_capture raises
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceVanished(
            f"{path}: the file vanished before it was stored; nothing was recorded."
        ) from None
    check_size(path, size, info)
    recovered = False
    try:
        sha256 = vault.ingest(path, move=False).sha256
    except AlreadyStored as e:
        known = ledger.find_segment(e.sha256)
        if known is not None:
            return IngestOutcome(
                path,
                "duplicate",
                known.segment_id,
                f"{path.name}: same content as segment {known.segment_id} (camera "
                f"{known.camera_id}); nothing recorded again",
            )
        sha256, recovered = e.sha256, True  # stored by a run that stopped before recording
    try:
        segment = _record(
            ledger, path, info, sha256, size, camera, recorded_at, actor, now, fail_at
        )
    except Exception:
        if not recovered:
            vault.destroy(sha256)  # nothing half-recorded: no stored file without its event
        raise
    if not keep_source:
        path.unlink(missing_ok=True)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    verb = "recorded after interruption" if recovered else "ingested"
    return IngestOutcome(
        path,
        "recovered" if recovered else "ingested",
        segment.segment_id,
        f"{path.name}: {verb} as segment {segment.segment_id} (recorded "
        f"{sitetime.show_span(segment.recorded_start, segment.recorded_end, ledger.site().zone)}, "
        f"{info.duration_s:.1f} s, {info.width}x{info.height})",
    )


def check_size(path: Path, size: int, info: MediaInfo) -> None:
    """Refuse a file far larger than its video explains (``MAX_SIZE_RATIO``)."""
    allowed = MAX_SIZE_RATIO * info.payload_bytes + PADDING_SLACK
    if size > allowed:
        raise NotTheFootage(
            f"{path.name}: {size:,} bytes, but its {info.duration_s:.1f} s of video hold "
            f"{info.payload_bytes:,} bytes; the rest is not footage (padding, or another "
            f"file appended). A segment may be at most {MAX_SIZE_RATIO:g} times its video "
            "data plus 1 MiB. Export it again from the recorder; nothing was recorded"
        )


def _record(
    ledger: Ledger,
    path: Path,
    info: MediaInfo,
    sha256: str,
    size: int,
    camera: str,
    recorded_at: datetime | None,
    actor: str,
    now: datetime,
    fail_at: Hook | None,
) -> SegmentInfo:
    own = info.creation_time or recorded_start_from_name(path.name)
    if recorded_at is not None and own is not None and abs(recorded_at - own) > OVERRIDE_LIMIT:
        # Red team (session 17): --recorded-at a month after the clip's own time kept it a
        # month longer, and took in a clip already past its deadline.
        raise InvalidInput(
            f"{path}: the clip says it was recorded at {own.isoformat(timespec='seconds')} "
            f"(its creation_time tag or its name); --recorded-at "
            f"{recorded_at.isoformat(timespec='seconds')} is more than a day from that. "
            "--recorded-at is for a clip that carries no time, or a camera clock off by "
            "hours; nothing was recorded"
        )
    start = recorded_at or own
    if start is None:
        raise InvalidInput(
            f"{path}: cannot tell when it was recorded (no creation_time tag, no date-time "
            "in the name such as lobby_20261101T083000Z.mp4); pass --recorded-at ISO-8601"
        )
    if fail_at is not None:
        fail_at("stored")
    item = CaptureItem(
        sha256=sha256,
        size=size,
        camera_id=camera,
        recorded_start=start,
        media=MediaFacts(
            info.container,
            info.codec,
            info.frame_count,
            info.fps,
            info.duration_s,
            info.width,
            info.height,
        ),
        source_name=path.name,
    )
    return ledger.record_capture(item, actor=actor)
