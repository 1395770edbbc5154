"""Redact footage for export: blur faces and operator regions, burn in case and time.

Face DETECTION only, never recognition (R19): the bundled OpenCV Haar cascades
(``haarcascade_frontalface_default.xml`` and ``haarcascade_profileface.xml``, the profile
one also on the mirrored frame to catch faces turned the other way) find face-shaped
boxes so bystanders can be blurred. Nothing identifies, compares or remembers a face.

Detection runs on a downscaled grey copy every ``detect_every`` frames; each frame is
blurred with the union of the detections within ``detect_every`` frames either side, so a
face missed on one frame or moving between detections stays covered. Blurring is
pixelation (blocks of at least 8 px, >= 8 blocks across the box), which unlike a light
Gaussian cannot be sharpened back. Every parameter is returned in
:class:`RedactionResult` for the chain-of-custody record (R18).
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from capture.errors import CascadeMissing, FrameOutOfRange, NotDecodable, WriteFailed
from ledger import sitetime

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels
FRONTAL = "haarcascade_frontalface_default.xml"
PROFILE = "haarcascade_profileface.xml"
_FOURCC_BY_SUFFIX = {".mp4": "mp4v", ".avi": "MJPG"}


@dataclass(frozen=True)
class DetectionParameters:
    cascades: tuple[str, ...] = (FRONTAL, PROFILE, PROFILE + " (mirrored)")
    scale_factor: float = 1.2
    min_neighbors: int = 4
    min_size: int = 20  # px, in the downscaled detection image
    detect_width: int = 640  # frames wider than this are downscaled for detection
    detect_every: int = 2
    padding: float = 0.25  # each side, as a fraction of the box size
    opencv_version: str = cv2.__version__


@dataclass(frozen=True)
class RedactionResult:
    """What was done, for the export's chain-of-custody record (R18)."""

    source: Path
    output: Path
    source_sha256: str
    output_sha256: str
    frames: int
    fps: float
    faces_blurred: int  # face areas blurred (overlapping boxes merged), summed over frames
    frames_with_faces: int
    blur_faces: bool
    regions: tuple[Box, ...]
    caption: str
    start: datetime | None
    caption_zone: str = "UTC"  # the zone of the burned-in time (the site's, R24)
    method: str = "pixelate"
    detection: DetectionParameters = field(default_factory=DetectionParameters)

    def to_record(self) -> dict[str, Any]:
        """Plain JSON-ready dict (paths and times as strings)."""
        out = asdict(self)
        out["source"], out["output"] = str(self.source), str(self.output)
        out["start"] = self.start.isoformat() if self.start else None
        out["regions"] = [list(r) for r in self.regions]
        out["detection"]["cascades"] = list(self.detection.cascades)
        return out


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        raise CascadeMissing(
            f"{path}: bundled Haar cascade missing or unreadable; reinstall "
            "opencv-python-headless<5 (OpenCV 5 wheels dropped the cascades)."
        )
    return classifier


def detect_faces(frame: np.ndarray, params: DetectionParameters | None = None) -> list[Box]:
    """Face boxes (x, y, w, h, unpadded) in a BGR or grey frame. Detection only (R19)."""
    p = params or DetectionParameters()
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    scale = min(1.0, p.detect_width / w)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    kw = {"scaleFactor": p.scale_factor, "minNeighbors": p.min_neighbors}
    kw["minSize"] = (p.min_size, p.min_size)
    found: list[Box] = [tuple(b) for b in _cascade(FRONTAL).detectMultiScale(grey, **kw)]
    found += [tuple(b) for b in _cascade(PROFILE).detectMultiScale(grey, **kw)]
    gw = grey.shape[1]
    for x, y, bw, bh in _cascade(PROFILE).detectMultiScale(cv2.flip(grey, 1), **kw):
        found.append((gw - x - bw, y, bw, bh))
    return [tuple(round(v / scale) for v in box) for box in found]  # type: ignore[misc]


