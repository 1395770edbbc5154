"""A clip for a browser, made in memory: decode the decrypted segment (any container the
vault holds; cameras write MPEG-4 Part 2, which browsers do not play) and encode WebM
(VP8), which Chromium and Firefox play in a <video> element. Nothing is written to disk.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av

from capture.errors import CaptureError

MAX_WIDTH = 1280


class NotPlayable(CaptureError):
    """The segment's video could not be decoded for the browser."""


def webm_of(plaintext: bytes, *, name: str = "segment") -> bytes:
    """The segment's video stream as WebM/VP8 bytes (audio is never kept, R19)."""
    out = io.BytesIO()
    try:
        with av.open(io.BytesIO(plaintext), mode="r") as source:
            if not source.streams.video:
                raise NotPlayable(f"{name} has no video stream")
            video = source.streams.video[0]
            rate = video.average_rate or Fraction(25)
            with av.open(out, mode="w", format="webm") as target:
                stream = target.add_stream("libvpx", rate=rate)
                width, height = video.codec_context.width, video.codec_context.height
                if width > MAX_WIDTH:
                    width, height = MAX_WIDTH, int(height * MAX_WIDTH / width) // 2 * 2
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuv420p"
                stream.bit_rate = 1_000_000
                stream.options = {"deadline": "realtime", "cpu-used": "8"}
                step = Fraction(1) / rate
                for index, frame in enumerate(source.decode(video)):
                    frame = frame.reformat(width=width, height=height, format="yuv420p")
                    frame.pts, frame.time_base = index, step  # the clip's own pace
                    for packet in stream.encode(frame):
                        target.mux(packet)
                for packet in stream.encode(None):
                    target.mux(packet)
    except av.FFmpegError as e:
        raise NotPlayable(f"{name} could not be made playable: {e}") from e
    return out.getvalue()
