"""Viewing footage (R16, R16a): check, decrypt a copy (or a still), then record the viewing.

The policy check comes first and a refused attempt is recorded. The decrypted copy is
written next and the ``FootageViewed`` event recorded only once it exists; if recording
fails the copy is removed again, so no one holds a copy the access log does not show.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from pathlib import Path

from capture.ingest import open_vault
from capture.redact import extract_frame
from ledger.app import Ledger
from ledger.errors import InvalidInput
from ledger.outfiles import PRIVATE, check_destination, staged


@dataclass(frozen=True)
class ViewResult:
    segment_id: str
    path: Path
    archived: bool


def viewing_dir(ledger: Ledger) -> Path:
    assert ledger.datadir is not None
    path = ledger.datadir.path / "viewing"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def view_segment(
    ledger: Ledger,
    segment_id: str,
    *,
    reason: str,
    purpose: str,
    remote: bool,
    actor: str,
    out: Path | None = None,
    force: bool = False,
) -> ViewResult:
    """Decrypt a viewing copy (0600, never through a symbolic link, never over a file
    without ``force``), then record the viewing; if recording fails the copy goes."""
    now = ledger.clock()
    permit = ledger.check_viewing(segment_id, reason=reason, purpose=purpose, actor=actor)
    seg = permit.segment
    suffix = _suffix(seg.media)
    target = (
        Path(out) if out else viewing_dir(ledger) / f"{seg.segment_id}-{now:%Y%m%dT%H%M%SZ}{suffix}"
    )
    with staged(target, force=force, mode=PRIVATE) as tmp:
        open_vault(ledger).decrypt_to(seg.sha256, tmp)
    try:
        ledger.record_viewing(permit, kind="view", remote=remote)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return ViewResult(seg.segment_id, target, permit.archived)


def check_frame_time(at_seconds: float) -> float:
    """A time into a clip: a finite number of seconds, not negative."""
    if not math.isfinite(at_seconds) or at_seconds < 0:
        raise InvalidInput(
            f"--at {at_seconds}: give the time into the clip as seconds, a number from 0 "
            "(e.g. --at 12.5); nothing was recorded"
        )
    return at_seconds


def frame_of_segment(
    ledger: Ledger,
    segment_id: str,
    *,
    at_seconds: float,
    out_png: Path,
    reason: str,
    purpose: str,
    remote: bool,
    actor: str,
    force: bool = False,
) -> ViewResult:
    """Save one still (PNG, 0600, by the rules of ``ledger.outfiles``), then record the
    viewing; if recording fails the still goes."""
    check_frame_time(at_seconds)
    out_png = Path(out_png)
    if out_png.suffix.lower() != ".png":
        raise InvalidInput(f"{out_png}: a still is written as PNG; end the name in .png")
    check_destination(out_png, force=force)
    permit = ledger.check_viewing(segment_id, reason=reason, purpose=purpose, actor=actor)
    seg = permit.segment
    clip = viewing_dir(ledger) / f".frame-{uuid.uuid4().hex}{_suffix(seg.media)}"
    try:
        open_vault(ledger).decrypt_to(seg.sha256, clip)
        with staged(out_png, force=force, mode=PRIVATE, suffix=".png") as tmp:
            extract_frame(clip, at_seconds, tmp, name=f"segment {seg.segment_id}")
    finally:
        clip.unlink(missing_ok=True)
    try:
        ledger.record_viewing(permit, kind="frame", remote=remote, at_seconds=at_seconds)
    except BaseException:
        out_png.unlink(missing_ok=True)
        raise
    return ViewResult(seg.segment_id, out_png, permit.archived)


def _suffix(media: dict[str, object]) -> str:
    return _SUFFIX.get(str(media.get("container", "")), ".mp4")


# PyAV's container names to a file suffix OpenCV can read back.
_SUFFIX = {"avi": ".avi", "matroska,webm": ".mkv", "mpegts": ".ts"}
