"""Probe a footage file: is it video we may keep, and what is in it?

PyAV looks at the container (streams, audio, ``creation_time`` tag); OpenCV proves that a
frame decodes and reports frame count and frame rate. :func:`probe` refuses, in this order:

* :class:`~capture.errors.FootageNotFound` -- no such file;
* :class:`~capture.errors.NotVideo` -- not a video container (text, image, audio only);
* :class:`~capture.errors.AudioPresent` -- any audio stream (policy V-B, rule R12);
* :class:`~capture.errors.NotDecodable` -- no frame decodes (corrupt, truncated);
* :class:`~capture.errors.EmptyVideo` -- zero frames or zero duration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import cv2

from capture.errors import AudioPresent, EmptyVideo, FootageNotFound, NotDecodable, NotVideo

# FFmpeg demuxers that read still images (or text) rather than video.
_IMAGE_FORMATS = {"image2", "gif", "apng", "webp", "tty", "bmp", "ico", "tiff"}

AUDIO_RULE = "R12 (policy V-B): no audio recording; 720 ILCS 5/14-2"


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`probe` found. ``creation_time`` is the container tag, UTC, if present."""

    path: Path
    container: str
    codec: str
    frame_count: int
    fps: float
    duration_s: float
    width: int
    height: int
    has_audio: bool
    creation_time: datetime | None
    payload_bytes: int = 0  # the video stream's own bytes (what its packets hold)


def probe(path: Path, *, refuse_audio: bool = True, decode_all: bool = False) -> MediaInfo:
    """Probe ``path`` and return its :class:`MediaInfo`, or raise a ``CaptureError``.

    ``decode_all=True`` counts frames by decoding every one (slower; also catches damage in
    the middle of a file). Otherwise the container's frame count is used once the frame it
    claims is last decodes too; if it does not (a truncated file whose index promises more)
    or the container has no count (e.g. MPEG-TS), frames are counted by decoding.
    ``refuse_audio=False`` reports ``has_audio`` instead of raising (for diagnostics only;
    such a file must never be ingested).
    """
    path = Path(path)
    if not path.is_file():
        raise FootageNotFound(f"{path}: no such file; check the path (and that it is a file).")
    container, codec, has_audio, creation_time, indexed, payload = _container_facts(path)
    if has_audio and refuse_audio:
        raise AudioPresent(
            f"{path}: refused under {AUDIO_RULE}. The file carries an audio stream; turn audio "
            "off on the camera/recorder and export the segment again. Nothing was ingested."
        )
    try:
        frame_count, fps, width, height = _decode_facts(path, decode_all=decode_all)
    except NotDecodable:
        if indexed == 0:
            raise EmptyVideo(
                f"{path}: the video stream holds no frames (no footage); re-export the "
                "segment from the recorder."
            ) from None
        raise
    duration_s = frame_count / fps if fps > 0 else 0.0
    if frame_count <= 0 or duration_s <= 0:
        raise EmptyVideo(
            f"{path}: the video has {frame_count} frames at {fps:g} fps (no footage); "
            "re-export the segment from the recorder."
        )
    return MediaInfo(
        path=path,
        container=container,
        codec=codec,
        frame_count=frame_count,
        fps=fps,
        duration_s=duration_s,
        width=width,
        height=height,
        has_audio=has_audio,
        creation_time=creation_time,
        payload_bytes=payload,
    )


def _container_facts(path: Path) -> tuple[str, str, bool, datetime | None, int, int]:
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise NotVideo(
            f"{path}: not a readable video container ({exc.__class__.__name__}); it may be "
            "another kind of file or truncated. Export the segment again from the recorder."
        ) from exc
    with container:
        fmt = container.format.name
        if fmt in _IMAGE_FORMATS or fmt.endswith("_pipe"):
            raise NotVideo(
                f"{path}: this is a still image or text ({fmt}), not video; ingest the "
                "camera's video segment instead."
            )
        videos = list(container.streams.video)
        if not videos:
            raise NotVideo(f"{path}: the container ({fmt}) has no video stream; nothing to keep.")
        has_audio = len(container.streams.audio) > 0
        codec = videos[0].codec_context.name
        tag = container.metadata.get("creation_time") or videos[0].metadata.get("creation_time")
        indexed = int(videos[0].frames or 0)
        payload = _payload_bytes(container, videos[0])
    return fmt, codec, has_audio, _parse_creation_time(tag), indexed, payload


def _payload_bytes(container: av.container.InputContainer, video: av.video.VideoStream) -> int:
    """The bytes the video stream's packets hold: from its bit rate and duration where the
    container indexes them (MP4: sample sizes), else by reading its packets."""
    rate = int(video.bit_rate or 0)
    if rate > 0 and video.duration and video.time_base:
        return int(rate * float(video.duration * video.time_base) / 8)
    try:
        return sum(packet.size for packet in container.demux(video))
    except (av.error.FFmpegError, UnicodeDecodeError):
        return 0  # undecodable: the frame checks refuse it


def _decode_facts(path: Path, *, decode_all: bool) -> tuple[int, float, int, int]:
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise NotDecodable(
                f"{path}: OpenCV cannot open the video stream; the file is corrupt or uses an "
                "unsupported codec. Export it again from the recorder."
            )
        ok, frame = cap.read()
        if not ok or frame is None:
            raise NotDecodable(
                f"{path}: no video frame decodes (corrupt or truncated); export the segment "
                "again from the recorder."
            )
        height, width = frame.shape[:2]
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        reported = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if not decode_all and reported > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, reported - 1)
            ok, _ = cap.read()
            if ok:
                return reported, fps, width, height
            cap.set(cv2.CAP_PROP_POS_FRAMES, 1)
        elif not decode_all and reported == 1:
            return 1, fps, width, height
        count = 1
        while cap.grab():
            count += 1
    finally:
        cap.release()
    return count, fps, width, height


def _parse_creation_time(tag: str | None) -> datetime | None:
    if not tag:
        return None
    try:
        value = datetime.fromisoformat(tag.strip().replace(" ", "T"))
    except ValueError:
        return None
    if value.tzinfo is None:  # QuickTime creation_time is UTC by definition
        value = value.replace(tzinfo=UTC)
    if value.year < 1990:  # muxers write 1904/1970 epochs when the recorder set nothing
        return None
    return value.astimezone(UTC)


_NAME_TIME = re.compile(
    r"(?<!\d)(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
    r"[T_-](?P<h>\d{2})-?(?P<mi>\d{2})-?(?P<s>\d{2})Z?(?!\d)"
)


def recorded_start_from_name(filename: str) -> datetime | None:
    """Recording start encoded in a segment file name, as a UTC datetime, else ``None``.

    Recognised patterns (the first match in the name wins; all are read as UTC):

    * ISO 8601 basic: ``lobby-2_20261101T083000Z.mp4`` (``Z`` optional)
    * date-time with a dash: ``lobby-2_20261101-083000.mp4``
    * date-time with an underscore: ``lobby-2_20261101_083000.avi``
    * ISO 8601 extended with dashes instead of colons: ``lobby-2_2026-11-01T08-30-00Z.mp4``

    Names whose digits do not form a valid date and time give ``None``.
    """
    match = _NAME_TIME.search(Path(filename).name)
    if match is None:
        return None
    try:
        y, mo, d, h, mi, s = (int(match[g]) for g in ("y", "mo", "d", "h", "mi", "s"))
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None