def merge_boxes(boxes: list[Box]) -> list[Box]:
    """Replace overlapping boxes by their bounding box until none overlap."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if (
                    a[0] < b[0] + b[2]
                    and b[0] < a[0] + a[2]
                    and a[1] < b[1] + b[3]
                    and b[1] < a[1] + a[3]
                ):
                    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                    x1 = max(a[0] + a[2], b[0] + b[2])
                    y1 = max(a[1] + a[3], b[1] + b[3])
                    merged[i] = (x0, y0, x1 - x0, y1 - y0)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return sorted(merged)


def _pad(box: Box, padding: float) -> Box:
    x, y, w, h = box
    px, py = round(w * padding), round(h * padding)
    return (x - px, y - py, w + 2 * px, h + 2 * py)


def pixelate(frame: np.ndarray, box: Box, padding: float = 0.0) -> None:
    """Pixelate ``box`` (grown by ``padding`` on each side) in place."""
    x, y, w, h = box
    px, py = round(w * padding), round(h * padding)
    fh, fw = frame.shape[:2]
    x0, y0 = max(0, x - px), max(0, y - py)
    x1, y1 = min(fw, x + w + px), min(fh, y + h + py)
    if x1 <= x0 or y1 <= y0:
        return
    roi = frame[y0:y1, x0:x1]
    block = max(8, min(x1 - x0, y1 - y0) // 8)
    small = cv2.resize(
        roi,
        (max(1, (x1 - x0) // block), max(1, (y1 - y0) // block)),
        interpolation=cv2.INTER_AREA,
    )
    frame[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)


def redact_clip(
    src: Path,
    dst: Path,
    *,
    blur_faces: bool,
    regions: list[tuple[int, int, int, int]],
    caption: str,
    start: datetime | None,
    zone: ZoneInfo = sitetime.UTC_ZONE,
    params: DetectionParameters | None = None,
) -> RedactionResult:
    """Write a redacted copy of ``src`` to ``dst`` (.mp4 mp4v or .avi MJPG).

    ``regions`` are operator boxes (x, y, w, h) blurred on every frame. ``caption`` (e.g. the
    case number) and the frame's time are burned into every frame: ``start + i / fps`` in
    ``zone`` (the site's) with its label (R24), or the offset from the start of the clip
    when ``start`` is unknown.
    """
    p = params or DetectionParameters()
    src, dst = Path(src), Path(dst)
    fourcc = _FOURCC_BY_SUFFIX.get(dst.suffix.lower())
    if fourcc is None:
        raise WriteFailed(f"{dst}: redacted clips are written as .mp4 or .avi; rename the target.")
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise NotDecodable(f"{src}: OpenCV cannot open the video; probe it before redacting.")
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 10.0
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        cap.release()
        raise WriteFailed(f"{dst}: OpenCV could not open a {fourcc} writer; check the path.")
    every = max(1, p.detect_every)
    pending: deque[tuple[int, np.ndarray]] = deque()
    detections: dict[int, list[Box]] = {}
    stats = {"frames": 0, "faces": 0, "frames_with_faces": 0}

    def emit(index: int, frame: np.ndarray) -> None:
        found: list[Box] = []
        if blur_faces:
            for k in range(index - every, index + every + 1):
                found += detections.get(k, [])
            for k in [k for k in detections if k < index - every]:
                del detections[k]
        boxes = merge_boxes([_pad(b, p.padding) for b in found])
        for box in boxes:
            pixelate(frame, box)
        for region in regions:
            pixelate(frame, region)
        stats["faces"] += len(boxes)
        stats["frames_with_faces"] += bool(boxes)
        _burn_in(frame, caption, frame_time(start, index, fps, zone))
        writer.write(frame)
        stats["frames"] += 1

    try:
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if blur_faces and index % every == 0:
                detections[index] = detect_faces(frame, p)
                while pending and pending[0][0] + every <= index:
                    emit(*pending.popleft())
            pending.append((index, frame))
            index += 1
        while pending:
            emit(*pending.popleft())
    finally:
        cap.release()
        writer.release()
    if stats["frames"] == 0:
        dst.unlink(missing_ok=True)
        raise NotDecodable(f"{src}: no frame decodes; nothing to redact.")
    return RedactionResult(
        source=src,
        output=dst,
        source_sha256=_sha256(src),
        output_sha256=_sha256(dst),
        frames=stats["frames"],
        fps=fps,
        faces_blurred=stats["faces"],
        frames_with_faces=stats["frames_with_faces"],
        blur_faces=blur_faces,
        regions=tuple(tuple(r) for r in regions),  # type: ignore[misc]
        caption=caption,
        start=start,
        caption_zone=zone.key,
        detection=p,
    )


def extract_frame(src: Path, at_seconds: float, out_png: Path, *, name: str = "") -> Path:
    """Save the frame shown at ``at_seconds`` into the clip as a PNG (lossless) still.

    ``name`` is what messages call the clip (``segment 34c20c33a713``) when ``src`` is a
    temporary copy whose path means nothing to the reader."""
    src, out_png = Path(src), Path(out_png)
    what = name or str(src)
    cap = cv2.VideoCapture(str(src))
    try:
        if not cap.isOpened():
            raise NotDecodable(f"{what}: OpenCV cannot open the video; probe it first.")
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 0.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        index = int(at_seconds * fps + 1e-9)
        if at_seconds < 0 or fps <= 0 or (count > 0 and index >= count):
            raise FrameOutOfRange(
                f"{what}: {at_seconds:g} s is outside the clip (0 to "
                f"{count / fps if fps else 0:g} s); choose a time inside it."
            )
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        if not ok:
            raise FrameOutOfRange(f"{what}: frame {index} ({at_seconds:g} s) does not decode.")
    finally:
        cap.release()
    if not cv2.imwrite(str(out_png), frame):
        raise WriteFailed(f"{out_png}: could not write the PNG; check the path and extension.")
    return out_png


def frame_time(start: datetime | None, index: int, fps: float, zone: ZoneInfo) -> str:
    offset = timedelta(seconds=index / fps)
    if start is None:
        return f"t+{offset.total_seconds():09.3f}s (start unknown)"
    return sitetime.show_stamp(start + offset, zone)


@dataclass(frozen=True)
class Label:
    """One burned-in text: its baseline origin, size and the box drawn behind it."""

    text: str
    x: int
    y: int  # baseline
    scale: float
    thickness: int
    box: Box  # x, y, w, h of the black backing


CAPTION_FONT = cv2.FONT_HERSHEY_SIMPLEX


def caption_layout(width: int, height: int, caption: str, stamp: str) -> list[Label]:
    """Where the case caption and the time go on a frame of this size.

    The text scales with the frame's height (readable on 320x240, not huge on 1080p) and
    never with less room than it needs: side by side in the top band when both fit, else
    the caption at the top and the time at the bottom, each shrunk to the frame's width.
    """
    margin, pad = max(4, round(height * 0.02)), 3
    texts = [(t, right) for t, right in ((caption, False), (stamp, True)) if t]
    if not texts:
        return []
    room = width - 2 * margin - 2 * pad
    scale = min(max(0.4, height / 700), 2.0)
    widest = max(cv2.getTextSize(t, CAPTION_FONT, 1.0, 1)[0][0] for t, _ in texts)
    scale = min(scale, room / widest)  # a long case number on a tiny frame: smaller, whole
    thick = max(1, round(scale * 1.5))
    sizes = [cv2.getTextSize(t, CAPTION_FONT, scale, thick) for t, _ in texts]
    together = sum(w for (w, _), _ in sizes) + 4 * pad + 3 * margin <= width
    labels = []
    for n, ((text, right), ((tw, th), base)) in enumerate(zip(texts, sizes, strict=True)):
        x = width - margin - pad - tw if right else margin + pad
        if n > 0 and not together:
            y = height - margin - pad - base  # no room beside the caption: the bottom band
        else:
            y = margin + pad + th
        box = (x - pad, y - th - pad, tw + 2 * pad, th + base + 2 * pad)
        labels.append(Label(text, x, y, scale, thick, box))
    return labels


def _burn_in(frame: np.ndarray, caption: str, stamp: str) -> None:
    h, w = frame.shape[:2]
    for label in caption_layout(w, h, caption, stamp):
        x, y, bw, bh = label.box
        cv2.rectangle(frame, (x, y), (x + bw, y + bh), (0, 0, 0), -1)
        cv2.putText(
            frame,
            label.text,
            (label.x, label.y),
            CAPTION_FONT,
            label.scale,
            (255, 255, 255),
            label.thickness,
            cv2.LINE_AA,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
