"""Synthetic camera footage for the demo and the tests.

Clips are written with OpenCV's ``VideoWriter`` (MPEG-4 Part 2, fourcc ``mp4v``, in an
``.mp4`` container; ``MJPG`` in ``.avi`` is also supported). Every frame is a pure function
of ``(seed, frame index)``: moving shapes, a little sensor noise and a burned-in recorder
clock showing ``start + frame / fps`` -- no wall clock, so the same call writes the same
pixels.

``with_audio=True`` remuxes the video stream with PyAV and adds an AAC sine-tone stream,
producing the kind of file rule R12 (no audio recording) must refuse.
``faces=True`` paints a face-like pattern that OpenCV's bundled Haar frontal-face cascade
detects, so face blurring can be tested end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from capture.errors import WriteFailed

_FOURCC_BY_SUFFIX = {".mp4": "mp4v", ".avi": "MJPG"}


def face_patch(size: int) -> np.ndarray:
    """A grey ``size`` x ``size`` face-like patch (oval, brows, eyes, nose, mouth).

    Verified against ``haarcascade_frontalface_default.xml`` for sizes 80..200 px.
    """
    s = size
    img = np.full((s, s), 60, np.uint8)
    cv2.ellipse(img, (s // 2, s // 2), (int(s * 0.36), int(s * 0.46)), 0, 0, 360, 200, -1)
    for cx in (int(s * 0.35), int(s * 0.65)):
        cv2.ellipse(img, (cx, int(s * 0.34)), (int(s * 0.10), int(s * 0.03)), 0, 0, 360, 50, -1)
        cv2.ellipse(img, (cx, int(s * 0.42)), (int(s * 0.08), int(s * 0.04)), 0, 0, 360, 40, -1)
    cv2.ellipse(img, (s // 2, int(s * 0.60)), (int(s * 0.05), int(s * 0.03)), 0, 0, 360, 120, -1)
    cv2.ellipse(img, (s // 2, int(s * 0.74)), (int(s * 0.13), int(s * 0.035)), 0, 0, 360, 70, -1)
    return cv2.GaussianBlur(img, (0, 0), s / 60)


def face_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where :func:`render_frame` paints the face for a frame of ``size``: (x, y, w, h)."""
    w, h = size
    side = max(80, min(200, h // 3))
    return (w // 6, h // 4, side, side)


def render_frame(
    index: int,
    *,
    fps: float,
    size: tuple[int, int],
    start: datetime,
    seed: int = 0,
    faces: bool = False,
) -> np.ndarray:
    """Frame ``index`` of a synthetic clip as a BGR ``uint8`` array of shape (h, w, 3)."""
    w, h = size
    rng = np.random.default_rng((seed, index))
    frame = np.empty((h, w, 3), np.uint8)
    # A static floor gradient so the scene is not flat.
    frame[:] = np.linspace(70, 150, h, dtype=np.uint8)[:, None, None]
    frame += rng.integers(0, 12, size=(h, w, 3), dtype=np.uint8)
    t = index / fps
    phase = seed * 0.7
    cx = int(w * (0.5 + 0.4 * np.sin(t * 0.9 + phase)))
    cy = int(h * (0.55 + 0.3 * np.cos(t * 1.3 + phase)))
    cv2.circle(frame, (cx, cy), max(8, h // 12), (40, 90, 220), -1)
    rx = int((t * w / 5 + seed * 37) % w)
    cv2.rectangle(
        frame, (rx, h // 8), (min(w - 1, rx + w // 10), h // 8 + h // 6), (200, 180, 40), -1
    )
    if faces:
        x, y, side, _ = face_box(size)
        frame[y : y + side, x : x + side] = cv2.cvtColor(face_patch(side), cv2.COLOR_GRAY2BGR)
    stamp = (start + timedelta(seconds=t)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]
    scale = max(0.4, h / 720)
    cv2.putText(
        frame,
        stamp + " UTC",
        (8, h - 12),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        max(1, int(2 * scale)),
        cv2.LINE_AA,
    )
    return frame


def write_clip(
    path: Path,
    *,
    seconds: float = 4.0,
    fps: int = 10,
    size: tuple[int, int] = (640, 360),
    start: datetime,
    seed: int = 0,
    with_audio: bool = False,
    faces: bool = False,
    embed_creation_time: bool = False,
) -> Path:
    """Write a deterministic synthetic clip of ``round(seconds * fps)`` frames to ``path``.

    ``path`` must end in ``.mp4`` (mp4v) or ``.avi`` (MJPG). ``start`` must be timezone-aware.
    ``embed_creation_time=True`` (and ``with_audio=True``) remux with PyAV and store ``start``
    as the container's ``creation_time`` tag, as many recorders do. Returns ``path``.
    """
    path = Path(path)
    fourcc = _FOURCC_BY_SUFFIX.get(path.suffix.lower())
    if fourcc is None:
        raise WriteFailed(
            f"{path}: synthetic clips are written as .mp4 or .avi; rename the target."
        )
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC inside)")
    n_frames = round(seconds * fps)
    remux = with_audio or embed_creation_time
    target = path.with_name(path.stem + ".video-only" + path.suffix) if remux else path
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*fourcc), float(fps), size)
    if not writer.isOpened():
        raise WriteFailed(f"{target}: OpenCV could not open a {fourcc} writer; check the path.")
    try:
        for i in range(n_frames):
            writer.write(render_frame(i, fps=fps, size=size, start=start, seed=seed, faces=faces))
    finally:
        writer.release()
    if remux:
        try:
            _remux(target, path, start=start, tone_seconds=n_frames / fps if with_audio else 0.0)
        finally:
            target.unlink(missing_ok=True)
    return path


def _remux(
    video_only: Path, out: Path, *, start: datetime, tone_seconds: float, rate: int = 16000
) -> None:
    """Copy the video packets of ``video_only`` into ``out``, tag ``creation_time`` and,
    if ``tone_seconds`` > 0, add a 440 Hz AAC track."""
    with av.open(str(video_only)) as src, av.open(str(out), "w") as dst:
        dst.metadata["creation_time"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream("aac", rate=rate, layout="mono") if tone_seconds > 0 else None
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            dst.mux(packet)
        if aout is None:
            return
        total = int(tone_seconds * rate)
        block = 1024
        for offset in range(0, total, block):
            n = min(block, total - offset)
            t = (np.arange(offset, offset + n) / rate).astype(np.float32)
            samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = offset
            frame.time_base = Fraction(1, rate)
            for packet in aout.encode(frame):
                dst.mux(packet)
        for packet in aout.encode(None):
            dst.mux(packet)
