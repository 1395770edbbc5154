"""Viewing footage (R16, R16a): check, decrypt a copy (or a still), then record the viewing.

The policy check comes first and a refused attempt is recorded. The decrypted copy is
written next and the ``FootageViewed`` event recorded only once it exists; if recording
fails the copy is removed again, so no one holds a copy the access log does not show.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from capture.errors import WriteFailed
from capture.ingest import open_vault
from capture.redact import extract_frame
from ledger.app import Ledger
from ledger.errors import InvalidInput


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
) -> ViewResult:
    now = ledger.clock()
    permit = ledger.check_viewing(segment_id, reason=reason, purpose=purpose, actor=actor)
    seg = permit.segment
    suffix = _suffix(seg.media)
    target = (
        Path(out) if out else viewing_dir(ledger) / f"{seg.segment_id}-{now:%Y%m%dT%H%M%SZ}{suffix}"
    )
    if target.exists():
        raise InvalidInput(f"{target} exists already; choose another --out FILE")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a folder; choose another --out FILE")
    open_vault(ledger).decrypt_to(seg.sha256, target)
    try:
        os.chmod(target, 0o600)
        ledger.record_viewing(permit, kind="view", remote=remote)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return ViewResult(seg.segment_id, target, permit.archived)


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
) -> ViewResult:
    permit = ledger.check_viewing(segment_id, reason=reason, purpose=purpose, actor=actor)
    seg = permit.segment
    out_png = Path(out_png)
    if out_png.suffix.lower() != ".png":
        raise InvalidInput(f"{out_png}: a still is written as PNG; end the name in .png")
    if out_png.exists():
        raise InvalidInput(f"{out_png} exists already; choose another --out FILE")
    clip = viewing_dir(ledger) / f".frame-{uuid.uuid4().hex}{_suffix(seg.media)}"
    try:
        open_vault(ledger).decrypt_to(seg.sha256, clip)
        extract_frame(clip, at_seconds, out_png, name=f"segment {seg.segment_id}")
    finally:
        clip.unlink(missing_ok=True)
    if not out_png.exists():
        raise WriteFailed(f"{out_png}: the still was not written; check the folder")
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
